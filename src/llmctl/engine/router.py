"""Send a chat request down the fallback chain: retries with backoff and jitter,
Retry-After, cooldown, and fallback only before the first byte of an answer is out.

`Router` takes its HTTP client, sleep and clock as arguments, so tests drive it with
pytest-httpx or a local server and a fake clock.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmctl.catalog.costs import cost_of
from llmctl.catalog.entry import LLM
from llmctl.engine.http import send_json, stream_lines
from llmctl.engine.usage import AttemptRecord
from llmctl.errors import (
    AllFailedError,
    ContextTooLong,
    Malformed,
    NotConfigured,
    ProviderError,
    StreamInterrupted,
)
from llmctl.providers import adapter_for
from llmctl.providers.resolve import Endpoint, resolve_endpoint
from llmctl.providers.table import Provider
from llmctl.providers.wire import ChatRequest, ChatResult, Usage
from llmctl.selection.decision import Skip

if TYPE_CHECKING:
    import httpx

    from llmctl.engine.cooldown import Cooldown

DEFAULT_RETRIES = 2
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 30.0


@dataclass
class Attempt:
    """One LLM of the chain: what happened to it (after its retries)."""

    llm: str
    provider: str | None
    outcome: str  # ok, error, skipped
    status: int | None = None
    failure: type[ProviderError] | None = None  # the class of the last error
    error: str | None = None
    tries: int = 0
    latency_ms: float | None = None
    ttft_ms: float | None = None
    by_picker: bool = False  # skipped when the chain was chosen, not by the router

    def to_dict(self) -> dict[str, Any]:
        return {
            "llm": self.llm,
            "provider": self.provider,
            "outcome": self.outcome,
            "status": self.status,
            "error": self.error,
            "tries": self.tries,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
        }

    @classmethod
    def passed_over(cls, llm: str, provider: str | None, why: Skip) -> Attempt:
        """An LLM the picker passed over (no key, cooldown...): nothing was sent to it."""
        return cls(llm, provider, "skipped", error=why.message, by_picker=True)

    def line(self) -> str:
        """One line for the failure report."""
        what = self.error or self.outcome
        if self.by_picker:
            what += " (skipped, nothing sent)"
        return f"{self.llm} ({self.provider}): {what}" + (
            f" after {self.tries} tries" if self.tries > 1 else ""
        )


@dataclass
class Result:
    text: str
    llm: LLM
    attempts: list[Attempt]
    usage: Usage
    cost: float | None
    latency_ms: float
    ttft_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `prompt --json` shape."""
        return {
            "text": self.text,
            "llm": self.llm.id,
            "provider": self.llm.provider,
            "attempts": [a.to_dict() for a in self.attempts],
            "usage": self.usage.to_dict(),
            "cost": self.cost,
            "latency_ms": round(self.latency_ms, 1),
            "ttft_ms": None if self.ttft_ms is None else round(self.ttft_ms, 1),
        }


class _Tap:
    """Forwards streamed text and notes when the first byte went out."""

    def __init__(self, clock: Callable[[], float], on_text: Callable[[str], None] | None) -> None:
        self.clock = clock
        self.on_text = on_text
        self.first: float | None = None

    def forward(self, text: str) -> None:
        if self.first is None:
            self.first = self.clock()
        if self.on_text is not None:
            self.on_text(text)


@dataclass
class Router:
    """Walks a fallback chain. `on_text` receives streamed text as it arrives."""

    client: httpx.Client
    providers: Mapping[str, Provider] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    retries: int = DEFAULT_RETRIES
    timeout: float | None = None
    cooldown: Cooldown | None = None
    record: Callable[[AttemptRecord], None] | None = None
    book: str | None = None
    job: str | None = None

    def chat(
        self,
        chain: Sequence[LLM],
        req: ChatRequest,
        *,
        on_text: Callable[[str], None] | None = None,
        passed_over: Sequence[Attempt] = (),
    ) -> Result:
        """Send `req` to the first LLM of `chain` that answers. `passed_over` are the LLMs the
        picker skipped; they head the attempts of the result or the error.

        Raises AllFailedError when every one fails, StreamInterrupted when an answer breaks
        off after its first byte."""
        attempts: list[Attempt] = []
        too_small = 0
        for entry in chain:
            if too_small and (entry.context_length or 0) <= too_small:
                attempts.append(
                    Attempt(
                        entry.id,
                        entry.provider,
                        "skipped",
                        error=f"context {entry.context_length} is not larger than {too_small}",
                    )
                )
                continue
            attempt, result = self._try_llm(entry, req, on_text)
            attempts.append(attempt)
            if result is not None:
                result.attempts = [*passed_over, *attempts]
                return result
            if attempt.failure is ContextTooLong:
                too_small = max(too_small, entry.context_length or 0)
        raise AllFailedError(
            f"every LLM of the chain failed ({len(attempts)} tried)" if attempts else "the chain is empty",
            [*passed_over, *attempts],
            hint="`llmctl pick --explain` shows the chain and what is in cooldown",
        )

    def _try_llm(
        self, entry: LLM, req: ChatRequest, on_text: Callable[[str], None] | None
    ) -> tuple[Attempt, Result | None]:
        if self.cooldown is not None:
            why = self.cooldown.reason(entry)
            if why:
                return Attempt(entry.id, entry.provider, "skipped", error=why.message), None
        try:
            endpoint = resolve_endpoint(entry, self.providers, self.env)
        except NotConfigured as exc:
            return Attempt(entry.id, entry.provider, "skipped", error=exc.message), None
        attempt = Attempt(entry.id, entry.provider, "error")
        for n in range(self.retries + 1):
            attempt.tries = n + 1
            started = self.clock()
            tap = _Tap(self.clock, on_text)
            try:
                result = self._send(entry, endpoint, req, tap.forward if on_text else None)
            except ProviderError as exc:
                elapsed = (self.clock() - started) * 1000
                message = endpoint.redact(exc.message)  # adapters redact too; this is the safety net
                attempt.status, attempt.error, attempt.failure = exc.status, message, type(exc)
                attempt.latency_ms = round(elapsed, 1)
                self._log(entry, "error", exc.status, message, elapsed, None, Usage())
                if tap.first is not None:
                    self._cool(entry, exc)
                    raise StreamInterrupted(f"{entry.id} broke off mid-answer: {message}") from None
                delay = self._delay(n, exc)
                if delay is None:
                    # One failed run of this LLM (whatever its tries) counts once towards cooldown.
                    self._cool(entry, exc)
                    return attempt, None
                self.sleep(delay)
                continue
            elapsed = (self.clock() - started) * 1000
            ttft = (tap.first - started) * 1000 if tap.first is not None else None
            cost = cost_of(entry, result.usage.input_tokens, result.usage.output_tokens)
            self._log(entry, "ok", 200, None, elapsed, ttft, result.usage, cost)
            if self.cooldown is not None:
                self.cooldown.succeeded(entry)
            attempt.outcome, attempt.status, attempt.error, attempt.failure = "ok", 200, None, None
            attempt.latency_ms, attempt.ttft_ms = round(elapsed, 1), None if ttft is None else round(ttft, 1)
            return attempt, Result(result.text, entry, [], result.usage, cost, elapsed, ttft)
        return attempt, None

    def _delay(self, n: int, exc: ProviderError) -> float | None:
        """Seconds to wait before try n+2 of the same LLM, or None to move on."""
        if not exc.retryable or n >= self.retries:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= RETRY_AFTER_CAP else None
        backoff = min(BACKOFF_BASE * (2**n), BACKOFF_CAP)
        return backoff * (0.5 + self.rng() / 2)

    def _send(
        self, entry: LLM, endpoint: Endpoint, req: ChatRequest, on_text: Callable[[str], None] | None
    ) -> ChatResult:
        adapter = adapter_for(endpoint.kind)
        call = adapter.build_chat(endpoint, entry.model, req, on_text is not None, entry.params)
        if on_text is None:
            return adapter.parse_chat(send_json(self.client, call, endpoint, self.timeout), endpoint)
        parts: list[str] = []
        usage = Usage()
        finish = None
        for chunk in adapter.parse_stream(stream_lines(self.client, call, endpoint, self.timeout), endpoint):
            if chunk.text:
                parts.append(chunk.text)
                on_text(chunk.text)
            if chunk.usage is not None:
                usage = chunk.usage
            finish = chunk.finish_reason or finish
        if not parts and finish is None and usage.output_tokens is None:
            raise Malformed(f"{entry.provider}: the stream carried no answer")
        return ChatResult("".join(parts), usage, entry.model, finish)

    def _cool(self, entry: LLM, error: ProviderError) -> None:
        if self.cooldown is not None:
            self.cooldown.failed(entry, error)

    def _log(
        self,
        entry: LLM,
        outcome: str,
        status: int | None,
        error: str | None,
        latency_ms: float,
        ttft_ms: float | None,
        usage: Usage,
        cost: float | None = None,
    ) -> None:
        if self.record is None:
            return
        self.record(
            AttemptRecord(
                llm=entry.id,
                provider=entry.provider,
                outcome=outcome,
                book=self.book,
                job=self.job,
                status=status,
                error=error,
                latency_ms=round(latency_ms, 1),
                ttft_ms=None if ttft_ms is None else round(ttft_ms, 1),
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                input_cost_per_mtok=entry.input_cost_per_mtok,
                output_cost_per_mtok=entry.output_cost_per_mtok,
                cost=cost,
            )
        )
