"""The balancer: once the picker has chosen an LLM, which of its deployments serves the
request, and in what order the others are tried after a failure.

Pure: what only the engine knows (is the key set, is the deployment cooling down or at
its rate limit, how fast it answered lately) comes in as a callback and as data, and
randomness as a `random.Random` the caller seeds (`--seed`).

The rules ("Deployments" in PRODUCT.md):
- a disabled deployment, or one the callback names a reason for, is not eligible;
- of the eligible ones, those of the lowest `order` serve; later order groups are standby;
- within the serving group, weight-0 deployments are standby, used only when no
  deployment of positive weight is eligible there (then they share equally);
- the strategy picks the front: `weighted` (every one; share = weight over the sum of the
  eligible weights, so list order and the state of the others never change the ratios),
  `cheapest` (the lowest price, its own else the entry's; ties share by weight), `latency`
  (the deployments with fewer than MIN_SAMPLES observations first, else the lowest median
  time to first token; ties share by weight). The rest of the group follows, best first.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from llmctl.catalog.entry import LLM, Deployment
from llmctl.selection.decision import COOLDOWN, DISABLED, NO_KEY, Skip

STRATEGIES = ("weighted", "cheapest", "latency")
DEFAULT_STRATEGY = "weighted"
MIN_SAMPLES = 3  # a deployment observed fewer times is tried first (`latency`)

# A deployment's state in a balance; the ones not eligible take the kind of their Skip.
ELIGIBLE = "eligible"  # in the front: it gets a share of the requests
FALLBACK = "fallback"  # eligible, tried after the front (`cheapest`, `latency`)
STANDBY = "standby"  # eligible, weight 0 or of a later order group
RATE_LIMITED = "rate_limited"  # a Skip kind for the callback: at its rate limit now
# Reasons that pass with time: an LLM none of whose deployments is eligible for one of
# these is "failing right now", not "nothing fits".
_PASSING = (COOLDOWN, RATE_LIMITED)

# Why a deployment of an LLM cannot be used right now (no key, cooling, rate-limited), or None.
Blocked = Callable[[LLM, Deployment], "Skip | None"]


@dataclass(frozen=True, slots=True)
class Observed:
    """What the usage store saw of a deployment lately: the median time to first token
    (seconds; None when unknown) over `samples` answers."""

    median: float | None
    samples: int


@dataclass(slots=True)
class Option:
    """One deployment's standing: its state, its share of the requests (0 unless in the
    front) and the reason shown (`67%`, `standby (order 2)`, `cooling until 12:04:10 (429)`)."""

    deployment: Deployment
    state: str
    share: float = 0.0
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        """The `pick --json` shape: `{"id", "provider", "share", "state", "reason"}`."""
        d = self.deployment
        return {
            "id": d.id,
            "provider": d.provider,
            "share": self.share,
            "state": self.state,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Balance:
    """The balancer's answer for one LLM: every deployment with its state (in the entry's
    order), and the tiers the failover order is drawn from (the front first)."""

    llm: LLM
    strategy: str
    options: list[Option]
    tiers: list[list[Deployment]]

    @property
    def available(self) -> bool:
        """True when at least one deployment is eligible."""
        return bool(self.tiers)

    def failover(self, rng: random.Random) -> list[Deployment]:
        """The order to try the eligible deployments in for one run: within each tier a
        draw by weight without replacement (equal chances when all weigh 0), the tiers in
        turn. A tier is drawn from in id order, so one seed gives one order whatever the
        list order."""
        out: list[Deployment] = []
        for tier in self.tiers:
            left = sorted(tier, key=lambda d: d.id)
            while left:
                out.append(left.pop(_draw(left, rng)))
        return out

    def explain(self) -> str:
        """One line: `openai 67% · openrouter 33% · azure standby (order 2) · groq cooling
        until 12:04:10 (429)`."""
        return " · ".join(f"{o.deployment.id} {o.reason}" for o in self.options)

    def unavailable(self) -> Skip | None:
        """None when a deployment is eligible; else why the LLM cannot be used: a cooldown
        when one of its deployments will come back by itself (exit 1), else no key or
        disabled (nothing fits, exit 4), with every deployment's reason."""
        if self.tiers:
            return None
        kinds = {o.state for o in self.options}
        kind = COOLDOWN if kinds & set(_PASSING) else NO_KEY if NO_KEY in kinds else DISABLED
        return Skip(kind, "no deployment usable: " + self.explain())

    def to_dicts(self) -> list[dict[str, object]]:
        """`pick --json`'s `deployments`."""
        return [o.to_dict() for o in self.options]


def balance(
    llm: LLM,
    blocked: Blocked | None = None,
    *,
    strategy: str = DEFAULT_STRATEGY,
    observed: Mapping[str, Observed] | None = None,
) -> Balance:
    """Return the balance of `llm`'s deployments: states, shares and failover tiers.

    `blocked(llm, deployment)` says why a deployment cannot be used now (None: it can);
    `observed` maps deployment ids to their latency figures (`latency` strategy).
    Raises ValueError for an unknown strategy (callers check names first)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown balance strategy {strategy!r}")
    options = [_screen(llm, d, blocked) for d in llm.routes()]
    if len(options) == 1:  # most entries: one way there, nothing to share (kept fast for `pick`)
        only = options[0]
        if only.state != ELIGIBLE:
            return Balance(llm, strategy, options, [])
        only.share, only.reason = 1.0, "100%"
        return Balance(llm, strategy, options, [[only.deployment]])
    by_id = {o.deployment.id: o for o in options}
    eligible = [o.deployment for o in options if o.state == ELIGIBLE]
    tiers: list[list[Deployment]] = []
    for n, order in enumerate(sorted({d.order for d in eligible})):
        group = [d for d in eligible if d.order == order]
        live = [d for d in group if d.weight > 0] or group
        idle = [d for d in group if d.weight == 0] if len(live) < len(group) else []
        ranked = _rank(llm, live, strategy, observed or {})
        if n == 0:
            _share_front(by_id, ranked, llm, strategy, observed or {})
            for d in idle:
                _set(by_id[d.id], STANDBY, "standby (weight 0)")
        else:
            for d in group:
                _set(by_id[d.id], STANDBY, f"standby (order {order})")
        tiers.extend(ranked)
        tiers.extend([d] for d in idle)  # weight 0: one by one, in list order
    return Balance(llm, strategy, options, tiers)


def _set(option: Option, state: str, reason: str, share: float = 0.0) -> None:
    option.state, option.reason, option.share = state, reason, share


def _screen(llm: LLM, d: Deployment, blocked: Blocked | None) -> Option:
    """The deployment's standing before the strategy: eligible, or why not."""
    if not d.enabled:
        return Option(d, DISABLED, reason="disabled")
    why = blocked(llm, d) if blocked is not None else None
    if why is not None:
        return Option(d, why.kind, reason=why.message)
    return Option(d, ELIGIBLE)


def _rank(
    llm: LLM, live: list[Deployment], strategy: str, observed: Mapping[str, Observed]
) -> list[list[Deployment]]:
    """The serving group's deployments as tiers, best first: one tier for `weighted`; by
    price for `cheapest`; the under-observed, then by median latency, for `latency`."""
    if strategy == "weighted":
        return [live]
    if strategy == "cheapest":
        return _tiers(live, lambda d: price(llm, d))
    return _tiers(live, lambda d: _latency_key(observed.get(d.id)))


def _tiers(items: Sequence[Deployment], key: Callable[[Deployment], object]) -> list[list[Deployment]]:
    """`items` grouped by equal `key`, lowest key first."""
    by_key: dict[object, list[Deployment]] = {}
    for d in items:
        by_key.setdefault(key(d), []).append(d)
    return [by_key[k] for k in sorted(by_key)]  # type: ignore[type-var]


def _latency_key(seen: Observed | None) -> tuple[int, float]:
    """Under-observed first (explored), then by median; an unknown median sorts last."""
    if seen is None or seen.samples < MIN_SAMPLES:
        return (0, 0.0)
    return (1, seen.median if seen.median is not None else float("inf"))


def price(llm: LLM, d: Deployment) -> float:
    """Input plus output price per million tokens through `d`: its own, else the entry's;
    infinity when either is unknown."""
    per_in = d.input_cost_per_mtok if d.input_cost_per_mtok is not None else llm.input_cost_per_mtok
    per_out = d.output_cost_per_mtok if d.output_cost_per_mtok is not None else llm.output_cost_per_mtok
    if per_in is None or per_out is None:
        return float("inf")
    return per_in + per_out


def _share_front(
    options: dict[str, Option],
    ranked: list[list[Deployment]],
    llm: LLM,
    strategy: str,
    observed: Mapping[str, Observed],
) -> None:
    """Give the front its shares (by weight; equal when all weigh 0) and the rest of the
    serving group its fallback reason."""
    front, rest = ranked[0], [d for tier in ranked[1:] for d in tier]
    total = sum(d.weight for d in front)
    for d in front:
        share = d.weight / total if total else 1 / len(front)
        note = _front_note(d, strategy, observed)
        _set(options[d.id], ELIGIBLE, _percent(share) + (f" ({note})" if note else ""), share)
    for d in rest:
        if strategy == "cheapest":
            why = f"fallback (${price(llm, d):g}/Mtok in+out)"
        else:
            median = observed[d.id].median
            why = "fallback (p50 unknown)" if median is None else f"fallback (p50 {median * 1000:.0f} ms)"
        _set(options[d.id], FALLBACK, why)


def _front_note(d: Deployment, strategy: str, observed: Mapping[str, Observed]) -> str:
    """Why a front deployment is there, when the strategy says more than its weight."""
    if strategy != "latency":
        return ""
    seen = observed.get(d.id)
    if seen is None or seen.samples < MIN_SAMPLES:
        return f"exploring: {seen.samples if seen else 0} samples"
    return "p50 unknown" if seen.median is None else f"p50 {seen.median * 1000:.0f} ms"


def _percent(share: float) -> str:
    """`67%`; a share too small to round to 1% still shows it is not nothing."""
    if 0 < share < 0.005:
        return "<1%"
    return f"{share * 100:.0f}%"


def _draw(items: Sequence[Deployment], rng: random.Random) -> int:
    """The index of one of `items`, drawn with chances proportional to weight (equal
    chances when every weight is 0)."""
    total = sum(d.weight for d in items)
    if total <= 0:
        return rng.randrange(len(items))
    point = rng.random() * total
    for n, d in enumerate(items):
        point -= d.weight
        if point < 0:
            return n
    return max(n for n, d in enumerate(items) if d.weight > 0)  # rounding at the very end
