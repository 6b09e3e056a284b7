"""The explainable picker: which LLM a job gets, and why.

`decide(catalog, request)` is a pure function of the catalog, the book and job
preferences and the environment (which key variables are set). The rules, in
order (seed 000): the book's override, the LLM named by the job (`--llm` /
props `llm_id`), the book's default for the job's group, then the best LLM valid
for the group under the strategy. With only a tier (seed 001): the cheapest
enabled LLM of the tier. With no book, job or tier (seed 002): the scope's
default, then enabled LLMs by priority. The fallback chain follows the chosen
LLM with the next candidates in strategy order, never climbing to a dearer tier
unless allowed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace

from llmctl.catalog.entry import LLM, Deployment, blended_cost, or_inf, quality_key, tier_rank
from llmctl.catalog.load import Catalog
from llmctl.errors import NoMatchError
from llmctl.prefs.books import OVERRIDE_GROUP
from llmctl.providers import resolve
from llmctl.selection.balancer import Balance, balance
from llmctl.selection.decision import (
    CONTEXT,
    DISABLED,
    EMBEDDINGS_ONLY,
    GONE,
    NO_CAPABILITY,
    NO_KEY,
    NOT_IN_GROUP,
    OTHER_PROVIDER,
    OTHER_TIER,
    RETIRED,
    Decision,
    Request,
    Skip,
    Step,
)

RULES = ("book_override", "job_llm", "book_default", "best_in_group", "tier", "scope_default", "priority")

# A hook that says why an LLM cannot be used right now (e.g. in cooldown), or None.
Unavailable = Callable[[LLM], "Skip | None"]
# Observed latency (seconds) of an LLM, when known; the `fastest` strategy prefers it.
Latency = Callable[[str], "float | None"]


def strategy_key(strategy: str, latency: Latency | None = None) -> Callable[[LLM], tuple]:
    """Sort key for a strategy; every key ends with the id so ties are stable."""
    if strategy == "quality":
        return quality_key
    if strategy == "cheapest":
        return lambda e: (or_inf(e.input_cost_per_mtok), or_inf(e.output_cost_per_mtok), e.id)
    if strategy == "fastest":

        def speed(e: LLM) -> tuple:
            observed = latency(e.id) if latency else None
            return (
                0 if observed is not None else 1,
                observed if observed is not None else or_inf(e.seconds_per_output_mtok),
                blended_cost(e),
                e.id,
            )

        return speed
    return lambda e: (e.priority, e.id)


def ranking(
    strategy: str, latency: Latency | None = None, prefer: tuple[str, ...] = ()
) -> Callable[[LLM], tuple]:
    """The order of candidates: the preferred providers' LLMs first (in the order given),
    each part in the strategy's order."""
    key = strategy_key(strategy, latency)
    if not prefer:
        return key
    place = {provider: n for n, provider in enumerate(prefer)}
    return lambda e: (place.get(e.provider, len(place)), *key(e))


class Picker:
    """Selection over one catalog. Keeps ranked candidate lists, so repeated picks are cheap."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        env: Mapping[str, str] | None = None,
        unavailable: Unavailable | None = None,
        latency: Latency | None = None,
    ) -> None:
        self.catalog = catalog
        self.env = os.environ if env is None else env
        self.unavailable = unavailable
        self.latency = latency

    # --- candidate pools ---------------------------------------------------------------

    def pool(
        self,
        group: str | None,
        tier: str | None,
        strategy: str,
        provider: str | None = None,
        prefer: tuple[str, ...] = (),
    ) -> tuple[LLM, ...]:
        """Enabled, unretired entries of the group (or chat entries when no group), tier and
        provider, ranked: the preferred providers' first, each part in strategy order."""
        key = ("picker-pool", group, tier, strategy, self.catalog.today, provider, prefer)
        ranked = None if self.latency else self.catalog.memo.get(key)
        if ranked is None:
            today = self.catalog.today
            members = [
                e for e in self.catalog if self._static_reason(e, group, tier, today, provider) is None
            ]
            ranked = tuple(sorted(members, key=ranking(strategy, self.latency, prefer)))
            if not self.latency:
                self.catalog.memo[key] = ranked
        return ranked

    @staticmethod
    def _static_reason(
        e: LLM, group: str | None, tier: str | None, today: str, provider: str | None = None
    ) -> Skip | None:
        if group is not None and group not in e.valid_groups:
            return Skip(NOT_IN_GROUP, f"not in group {group}")
        if group is None and not e.valid_groups and "embeddings" in e.capabilities:
            return Skip(EMBEDDINGS_ONLY, "embeddings model")
        if tier is not None and e.tier != tier:
            return Skip(OTHER_TIER, f"tier {e.tier}, not {tier}")
        if provider is not None and not serves(e, provider):
            return Skip(OTHER_PROVIDER, f"served by {e.provider}, not {provider}")
        return _state_reason(e, today)

    def reason(self, e: LLM, req: Request) -> Skip | None:
        """Why `e` cannot serve `req` right now (None when it can). Group and tier are not checked.
        An entry with deployments is usable when any of them is (`routing`)."""
        state = _state_reason(e, self.catalog.today)
        if state:
            return state
        if req.provider is not None and not serves(e, req.provider):
            return Skip(OTHER_PROVIDER, f"served by {e.provider}, not {req.provider}")
        fit = self._fit_reason(e, req)
        if fit:
            return fit
        if e.deployments:  # several ways there: balance them (the one-way case stays fast)
            return self.routing(e, req).unavailable()
        return self._reach_reason(e, req)

    def routing(self, e: LLM, req: Request) -> Balance:
        """The balancer's standing of `e`'s deployments for `req`: those of another provider
        than `--provider`, or not the one `--deployment` forces, are not eligible."""
        return balance(e, lambda llm, d: self._route_reason(llm, d, req))

    def _route_reason(self, e: LLM, d: Deployment, req: Request) -> Skip | None:
        return _excluded(e, d, req) or self._reach_reason(e.via(d), req)

    def _fit_reason(self, e: LLM, req: Request) -> Skip | None:
        """Why the model itself does not fit `req` (capabilities, context), or None."""
        for cap in req.capabilities:
            if cap not in e.capabilities:
                return Skip(NO_CAPABILITY, f"missing capability {cap}")
        context = e.context_length  # unknown: not held against the entry
        if context is not None and req.min_context and context < req.min_context:
            return Skip(CONTEXT, f"context {context} is below the {req.min_context} needed")
        if context is not None and req.prompt_tokens and context < req.prompt_tokens:
            return Skip(CONTEXT, f"context {context} is too small for a prompt of {req.prompt_tokens} tokens")
        return None

    def _reach_reason(self, e: LLM, req: Request) -> Skip | None:
        """Why `e` (one way there) cannot be reached now: cooling down, no key; or None."""
        if self.unavailable is not None:
            why = self.unavailable(e)
            if why:
                return why
        if not req.assume_available:
            missing = resolve.why_unusable(e, self.catalog.config.providers, self.env)
            if missing:
                return Skip(NO_KEY, missing)
        return None

    # --- the decision -------------------------------------------------------------------------

    def decide(self, req: Request, *, explain: bool = False) -> Decision:
        """Apply the rules; return the Decision. Raises UnknownNameError (exit 2) for an unknown
        LLM named on the command line and NoMatchError (exit 4) when nothing fits."""
        trace: list[Step] = []
        warnings: list[str] = []
        passed: list[tuple[str, Skip]] = []
        named = self.catalog.get(req.llm) if req.llm else None  # unknown: exit 2, before anything
        strategy = req.strategy or self._default_strategy(req)
        chosen = self._pinned(req, named, trace, warnings, passed)
        rule = chosen[1] if chosen else None
        pool = self.pool(req.group, req.tier, strategy, req.provider, req.prefer_providers)
        rank = ranking(strategy, self.latency, req.prefer_providers)
        entry = chosen[0] if chosen else None
        if entry is None:
            found = self._from_pool(req, pool, strategy, trace, warnings, passed)
            if found is None:
                # Nothing fits: the partial decision still explains why (for --explain/--json).
                candidates = self.candidates(req) if explain else None
                partial = Decision(None, None, req, strategy, [], trace, warnings, candidates, passed, rank)
                raise self._no_match(req, pool, partial)
            entry, rule = found
        else:
            trace.append(Step(self._pool_rule(req), False, f"not needed: {rule} chose {entry.id}"))
        if entry.deprecated:
            warnings.append(deprecation_warning(entry))
        chain = [restricted(e, req) for e in self._chain(entry, pool, req)]
        decision = Decision(entry, rule, req, strategy, chain, trace, warnings, passed_over=passed, rank=rank)
        if explain:
            decision.candidates = self.candidates(req)
            decision.routes = self.routing(entry, req)
        return decision

    def _default_strategy(self, req: Request) -> str:
        if req.group is not None:
            return self.catalog.config.strategy
        if req.tier is not None:
            return "cheapest"
        return "priority"

    @staticmethod
    def _pool_rule(req: Request) -> str:
        if req.group is not None:
            return "best_in_group"
        return "tier" if req.tier is not None else "priority"

    def _pinned(
        self,
        req: Request,
        named: LLM | None,
        trace: list[Step],
        warnings: list[str],
        passed: list[tuple[str, Skip]],
    ) -> tuple[LLM, str] | None:
        book = req.book
        book_src = f"book file {book.path}" if book and book.exists else None
        steps: list[tuple[str, str | None, str | None, str | None]] = [
            ("book_override", book.override if book else None, OVERRIDE_GROUP, book_src),
            ("job_llm", named.id if named else None, req.group, req.sources.get("llm") if named else None),
            (
                "book_default",
                book.defaults.get(req.group) if book and req.group else None,
                req.group,
                book_src,
            ),
        ]
        for rule, llm_id, group, source in steps:
            if llm_id is None:
                trace.append(Step(rule, False, _why_not(rule, req), source=source))
                continue
            entry = self._named(llm_id)
            why = self._pin_reason(entry, group, req)
            if entry is None or why is not None:
                why = why or Skip(GONE, "no longer in the catalog")
                trace.append(Step(rule, False, f"{llm_id} skipped: {why}", llm_id, source))
                warnings.append(f"{rule.replace('_', ' ')} {llm_id} skipped: {why}")
                passed.append((llm_id, why))
                continue
            trace.append(Step(rule, True, f"{entry.id} ({_origin(entry)})", entry.id, source))
            for later in RULES[RULES.index(rule) + 1 : 3]:
                trace.append(Step(later, False, f"not needed: {rule} chose {entry.id}"))
            return entry, rule
        return None

    def _named(self, name: str) -> LLM | None:
        """The entry a file names by its exact id or alias, or None (a name written in a
        book or config.toml is taken as written; a name typed on the command line goes
        through `Catalog.resolve_id`, which also forgives case and a bare model name)."""
        entries = self.catalog.entries
        return entries.get(name) or entries.get(self.catalog.aliases.get(name, ""))

    def _pin_reason(self, entry: LLM | None, group: str | None, req: Request) -> Skip | None:
        """Why a pinned LLM (the book's override or default, the job's own) cannot serve."""
        if entry is None:
            return Skip(GONE, "named in the book file but no longer in the catalog")
        if group and group not in entry.valid_groups:
            return Skip(NOT_IN_GROUP, f"not valid for group {group}")
        return self.reason(entry, req)

    def _from_pool(
        self,
        req: Request,
        pool: tuple[LLM, ...],
        strategy: str,
        trace: list[Step],
        warnings: list[str],
        passed: list[tuple[str, Skip]],
    ) -> tuple[LLM, str] | None:
        """The best usable LLM of the pool and the rule that chose it; None when none fits."""
        if req.group is None and req.tier is None:
            default = self._scope_default(req, trace, warnings, passed)
            if default is not None:
                return default, "scope_default"
        rule = self._pool_rule(req)
        for entry in pool:
            why = self.reason(entry, req)
            if why is None:
                note = f"{entry.id}: best available of {len(pool)} by {strategy}"
                trace.append(Step(rule, True, note, entry.id, _origin(entry)))
                return entry, rule
            if len(passed) < req.max_attempts and (why.kind == NO_KEY or why.runtime):
                passed.append((entry.id, why))
        return None

    def _no_match(self, req: Request, pool: tuple[LLM, ...], partial: Decision) -> NoMatchError:
        reasons = [self.reason(e, req) for e in pool]
        return NoMatchError(
            self._nothing_fits(req, pool, reasons),
            hint=self._no_match_hint(pool, reasons),
            decision=partial,
            # Any of them fits but is failing right now (cooldown, rate limit): healthy
            # providers would have answered, so this is a run-time failure (exit 1), not 4.
            runtime=any(why is not None and why.runtime for why in reasons),
        )

    def _scope_default(
        self, req: Request, trace: list[Step], warnings: list[str], passed: list[tuple[str, Skip]]
    ) -> LLM | None:
        """Seed 002: the scope's default LLM, when it is set and usable."""
        default_id = self.catalog.config.defaults.get(req.scope)
        if not default_id:
            trace.append(Step("scope_default", False, f"scope {req.scope!r} has no default"))
            return None
        source = f"config.toml [defaults] {req.scope}"
        default = self._named(default_id)
        why = Skip(GONE, "no longer in the catalog") if default is None else self.reason(default, req)
        if why is None and default is not None:
            trace.append(
                Step("scope_default", True, f"{default.id} ({_origin(default)})", default.id, source)
            )
            return default
        why = why or Skip(GONE, "no longer in the catalog")  # (default is None: said above)
        warnings.append(f"scope default {default_id} skipped: {why}")
        passed.append((default_id, why))
        trace.append(Step("scope_default", False, f"{default_id} skipped: {why}", default_id, source))
        return None

    def _chain(self, chosen: LLM, pool: tuple[LLM, ...], req: Request) -> list[LLM]:
        chain = [chosen]
        ceiling = tier_rank(chosen.tier)
        for entry in pool:
            if len(chain) >= req.max_attempts:
                break
            if entry is chosen or (not req.allow_upgrade and tier_rank(entry.tier) > ceiling):
                continue
            if self.reason(entry, req) is None:
                chain.append(entry)
        return chain

    def candidates(self, req: Request) -> list[tuple[LLM, Skip | None]]:
        """Every catalog entry with the reason it was skipped for `req` (None: eligible)."""
        today = self.catalog.today
        out = []
        for e in self.catalog:
            why = self._static_reason(e, req.group, req.tier, today, req.provider) or self.reason(e, req)
            out.append((e, why))
        return out

    @staticmethod
    def _no_match_hint(pool: tuple[LLM, ...], reasons: list[Skip | None]) -> str:
        no_key = any(why is not None and why.kind == NO_KEY for why in reasons)
        if any(why is not None and why.runtime for why in reasons):
            wait = "wait for the cooldown to end (`llmctl cooldown list`)"
            return wait + (
                ", or set the key env var of another provider"
                if no_key
                else ", or see `llmctl pick --explain`"
            )
        if no_key:
            return "set the key env var of a provider, or plan with --assume-available"
        if not pool:
            return "`llmctl list --all` shows every LLM; enable one, or add the group to one (`llmctl edit`)"
        return "relax the job's tier, capabilities or context needs, or `llmctl pick --explain` for details"

    @staticmethod
    def _nothing_fits(req: Request, pool: tuple[LLM, ...], reasons: list[Skip | None]) -> str:
        what = f"group {req.group}" if req.group else (f"tier {req.tier}" if req.tier else "the request")
        if req.group and req.tier:
            what += f" in tier {req.tier}"
        if not pool:
            return f"no enabled LLM is valid for {what}"
        counts: dict[str, int] = {}
        for why in reasons:
            key = _category(why)
            counts[key] = counts.get(key, 0) + 1
        summary = ", ".join(f"{n} {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1])[:4])
        return f"no LLM fits {what}: {len(pool)} candidates, all skipped ({summary})"


def _excluded(e: LLM, d: Deployment, req: Request) -> Skip | None:
    """Why `--provider` or `--deployment` leave deployment `d` of `e` out, or None."""
    if req.provider is not None and d.provider != req.provider:
        return Skip(OTHER_PROVIDER, f"served by {d.provider}, not {req.provider}")
    if req.deployment is not None and req.deployment[0] == e.id and d.id != req.deployment[1]:
        return Skip(OTHER_PROVIDER, f"not --deployment {req.deployment[1]}")
    return None


def restricted(e: LLM, req: Request) -> LLM:
    """`e` with only the deployments `--provider` and `--deployment` leave (the ones sent
    through); `e` itself when they leave every one."""
    if not e.deployments or (req.provider is None and req.deployment is None):
        return e
    kept = [d for d in e.deployments if _excluded(e, d, req) is None]
    if not kept or len(kept) == len(e.deployments):
        return e
    return replace(e, provider=kept[0].provider, deployments=kept)


def serves(e: LLM, provider: str) -> bool:
    """True when `provider` serves `e` by any of its deployments."""
    return e.provider == provider or any(d.provider == provider for d in e.deployments)


def _category(why: Skip | None) -> str:
    """Group similar skip reasons for a summary line."""
    if why is None:
        return ""
    if why.kind == CONTEXT:
        return "context too small"
    if why.runtime:
        return "in cooldown"
    if why.kind == RETIRED:
        return "retired"
    return why.message


def _state_reason(e: LLM, today: str) -> Skip | None:
    if not e.enabled:
        return Skip(DISABLED, "disabled")
    if e.retired(today):
        replacement = f"; use {e.replacement}" if e.replacement else ""
        return Skip(RETIRED, f"retired on {e.deprecation_date}{replacement}")
    return None


def deprecation_warning(e: LLM) -> str:
    """What picking a deprecated entry warns: the retirement date when one is set (so a
    model retiring within days is never a surprise), and its replacement."""
    when = f" and retires on {e.deprecation_date}" if e.deprecation_date else ""
    return f"{e.id} is deprecated{when}" + (f"; its replacement is {e.replacement}" if e.replacement else "")


def _origin(e: LLM) -> str:
    if e.patched:
        return f"{e.origin}, patched by user catalog: {', '.join(e.patched)}"
    return e.origin


def _why_not(rule: str, req: Request) -> str:
    if rule == "job_llm":
        return "no LLM named by the job (--llm or prop llm_id)"
    if req.book is None:
        return "no book given"
    if rule == "book_override":
        return f"book {req.book.name} sets no override"
    if req.group is None:
        return "no group: the job and --group name none"
    return f"book {req.book.name} sets no default for {req.group}"
