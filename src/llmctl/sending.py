"""Sending prompts: selection, then the router, with cooldown and the usage store wired in.

The CLI's `prompt`, `compare` and `embed` and the Python client call these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmctl.api import decide
from llmctl.catalog import Catalog, load_catalog
from llmctl.cooldown import Cooldown
from llmctl.decision import Decision, worst_case_cost
from llmctl.errors import ProviderError, UsageError
from llmctl.paths import Home
from llmctl.providers.base import ChatRequest, Message
from llmctl.records import LLM
from llmctl.selection import Selection

if TYPE_CHECKING:
    import httpx

    from llmctl.router import Result

USER_AGENT = "llmctl"


def make_client() -> httpx.Client:
    """An HTTP client for provider calls (imports httpx only when something is sent)."""
    import httpx

    from llmctl import __version__

    return httpx.Client(headers={"user-agent": f"{USER_AGENT}/{__version__}"}, follow_redirects=False)


def messages_for(text: str, system: str | None = None) -> list[Message]:
    if not text.strip():
        raise UsageError("the prompt is empty: give TEXT, or pipe it on stdin")
    out = [Message("system", system)] if system else []
    out.append(Message("user", text))
    return out


@dataclass
class Sender:
    """Everything a send needs, resolved once: home, catalog, cooldown, usage store."""

    home: Home
    catalog: Catalog
    env: Mapping[str, str]
    cooldown: Cooldown
    _store: Any = None

    @property
    def store(self) -> Any:
        """The usage store, opened on first use and shared by every send of this sender."""
        if self._store is None:
            from llmctl.usage import UsageStore

            self._store = UsageStore.for_home(self.home)
        return self._store

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

    def decide(self, selection: Selection, *, explain: bool = False) -> tuple[Decision, list[str]]:
        """The picker's decision, skipping LLMs in cooldown and ranking `fastest` by observed latency."""
        latency = None
        if (selection.strategy or self.catalog.config.strategy) == "fastest":
            from llmctl.usage import UsageStore

            latency = UsageStore.for_home(self.home).latencies().get
        return decide(
            selection,
            catalog=self.catalog,
            home=self.home,
            explain=explain,
            env=self.env,
            unavailable=self.cooldown.hook(),
            latency=latency,
        )

    def router(
        self,
        client: httpx.Client,
        *,
        retries: int | None = None,
        timeout: float | None = None,
        book: str | None = None,
        job: str | None = None,
        **kw: Any,
    ):
        from llmctl.router import DEFAULT_RETRIES, Router

        return Router(
            client,
            providers=self.catalog.config.providers,
            env=self.env,
            retries=DEFAULT_RETRIES if retries is None else retries,
            timeout=timeout,
            cooldown=self.cooldown,
            record=self.store.record,
            book=book,
            job=job,
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
    ) -> Result:
        """Send `req` down `chain`. Raises AllFailedError, StreamInterrupted."""
        own = client is None
        client = client or make_client()
        try:
            router = self.router(client, retries=retries, timeout=timeout, book=book, job=job)
            return router.chat(chain, req, on_text=on_text)
        finally:
            if own:
                client.close()


def dry_run(
    decision: Decision,
    req: ChatRequest,
    providers: Mapping[str, Mapping[str, Any]],
    env: Mapping[str, str],
    stream: bool,
    chain: Sequence[LLM] | None = None,
) -> dict[str, Any]:
    """What would be sent to each LLM of the chain, secrets redacted, and its worst-case cost."""
    from llmctl.providers import adapter_for
    from llmctl.providers.base import resolve_endpoint

    steps = []
    prompt_tokens = estimate_tokens(req)
    chain = decision.chain if chain is None else chain
    for entry in chain:
        step: dict[str, Any] = {
            "llm": entry.id,
            "provider": entry.provider,
            "model": entry.model,
            "worst_case_cost": worst_case_cost(entry, prompt_tokens, req.max_tokens),
        }
        try:
            endpoint = resolve_endpoint(entry, providers, env, require_key=False)
        except ProviderError as exc:
            step["skipped"] = exc.message
            steps.append(step)
            continue
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
        steps.append(step)
    return {
        "llm": decision.llm.id,
        "rule": decision.rule,
        "chain": [e.id for e in chain],
        "estimated_prompt_tokens": prompt_tokens,
        "steps": steps,
    }


def estimate_tokens(req: ChatRequest) -> int:
    """A rough prompt size: four characters a token, the usual rule of thumb for English."""
    return max(1, sum(len(m.content) for m in req.messages) // 4)


def embed(
    entry: LLM,
    texts: list[str],
    *,
    providers: Mapping[str, Mapping[str, Any]],
    env: Mapping[str, str],
    client: httpx.Client | None = None,
    timeout: float | None = None,
    record: Callable[[Any], None] | None = None,
) -> tuple[list[list[float]], Any]:
    """Embed `texts` with `entry`; the attempt goes to `record` (the usage store).

    Raises UsageError when its provider has no embeddings API, ProviderError when the call fails.
    """
    import time

    from llmctl.providers import adapter_for
    from llmctl.providers.base import resolve_endpoint, send_json
    from llmctl.usage import AttemptRecord, cost_of

    endpoint = resolve_endpoint(entry, providers, env)
    adapter = adapter_for(endpoint.kind)
    if not hasattr(adapter, "build_embed"):
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
        if record:
            record(
                AttemptRecord(
                    entry.id,
                    entry.provider,
                    "error",
                    status=exc.status,
                    error=endpoint.redact(exc.message),
                    **prices,
                )
            )
        raise
    finally:
        if own:
            client.close()
    if record:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        record(
            AttemptRecord(
                entry.id,
                entry.provider,
                "ok",
                status=200,
                latency_ms=elapsed,
                input_tokens=usage.input_tokens,
                cost=cost_of(entry, usage.input_tokens, 0),
                **prices,
            )
        )
    return vectors, usage


def read_prompt(text: str | None, stdin: Any) -> str:
    """TEXT, stdin (when TEXT is `-` or absent and stdin is not a terminal), or both:
    TEXT, a blank line, then stdin. Trailing whitespace of stdin is stripped."""
    piped = ""
    if text in (None, "-") or not stdin.isatty():
        piped = "" if stdin.isatty() else stdin.read().rstrip()
    if text in (None, "-"):
        return piped
    return f"{text}\n\n{piped}" if piped else text


def compare_llms(
    sender: Sender, entries: Sequence[LLM], req: ChatRequest, *, timeout: float | None = None
) -> list[dict[str, Any]]:
    """Ask every LLM at once (one thread each, one shared client); answers in the given order."""
    from llmctl.errors import AllFailedError

    def ask(entry: LLM, client: httpx.Client) -> dict[str, Any]:
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
            result = sender.send([entry], req, client=client, timeout=timeout)
        except AllFailedError as exc:
            answer["error"] = exc.attempts[0].error if exc.attempts else exc.message
            answer["latency_ms"] = (exc.attempts[0].latency_ms or 0.0) if exc.attempts else 0.0
            return answer
        answer.update(
            text=result.text,
            usage=result.usage.to_dict(),
            cost=result.cost,
            latency_ms=round(result.latency_ms, 1),
        )
        return answer

    # Daemon threads, joined in short steps: Ctrl-C stops the command at once instead of
    # waiting for slow providers.
    import threading

    answers: list[dict[str, Any] | None] = [None] * len(entries)
    with make_client() as client:

        def run(n: int, entry: LLM) -> None:
            answers[n] = ask(entry, client)

        threads = [threading.Thread(target=run, args=(n, e), daemon=True) for n, e in enumerate(entries)]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)
    return [a for a in answers if a is not None]
