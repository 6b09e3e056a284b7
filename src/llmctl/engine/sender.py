"""The sender: selection wired to the engine's state (cooldown, observed latency), and the
sends built on it: a prompt down its chain (sync or async), a dry run, embeddings, a
comparison. `prompt`, `batch`, `compare` and `embed` (CLI), the Python API's `decide`
and the client all go through a `Sender`, so they decide and send by the same rules.

A sender holds one pooled sync client (by default the process's) and one async pool, so
no request builds a client, an SSL context or a connection of its own. Importing this
module imports no HTTP client; sending does.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from llmctl.catalog.costs import estimate_tokens, worst_case_cost
from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog, load_catalog
from llmctl.engine.answers import compared
from llmctl.engine.cooldown import Cooldown
from llmctl.engine.hooks import decide_now
from llmctl.engine.options import Labels, SendOptions, Services
from llmctl.engine.plan import Plan, check_named
from llmctl.engine.records import Outcome
from llmctl.errors import LlmctlError, NoMatchError, NotConfigured, UsageError
from llmctl.paths import Home
from llmctl.providers.resolve import resolve_endpoint
from llmctl.selection.decide import decide
from llmctl.selection.decision import Decision
from llmctl.selection.request import Selection

if TYPE_CHECKING:
    import httpx

    from llmctl.engine.answers import AnswerJSON
    from llmctl.engine.budget import Ledger
    from llmctl.engine.cache import ResponseCache
    from llmctl.engine.http import AsyncPool
    from llmctl.engine.ratelimit import RateLimiter
    from llmctl.engine.records import Result
    from llmctl.engine.router import OnStart, Router
    from llmctl.engine.simulate import Simulation
    from llmctl.engine.usage import UsageStore
    from llmctl.providers.wire import ChatRequest


T = TypeVar("T")


@dataclass
class Sender:
    """Everything a send needs, resolved once: home, catalog, environment, cooldown state,
    the usage store (opened on first use) and the HTTP pools. With `simulation`, every
    request is answered in process and nothing is recorded or remembered."""

    home: Home
    catalog: Catalog
    env: Mapping[str, str]
    cooldown: Cooldown | None
    client: httpx.Client | None = None
    apool: AsyncPool | None = None
    simulation: Simulation | None = None
    _store: UsageStore | None = None
    _checked: bool = False
    _limiter: RateLimiter | None = None
    _cache: ResponseCache | None = None

    @classmethod
    def create(
        cls,
        home: Home | None = None,
        catalog: Catalog | None = None,
        env: Mapping[str, str] | None = None,
        *,
        simulate: Sequence[str] = (),
        client: httpx.Client | None = None,
        aclient: httpx.AsyncClient | None = None,
    ) -> Sender:
        """A sender for the home's catalog. `simulate` holds `FAULT@TARGET` values (raises
        UsageError for a bad one); `client`/`aclient` are used as given (a test seam)."""
        home = home or Home.resolve()
        catalog = catalog or load_catalog(home)
        env = os.environ if env is None else env
        if simulate:
            return cls._simulated(home, catalog, env, simulate)
        from llmctl.engine.http import AsyncPool

        apool = AsyncPool(aclient)
        return cls(home, catalog, env, Cooldown.for_home(home, catalog.config.providers), client, apool)

    @classmethod
    def _simulated(cls, home: Home, catalog: Catalog, env: Mapping[str, str], specs: Sequence[str]) -> Sender:
        from llmctl.engine.simulate import Simulation, parse_faults

        simulation = Simulation(catalog, parse_faults(list(specs), catalog))
        client, apool = simulation.clients()
        return cls(home, catalog, env, None, client, apool, simulation)

    def renewed(self, catalog: Catalog) -> Sender:
        """A sender over a changed catalog (or config) that keeps this one's pools and usage
        store: a long-lived server reads the files afresh without reconnecting."""
        cooldown = Cooldown.for_home(self.home, catalog.config.providers)
        sender = Sender(self.home, catalog, self.env, cooldown, self.client, self.apool, _store=self._store)
        sender._checked = self._checked
        return sender

    def lending(self, client: httpx.Client | None, apool: AsyncPool | None) -> Sender:
        """This sender over other pools (a client's own), sharing everything else: the
        catalog, the cooldown state, the simulation and the usage store."""
        return replace(self, client=client, apool=apool)

    @property
    def store(self) -> UsageStore:
        """The usage store, opened on first use and shared by every send of this sender."""
        if self._store is None:
            from llmctl.engine.usage import UsageStore

            self._store = UsageStore.for_home(self.home)
        return self._store

    def run(self, main: Callable[[], Awaitable[T]]) -> T:
        """Run `main()` in a new event loop, then close the async pool in that loop."""
        import asyncio

        async def wrapped() -> T:
            try:
                return await main()
            finally:
                if self.apool is not None:
                    await self.apool.aclose()

        return asyncio.run(wrapped())

    def ready(self) -> None:
        """Before the first send: the usage store must be usable (a damaged store is reported
        now, exit 3, rather than losing rows). A simulation records nothing."""
        if self.simulation is None and not self._checked:
            self.store.check()
            self._checked = True

    def close(self) -> None:
        """Close what this sender opened (not the process's shared client)."""
        if self.simulation is not None and self.client is not None:
            self.client.close()
        if self._store is not None:
            self._store.close()

    # --- deciding -------------------------------------------------------------------------------

    def decide(self, selection: Selection, *, explain: bool = False) -> tuple[Decision, list[str]]:
        """The picker's decision, skipping LLMs in cooldown and ranking `fastest` by observed
        latency. A simulation plans as if every key were set and nothing cooled down.
        Raises what `selection.decide.decide` raises."""
        if self.simulation is not None:
            selection = replace(selection, assume_available=True)
            return decide(self.catalog, self.home, selection, explain=explain, env=self.env)
        return decide_now(
            self.home,
            self.catalog,
            selection,
            explain=explain,
            env=self.env,
            cooldown=self.cooldown,
            store=self._store,
        )

    def plan(
        self, selection: Selection, req: ChatRequest, *, no_fallback: bool = False, explain: bool = False
    ) -> Plan:
        """Decide for a prompt: its estimated size counts against each LLM's context
        (`explain` keeps every candidate's reason, for a report when nothing fits).

        With `no_fallback` only the chosen LLM is sent to; when an LLM was named
        (`--llm`) and skipped, nothing is sent: raises NoMatchError saying why (exit 4
        for no key or disabled, 1 for cooldown)."""
        tokens = estimate_tokens(m.content for m in req.messages)
        selection = replace(selection, props={"prompt_tokens": tokens, **selection.props})
        try:
            decision, warnings = self.decide(selection, explain=explain)
        except NoMatchError as exc:
            if no_fallback and exc.decision is not None:
                check_named(self.catalog, exc.decision)
            raise
        if no_fallback:
            check_named(self.catalog, decision)
        return Plan.of(self.catalog, selection, decision, warnings, no_fallback=no_fallback)

    # --- sending --------------------------------------------------------------------------------

    def router(self, options: SendOptions | None = None, labels: Labels | None = None) -> Router:
        """A router over this sender's services (pools, cooldown, usage store, budgets, rate
        limits; a simulation's: none of them, and no sleeping), sending as `options` say
        (the response cache only when `options.cache` is true)."""
        from llmctl.engine.router import Router

        return Router(
            self.services(bool(options and options.cache)), options or SendOptions(), labels or Labels()
        )

    def services(self, cache: bool = False) -> Services:
        """What this sender's sends use (`cache`: with the response cache)."""
        config = self.catalog.config
        common: dict[str, Any] = {
            "client": self.client,
            "apool": self.apool,
            "providers": config.providers,
            "env": self.env,
            "max_bytes": config.max_response_bytes,
        }
        if self.simulation is not None:
            return Services(
                **common, sleep=_no_sleep, asleep=_no_asleep, require_key=False, tag=self.simulation.tag
            )
        return Services(
            **common,
            cooldown=self.cooldown,
            record=self.store.record,
            ledger=self.ledger(),
            limiter=self.limiter(),
            cache=self.response_cache() if cache else None,
            max_wait=config.rate_limit_wait,
        )

    def response_cache(self) -> ResponseCache:
        """The response cache of the data dir, kept `cache_ttl` (config.toml)."""
        from llmctl.engine.cache import ResponseCache, seconds

        if self._cache is None:  # one connection for every request of this sender
            self._cache = ResponseCache(
                self.home.data_dir / "cache.sqlite", seconds(self.catalog.config.cache_ttl)
            )
        return self._cache

    def use_cache(self, plan: Plan, flag: bool | None) -> bool:
        """--cache / --no-cache wins, then the job's `cache`, then config.toml's."""
        for word in (flag, plan.cache, self.catalog.config.cache):
            if word is not None:
                return bool(word)
        return False

    def limiter(self) -> RateLimiter | None:
        """The rate limiter, when a provider or an entry sets a limit (none applies unless
        configured, so the common case pays nothing)."""
        config = self.catalog.config
        limited = any(p.requests_per_minute or p.tokens_per_minute for p in config.providers.values())
        if not limited and not any(e.rate_limit for e in self.catalog):
            return None
        if self._limiter is None:
            from llmctl.engine.ratelimit import RateLimiter

            self._limiter = RateLimiter(self.home.data_dir / "state" / "ratelimit.sqlite", config.providers)
        return self._limiter

    def ledger(self) -> Ledger | None:
        """The budgets' ledger, when config.toml sets budgets (a simulation spends nothing)."""
        if self.simulation is not None or not self.catalog.config.budgets:
            return None
        from llmctl.engine.budget import Ledger

        return Ledger(self.store, self.catalog.config.budgets)

    def execute(
        self,
        plan: Plan,
        req: ChatRequest,
        options: SendOptions | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
    ) -> Result:
        """Send a planned prompt as `options` say; the picker's skips head the attempts.
        Raises AllFailedError (listing every attempt, skips included), StreamInterrupted,
        NoMatchError (exit 4) when budgets or `max_cost` let no LLM be paid for."""
        router = self._planned(plan, options)
        return router.chat(plan.chain, req, on_text=on_text, passed_over=plan.passed_over)

    async def aexecute(
        self,
        plan: Plan,
        req: ChatRequest,
        options: SendOptions | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
        batch_id: str | None = None,
        on_start: OnStart | None = None,
    ) -> Result:
        """`execute` as a native coroutine over the async pool; `on_start` hears which LLM
        streams, and the attempts before it, just before its first text."""
        router = self._planned(plan, options, batch_id)
        return await router.achat(
            plan.chain, req, on_text=on_text, passed_over=plan.passed_over, on_start=on_start
        )

    def _planned(self, plan: Plan, options: SendOptions | None, batch_id: str | None = None) -> Router:
        """The router for one planned prompt (the store checked first; the cache flag
        settled by `use_cache`)."""
        self.ready()
        options = options or SendOptions()
        options = replace(options, cache=self.use_cache(plan, options.cache))
        return self.router(options, Labels(plan.book, plan.job, plan.scope, batch_id, plan.template_hash))

    def dry_run(
        self, plan: Plan, req: ChatRequest, options: SendOptions | None = None, *, stream: bool
    ) -> tuple[dict[str, Any], LlmctlError | None]:
        """What would be sent to each LLM of the chain, secrets redacted, and its worst-case
        cost; each LLM a real run would skip before sending (cooldown, keys, budgets,
        `max_cost`, rate limits) carries the reason. Returns that, and the error the real
        run would end with when it would skip them all (nothing is sent or reserved)."""
        prompt_tokens = estimate_tokens(m.content for m in req.messages)
        options = replace(options or SendOptions(), cache=False)  # a dry run reads no cache
        router = self.router(options, Labels(plan.book, plan.job, plan.scope))
        foreseen, failure = router.preview(plan.chain, req, passed_over=plan.passed_over)
        skipped = {a.llm: a.error for a in foreseen if a.outcome == Outcome.SKIPPED}
        steps = []
        for entry in plan.chain:
            step = self._dry_step(entry, req, prompt_tokens, stream)
            if entry.id in skipped:
                step["skipped"] = skipped[entry.id]
            steps.append(step)
        shown = {
            "llm": plan.decision.llm.id,
            "rule": plan.decision.rule,
            "chain": [e.id for e in plan.chain],
            "estimated_prompt_tokens": prompt_tokens,
            "steps": steps,
            "passed_over": [{"llm": a.llm, "reason": a.error} for a in plan.passed_over],
            "error": None if failure is None else failure.message,
        }
        return shown, failure

    def _dry_step(self, entry: LLM, req: ChatRequest, prompt_tokens: int, stream: bool) -> dict[str, Any]:
        step: dict[str, Any] = {
            "llm": entry.id,
            "provider": entry.provider,
            "model": entry.model,
            "worst_case_cost": worst_case_cost(entry, prompt_tokens, req.max_tokens),
        }
        try:
            endpoint = resolve_endpoint(entry, self.catalog.config.providers, self.env, require_key=False)
        except NotConfigured as exc:
            step["skipped"] = exc.message
            return step
        from llmctl.providers import adapter_for

        real_key = endpoint.api_key
        if endpoint.key_env and not real_key:
            step["skipped"] = f"{endpoint.key_env} is not set"
            endpoint.api_key = f"<{endpoint.key_env} is not set>"
        adapter = adapter_for(endpoint.kind)
        call = adapter.build_chat(endpoint, entry.model, req, stream, entry.params)
        headers = {k: v.replace(real_key, "***") if real_key else v for k, v in call.headers.items()}
        cap = adapter.answer_cap(endpoint, call)
        step["worst_case_cost"] = worst_case_cost(entry, prompt_tokens, cap)  # what this request allows
        step["request"] = {
            "method": call.method,
            "url": call.url,
            "params": call.params,
            "headers": headers,
            "json": call.json,
        }
        return step

    def embed(self, entry: LLM, texts: list[str], options: SendOptions | None = None) -> Result:
        """Embed `texts` with `entry` through the engine (retries, cooldown, records); the
        vectors are in `Result.vectors`.

        Raises UsageError when its provider has no embeddings API, AllFailedError when it fails
        (an answer that is not a list of numbers is a failed attempt)."""
        self._check_embeddings(entry)
        self.ready()
        return self.router(_uncached(options)).embed([entry], texts)

    async def aembed(self, entry: LLM, texts: list[str], options: SendOptions | None = None) -> Result:
        """`embed` as a native coroutine."""
        self._check_embeddings(entry)
        self.ready()
        return await self.router(_uncached(options)).aembed([entry], texts)

    def _check_embeddings(self, entry: LLM) -> None:
        from llmctl.providers import adapter_for
        from llmctl.providers.resolve import provider_settings

        kind = provider_settings(entry.provider, self.catalog.config.providers).kind or "openai_compat"
        if not adapter_for(kind).EMBEDDINGS:
            raise UsageError(
                f"{entry.provider} has no embeddings API", hint="use an OpenAI-compatible or Ollama model"
            )

    async def acompare(
        self,
        entries: Sequence[LLM],
        req: ChatRequest,
        options: SendOptions | None = None,
        *,
        on_answer: Callable[[AnswerJSON], None] | None = None,
    ) -> list[AnswerJSON]:
        """Ask every LLM at once; each answer goes to `on_answer` as it arrives. Returns the
        answers in the order of `entries` (`compare --json`'s objects)."""
        import asyncio

        self.ready()
        router = self.router(options)  # the cache only when asked for (`cache=True`)

        async def ask(entry: LLM) -> AnswerJSON:
            answer = await compared(router, entry, req)
            if on_answer is not None:
                on_answer(answer)
            return answer

        return list(await asyncio.gather(*(ask(e) for e in entries)))


def _uncached(options: SendOptions | None) -> SendOptions:
    """Embeddings are never cached."""
    return replace(options or SendOptions(), cache=False)


def _no_sleep(_seconds: float) -> None:
    """A simulation runs the policy's waits without waiting."""


async def _no_asleep(_seconds: float) -> None:
    """A simulation runs the policy's waits without waiting."""
