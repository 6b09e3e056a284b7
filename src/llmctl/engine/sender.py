"""The sender: selection wired to the engine's state (cooldown, observed latency), and the
sends built on it: a prompt down its chain, a dry run, embeddings, a comparison.

`prompt`, `compare` and `embed` (CLI), the Python API's `decide` and the client all go
through a `Sender`, so they decide and send by the same rules. Importing this module
imports no HTTP client; sending does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmctl.catalog.costs import cost_of, estimate_tokens, worst_case_cost
from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog, load_catalog
from llmctl.engine.cooldown import Cooldown
from llmctl.engine.hooks import picker_hooks
from llmctl.errors import NotConfigured, ProviderError, UsageError
from llmctl.paths import Home
from llmctl.providers.resolve import resolve_endpoint
from llmctl.selection.decide import decide
from llmctl.selection.decision import Decision
from llmctl.selection.request import Selection

if TYPE_CHECKING:
    import httpx

    from llmctl.engine.router import Attempt, Result, Router
    from llmctl.engine.usage import UsageStore
    from llmctl.providers.wire import ChatRequest


@dataclass
class Plan:
    """What a prompt will do: the decision, the chain to walk and the LLMs the picker
    passed over (reported as skipped attempts), with the warnings to show first."""

    decision: Decision
    warnings: list[str]
    chain: list[LLM]
    passed_over: list[Attempt] = field(default_factory=list)
    book: str | None = None
    job: str | None = None


@dataclass
class Sender:
    """Everything a send needs, resolved once: home, catalog, environment, cooldown state
    and (opened on first use) the usage store."""

    home: Home
    catalog: Catalog
    env: Mapping[str, str]
    cooldown: Cooldown
    _store: UsageStore | None = None

    @classmethod
    def create(
        cls, home: Home | None = None, catalog: Catalog | None = None, env: Mapping[str, str] | None = None
    ) -> Sender:
        home = home or Home.resolve()
        catalog = catalog or load_catalog(home)
        return cls(
            home,
            catalog,
            os.environ if env is None else env,
            Cooldown.for_home(home, catalog.config.providers),
        )

    @property
    def store(self) -> UsageStore:
        """The usage store, opened on first use and shared by every send of this sender."""
        if self._store is None:
            from llmctl.engine.usage import UsageStore

            self._store = UsageStore.for_home(self.home)
        return self._store

    # --- deciding -------------------------------------------------------------------------------

    def decide(self, selection: Selection, *, explain: bool = False) -> tuple[Decision, list[str]]:
        """The picker's decision, skipping LLMs in cooldown and ranking `fastest` by observed
        latency. Raises what `selection.decide.decide` raises."""
        hooks = picker_hooks(self.home, self.catalog, selection, cooldown=self.cooldown, store=self._store)
        return decide(self.catalog, self.home, selection, explain=explain, env=self.env, **hooks)

    def plan(self, selection: Selection, req: ChatRequest, *, no_fallback: bool = False) -> Plan:
        """Decide for a prompt: its estimated size counts against each LLM's context, and
        `no_fallback` keeps the chosen LLM alone."""
        from dataclasses import replace

        from llmctl.engine.router import Attempt

        tokens = estimate_tokens(m.content for m in req.messages)
        selection = replace(selection, props={"prompt_tokens": tokens, **selection.props})
        decision, warnings = self.decide(selection)
        chain = decision.chain[:1] if no_fallback else list(decision.chain)
        passed = []
        for llm_id, why in decision.passed_over:
            entry = self.catalog.entries.get(llm_id)
            passed.append(Attempt.passed_over(llm_id, entry.provider if entry else None, why))
        job = decision.request.job.name if decision.request.job else None
        return Plan(decision, warnings, chain, passed, selection.book, job)

    # --- sending --------------------------------------------------------------------------------

    def router(self, client: httpx.Client, *, retries: int | None = None, **kw: Any) -> Router:
        from llmctl.engine.router import DEFAULT_RETRIES, Router

        return Router(
            client,
            providers=self.catalog.config.providers,
            env=self.env,
            retries=DEFAULT_RETRIES if retries is None else retries,
            cooldown=self.cooldown,
            record=self.store.record,
            **kw,
        )

    def send(
        self,
        chain: Sequence[LLM],
        req: ChatRequest,
        *,
        client: httpx.Client | None = None,
        on_text: Callable[[str], None] | None = None,
        retries: int | None = None,
        timeout: float | None = None,
        book: str | None = None,
        job: str | None = None,
        passed_over: Sequence[Attempt] = (),
    ) -> Result:
        """Send `req` down `chain`. Raises AllFailedError, StreamInterrupted."""
        from llmctl.engine.http import make_client

        own = client is None
        client = client or make_client()
        try:
            router = self.router(client, retries=retries, timeout=timeout, book=book, job=job)
            return router.chat(chain, req, on_text=on_text, passed_over=passed_over)
        finally:
            if own:
                client.close()

    def execute(
        self,
        plan: Plan,
        req: ChatRequest,
        *,
        on_text: Callable[[str], None] | None = None,
        retries: int | None = None,
        timeout: float | None = None,
    ) -> Result:
        """Send a planned prompt; the picker's skips head the attempts. Raises AllFailedError
        (listing every attempt, skips included), StreamInterrupted."""
        return self.send(
            plan.chain,
            req,
            on_text=on_text,
            retries=retries,
            timeout=timeout,
            book=plan.book,
            job=plan.job,
            passed_over=plan.passed_over,
        )

    def dry_run(self, plan: Plan, req: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """What would be sent to each LLM of the chain, secrets redacted, and its worst-case cost."""
        steps = []
        prompt_tokens = estimate_tokens(m.content for m in req.messages)
        for entry in plan.chain:
            steps.append(self._dry_step(entry, req, prompt_tokens, stream))
        return {
            "llm": plan.decision.llm.id,
            "rule": plan.decision.rule,
            "chain": [e.id for e in plan.chain],
            "estimated_prompt_tokens": prompt_tokens,
            "steps": steps,
        }

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
        call = adapter_for(endpoint.kind).build_chat(endpoint, entry.model, req, stream, entry.params)
        headers = {k: v.replace(real_key, "***") if real_key else v for k, v in call.headers.items()}
        body = call.json or {}
        cap = (
            body.get("max_tokens")
            or body.get("max_completion_tokens")
            or (body.get("options") or {}).get("num_predict")
        )
        step["worst_case_cost"] = worst_case_cost(entry, prompt_tokens, cap)  # what this request allows
        step["request"] = {
            "method": call.method,
            "url": call.url,
            "params": call.params,
            "headers": headers,
            "json": call.json,
        }
        return step

    def embed(
        self,
        entry: LLM,
        texts: list[str],
        *,
        client: httpx.Client | None = None,
        timeout: float | None = None,
    ) -> tuple[list[list[float]], Any]:
        """Embed `texts` with `entry`; the attempt is recorded in the usage store.

        Raises UsageError when its provider has no embeddings API, ProviderError when the call fails.
        """
        from llmctl.engine.http import make_client, send_json
        from llmctl.engine.usage import AttemptRecord
        from llmctl.providers import adapter_for

        endpoint = resolve_endpoint(entry, self.catalog.config.providers, self.env)
        adapter = adapter_for(endpoint.kind)
        if not adapter.EMBEDDINGS:
            raise UsageError(
                f"{entry.provider} has no embeddings API", hint="use an OpenAI-compatible or Ollama model"
            )
        own = client is None
        client = client or make_client()
        started = time.perf_counter()
        prices = {
            "input_cost_per_mtok": entry.input_cost_per_mtok,
            "output_cost_per_mtok": entry.output_cost_per_mtok,
        }
        try:
            data = send_json(client, adapter.build_embed(endpoint, entry.model, texts), endpoint, timeout)
            vectors, usage = adapter.parse_embed(data, endpoint)
        except ProviderError as exc:
            error = endpoint.redact(exc.message)
            record = AttemptRecord(
                entry.id, entry.provider, "error", status=exc.status, error=error, **prices
            )
            self.store.record(record)
            raise
        finally:
            if own:
                client.close()
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        cost = cost_of(entry, usage.input_tokens, 0)
        self.store.record(
            AttemptRecord(
                entry.id,
                entry.provider,
                "ok",
                status=200,
                latency_ms=elapsed,
                input_tokens=usage.input_tokens,
                cost=cost,
                **prices,
            )
        )
        return vectors, usage

    def compare(
        self, entries: Sequence[LLM], req: ChatRequest, *, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """Ask every LLM at once (one thread each, one shared client); answers in the given order."""
        import threading

        from llmctl.engine.http import make_client

        answers: list[dict[str, Any] | None] = [None] * len(entries)
        with make_client() as client:

            def run(n: int, entry: LLM) -> None:
                answers[n] = self._ask(entry, req, client, timeout)

            # Daemon threads, joined in short steps: Ctrl-C stops the command at once
            # instead of waiting for slow providers.
            threads = [threading.Thread(target=run, args=(n, e), daemon=True) for n, e in enumerate(entries)]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)
        return [a for a in answers if a is not None]

    def _ask(
        self, entry: LLM, req: ChatRequest, client: httpx.Client, timeout: float | None
    ) -> dict[str, Any]:
        from llmctl.errors import AllFailedError

        answer: dict[str, Any] = {
            "llm": entry.id,
            "provider": entry.provider,
            "text": None,
            "error": None,
            "usage": None,
            "cost": None,
            "latency_ms": 0.0,
        }
        try:
            result = self.send([entry], req, client=client, timeout=timeout)
        except AllFailedError as exc:
            first = exc.attempts[0] if exc.attempts else None
            answer["error"] = first.error if first else exc.message
            answer["latency_ms"] = (first.latency_ms or 0.0) if first else 0.0
            return answer
        answer.update(
            text=result.text,
            usage=result.usage.to_dict(),
            cost=result.cost,
            latency_ms=round(result.latency_ms, 1),
        )
        return answer
