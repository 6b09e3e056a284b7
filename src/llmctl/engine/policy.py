"""The sending policy, written once: which LLM of the chain to send to, whether to try it
again and after how long, when to move on and when to give up. Sans-IO: it is told what
happened and says what to do next; the sync and async drivers (`engine.router`) do the
sending and the waiting, and `--simulate` drives the very same policy.

Rules (the contract's "Failover timing"): a refused connection, a DNS, TLS or connect
failure is not retried against the same endpoint; the next LLM is tried at once and the
chain's other LLMs on that endpoint are skipped in this run. Read timeouts, 408, 429 and
5xx are retried with jittered exponential backoff, honouring Retry-After up to 30 s, and
count against that LLM only. 400/401/403/404 move on at once. A context-length error
moves on to a larger context. Nothing falls back after the first byte of an answer.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmctl.catalog.costs import cost_of
from llmctl.catalog.entry import LLM, Deployment
from llmctl.engine import counts
from llmctl.engine.options import Labels, SendOptions, Services
from llmctl.engine.records import Attempt, Outcome, Result, failure_of
from llmctl.engine.spend import Spending
from llmctl.errors import (
    COOL_ENDPOINT,
    ContextTooLong,
    InvalidOutput,
    KeyMissing,
    LlmctlError,
    LlmctlWarning,
    NotConfigured,
    ProviderError,
    RateLimited,
    StreamInterrupted,
)
from llmctl.providers.wire import ChatResult, Usage
from llmctl.selection.balancer import balance
from llmctl.selection.decision import (
    DEAD_ENDPOINT,
    NO_KEY,
    NOT_CONFIGURED,
    RATE_LIMIT,
    TOO_SMALL,
    Skip,
)

if TYPE_CHECKING:
    from llmctl.providers.resolve import Endpoint

BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 30.0


@dataclass(slots=True)
class Send:
    """Send the request to `entry` at `endpoint`; `tries` counts from 1."""

    entry: LLM
    endpoint: Endpoint
    tries: int


@dataclass(slots=True)
class Wait:
    """Wait this long before the next try of the same LLM."""

    seconds: float


@dataclass
class ChainRun:
    """One request walking one fallback chain. Call `next()` for what to do; after a
    `Send`, report `succeeded(...)` or `failed(...)`; when `next()` returns None, `outcome()`
    returns the Result or raises what ended the run."""

    chain: Sequence[LLM]
    resolve: Callable[[LLM], Endpoint]  # raises NotConfigured (no key, no base URL)
    services: Services = field(default_factory=Services)  # cooldown, records, ledger, limiter, rng
    options: SendOptions = field(default_factory=SendOptions)  # retries, max_cost
    labels: Labels = field(default_factory=Labels)  # book, job, scope, batch of the records
    passed_over: Sequence[Attempt] = ()
    prompt_tokens: int = 0  # the request's estimated size, for answers that report no usage
    prompt_bound: int | None = None  # no tokenizer counts more (reservations); else prompt_tokens
    max_tokens: int | None = None  # the request's answer cap (worst cases)
    cache_get: Callable[[Send], dict[str, Any] | None] | None = None  # a kept answer, if any
    cache_put: Callable[[Send, ChatResult], None] | None = None  # keep a complete answer
    draws: random.Random | None = None  # the weighted draws between deployments (the router's)
    attempts: list[Attempt] = field(default_factory=list)
    _queue: list[LLM] = field(default_factory=list, repr=False)
    _current: Send | None = field(default=None, repr=False)
    _wait: float | None = field(default=None, repr=False)
    _last_error: ProviderError | None = field(default=None, repr=False)  # of the LLM being retried
    _too_small: int = 0
    _dead: set[str] = field(default_factory=set, repr=False)  # endpoints that refused in this run
    _result: Result | None = None
    _interrupted: StreamInterrupted | None = None
    _waited: float = 0.0
    _hits: list[int] = field(default_factory=list, repr=False)  # the current try's rate-limit hits

    def __post_init__(self) -> None:
        self._queue = list(self.chain)
        self._balanced: set[str] = set()  # LLMs whose deployments were put in the queue
        if self.draws is None:
            seed = self.options.seed if self.options.seed is not None else self.services.rng()
            self.draws = random.Random(seed)
        self._spending = Spending(self.services.ledger, self.options.max_cost, self.labels)

    # --- what to do next ------------------------------------------------------------------------

    def next(self) -> Send | Wait | None:
        """The next step: send, wait, or None when the run is over."""
        if self._result is not None or self._interrupted is not None:
            return None
        if self._wait is not None:
            seconds, self._wait = self._wait, None
            return Wait(seconds)
        if self._current is not None:  # a retry of the same LLM, or a try waiting for a slot
            step = self._slot(self._current)
            if step is not None:
                return step
        while self._queue:
            entry = self._queue.pop(0)
            if self._routed(entry):
                continue
            why = self._skip_reason(entry)
            if why is not None:
                self.attempts.append(Attempt.skipped(entry, why))
                continue
            try:
                endpoint = self.resolve(entry)
            except NotConfigured as exc:
                self.attempts.append(Attempt.skipped(entry, _unresolved(exc)))
                continue
            if endpoint.base_url in self._dead:
                note = f"endpoint {endpoint.base_url} could not be reached earlier in this run"
                self.attempts.append(Attempt.skipped(entry, Skip(DEAD_ENDPOINT, note)))
                continue
            if self.cache_get is not None:
                kept = self.cache_get(Send(entry, endpoint, 0))
                if kept is not None:
                    self._from_cache(entry, kept)
                    return None
            why = self._spend_check(entry)
            if why is not None:
                self.attempts.append(Attempt.skipped(entry, why))
                continue
            self.attempts.append(Attempt.of(entry, Outcome.ERROR))
            self._current, self._waited = Send(entry, endpoint, 1), 0.0
            step = self._slot(self._current)
            if step is not None:
                return step
        return None

    def _routed(self, entry: LLM) -> bool:
        """True when `entry`, an LLM with deployments, was replaced at the front of the queue
        by each eligible one in the balancer's failover order (or skipped when none is)."""
        if not entry.deployments or entry.id in self._balanced:
            return False
        self._balanced.add(entry.id)
        order = self._failover(entry)
        if isinstance(order, Skip):
            self.attempts.append(Attempt.skipped(entry, order))
        else:
            self._queue[:0] = order
        return True

    def _failover(self, entry: LLM) -> list[LLM] | Skip:
        """`entry` as reached through each eligible deployment, in the order to try them
        (weighted draws from the run's seeded generator); or why none is eligible."""
        plan = balance(entry, self._blocked)
        if not plan.available:
            return plan.unavailable() or Skip(NOT_CONFIGURED, "no deployment")
        draws = self.draws
        assert draws is not None  # made in __post_init__
        return [entry.via(d) for d in plan.failover(draws)]

    def _blocked(self, entry: LLM, deployment: Deployment) -> Skip | None:
        """Why one deployment of `entry` cannot be tried now (cooling down, no key), or None."""
        via = entry.via(deployment)
        if self.services.cooldown is not None:
            why = self.services.cooldown.reason(via)
            if why is not None:
                return why
        try:
            self.resolve(via)
        except NotConfigured as exc:
            return _unresolved(exc)
        return None

    def preview(self) -> tuple[list[Attempt], LlmctlError | None]:
        """A dry run's walk of the chain, by the rules a real run applies before sending
        (cooldown, keys, budgets, --max-cost, a rate limit with no room in time), sending,
        reserving and counting nothing: an attempt per LLM, `skipped` with its reason or
        `planned`; and the error the real run would end with when every LLM is skipped."""
        for entry in self.chain:
            order = self._failover(entry) if entry.deployments else [entry]
            if isinstance(order, Skip):
                self.attempts.append(Attempt.skipped(entry, order))
                continue
            self.attempts.extend(self._foreseen(via) for via in order)
        if any(a.outcome == Outcome.PLANNED for a in self.attempts):
            return self.attempts, None
        try:
            self.outcome()
        except LlmctlError as exc:
            return self.attempts, exc
        return self.attempts, None  # pragma: no cover (outcome() raises without a result)

    def _foreseen(self, entry: LLM) -> Attempt:
        """What a real run would do with `entry` before sending (see `preview`)."""
        why = self._skip_reason(entry)
        if why is not None:
            return Attempt.skipped(entry, why)
        try:
            self.resolve(entry)
        except NotConfigured as exc:
            return Attempt.skipped(entry, _unresolved(exc))
        why = self._spend_check(entry, hold=False)
        if why is not None:
            return Attempt.skipped(entry, why)
        if self.services.limiter is not None:
            wait, limit = self.services.limiter.admit(entry, self.prompt_tokens, count=False)
            if wait > self.services.max_wait:
                skip = Skip(RATE_LIMIT, limit or "")
                return Attempt.of(entry, Outcome.SKIPPED, error=limit, skip=skip)
        return Attempt.of(entry, Outcome.PLANNED)

    def _slot(self, send: Send) -> Send | Wait | None:
        """`send` when its rate-limit windows have room (it is counted), a Wait when a slot
        frees soon enough, or None when the LLM is given up (skipped: a run-time reason)."""
        if self.services.limiter is None:
            return send
        wait, why, self._hits = self.services.limiter.take(send.entry, self.prompt_tokens)
        if wait <= 0:
            return send
        if self._waited + wait <= self.services.max_wait:
            self._waited += wait
            return Wait(wait)
        attempt = self.attempts[-1]
        attempt.outcome = Outcome.SKIPPED if send.tries == 1 else Outcome.ERROR
        attempt.error, attempt.skip, attempt.retry_after = why, Skip(RATE_LIMIT, why or ""), wait
        if send.tries > 1 and self._last_error is not None:  # its failed tries count once
            self._cool(send.entry, self._last_error)
        self._current = None
        self._settle()
        return None

    def _from_cache(self, entry: LLM, kept: dict[str, Any]) -> None:
        """Answer from the cache: nothing is sent; the hit is recorded at no cost."""
        usage = Usage(kept.get("input_tokens"), kept.get("output_tokens"))
        self.attempts.append(Attempt.of(entry, Outcome.CACHE_HIT, status=None, latency_ms=0.0))
        self._log(entry, Outcome.CACHE_HIT, None, None, 0.0, None, usage, 0.0)
        result = Result(kept["text"], entry, [*self.passed_over, *self.attempts], usage, 0.0, 0.0)
        result.cached = True
        self._result = result

    def _spend_check(self, entry: LLM, *, hold: bool = True) -> Skip | None:
        """Why the worst case of sending to `entry` may not be spent (see `Spending.check`)."""
        return self._spending.check(entry, self.prompt_tokens, self.prompt_bound, self.max_tokens, hold=hold)

    def still_sending(self) -> None:
        """The current attempt is still streaming: its reservation is renewed (at most once
        a minute), so an answer longer than the reservation's 10 minutes keeps its hold."""
        self._spending.still_sending()

    def renew(self) -> None:
        """Hold the current attempt's reservation another 10 minutes (the drivers call this
        every RENEW_EVERY seconds while an attempt runs, streamed or not)."""
        self._spending.renew()

    def holds(self) -> bool:
        """Whether the current attempt holds a budget reservation (to be kept alive)."""
        return self._spending.holds()

    def _settle(self) -> None:
        """The LLM's run is over: its reservation gives way to the recorded cost."""
        self._spending.settle()

    def _skip_reason(self, entry: LLM) -> Skip | None:
        """Why `entry` is skipped before anything else: a larger context is needed, or it
        is in cooldown."""
        if self._too_small and (entry.context_length or 0) <= self._too_small:
            return Skip(TOO_SMALL, f"context {entry.context_length} is not larger than {self._too_small}")
        if self.services.cooldown is not None:
            return self.services.cooldown.reason(entry)
        return None

    # --- what happened --------------------------------------------------------------------------

    def succeeded(
        self,
        answer: ChatResult,
        *,
        latency_ms: float,
        ttft_ms: float | None = None,
        vectors: list[list[float]] | None = None,
    ) -> None:
        """The current send answered."""
        send = self._take()
        entry = send.entry
        usage, estimated = self._counted(entry, answer, vectors)
        out_tokens = usage.output_tokens if vectors is None else 0
        cost = cost_of(
            entry, usage.input_tokens, out_tokens, usage.cached_input_tokens, usage.cache_write_tokens
        )
        self._log(entry, Outcome.OK, 200, None, latency_ms, ttft_ms, usage, cost, estimated=estimated)
        self._charge_window(usage)
        if self.services.cooldown is not None:
            self.services.cooldown.succeeded(entry)
        attempt = self.attempts[-1]
        attempt.outcome, attempt.status, attempt.error, attempt.failure = Outcome.OK, 200, None, None
        attempt.tries, attempt.latency_ms = send.tries, round(latency_ms, 1)
        attempt.ttft_ms = None if ttft_ms is None else round(ttft_ms, 1)
        self._result = Result(
            answer.text, entry, [*self.passed_over, *self.attempts], usage, cost, latency_ms, ttft_ms, vectors
        )
        self._result.tokens_estimated = estimated
        self._result.finish_reason = answer.finish_reason
        self._settle()
        if self.cache_put is not None and vectors is None:
            self.cache_put(send, ChatResult(answer.text, usage, answer.model, answer.finish_reason))

    def _counted(self, entry: LLM, answer: ChatResult, vectors: list | None) -> tuple[Usage, bool]:
        """The answer's token counts; those the provider did not report, or reported
        wrongly (negative, not a number, absurd: with a warning), are estimated and said
        to be, so that no cost is silently missing and none is negative."""
        usage, problems = counts.checked(answer.usage)
        if problems:
            warnings.warn(
                LlmctlWarning(
                    f"{entry.id}: the provider reported token counts that cannot be right "
                    f"({', '.join(problems)}); they are estimated instead"
                ),
                stacklevel=2,
            )
        embedding = vectors is not None
        usage, estimated = counts.counted(usage, answer.text, self.prompt_tokens, embedding=embedding)
        return usage, estimated or bool(problems)

    def _charge_window(self, usage: Usage) -> None:
        """The try's rate-limit hits count its prompt and its answer, as providers count."""
        if self.services.limiter is not None and self._hits:
            self.services.limiter.charge(self._hits, (usage.input_tokens or 0) + (usage.output_tokens or 0))
        self._hits = []

    def failed(
        self, error: ProviderError, *, latency_ms: float, streamed: bool = False, received: str = ""
    ) -> None:
        """The current send failed with `error`; `streamed` when part of the answer
        (`received`) was already passed on: nothing may then fall back, and the attempt
        costs its estimate (the provider bills a broken stream too)."""
        send = self._take()
        entry = send.entry
        message = send.endpoint.redact(error.message)  # adapters redact too; this is the safety net
        attempt = self.attempts[-1]
        attempt.tries, attempt.status, attempt.error = send.tries, error.status, message
        attempt.failure, attempt.latency_ms, attempt.hint = type(error), round(latency_ms, 1), error.hint
        attempt.retry_after = error.retry_after
        if streamed:
            self._cut_short(send, Outcome.ERROR, error.status, message, latency_ms, received)
            self._cool(entry, error)
            self._settle()
            self._interrupted = StreamInterrupted(f"{entry.id} broke off mid-answer: {message}")
            return
        self._log_failure(entry, error, message, latency_ms)
        self._hits = []
        delay = self._delay(send.tries, error)
        if delay is not None:
            self._current, self._wait = Send(entry, send.endpoint, send.tries + 1), delay
            self._last_error = error
            return
        # One failed run of this LLM (whatever its tries) counts once towards cooldown.
        self._cool(entry, error)
        self._settle()
        if isinstance(error, ContextTooLong):
            self._too_small = max(self._too_small, entry.context_length or 0)
        if error.cools == COOL_ENDPOINT:
            self._dead.add(send.endpoint.base_url)

    def _log_failure(self, entry: LLM, error: ProviderError, message: str, latency_ms: float) -> None:
        """Record a failed try. Only an answer that is not the JSON asked for costs: it was
        answered and billed (both tries), so its tokens are recorded, checked and costed,
        and charged to budgets; other failures cost nothing."""
        if not (isinstance(error, InvalidOutput) and error.usage is not None):
            self._log(entry, Outcome.ERROR, error.status, message, latency_ms, None, Usage())
            return
        usage, estimated = self._counted(entry, ChatResult(error.answer, error.usage), None)
        cost = cost_of(entry, usage.input_tokens, usage.output_tokens, usage.cached_input_tokens)
        self._log(
            entry, Outcome.ERROR, error.status, message, latency_ms, None, usage, cost, estimated=estimated
        )

    def interrupted(self, *, latency_ms: float, received: str = "") -> None:
        """The current send was cut short (Ctrl-C, SIGTERM, cancellation, a closed pipe):
        recorded as such, at its estimated cost (the prompt and the text `received`), and
        charged to its budgets."""
        if self._current is None:
            return
        send = self._take()
        attempt = self.attempts[-1]
        attempt.outcome, attempt.tries, attempt.latency_ms = (
            Outcome.INTERRUPTED,
            send.tries,
            round(latency_ms, 1),
        )
        try:
            self._cut_short(send, Outcome.INTERRUPTED, None, "interrupted", latency_ms, received)
        finally:
            self._settle()

    def _cut_short(
        self, send: Send, outcome: Outcome, status: int | None, error: str, latency_ms: float, received: str
    ) -> None:
        """Record an attempt that ended before its answer did, never as free: the provider
        bills what it read and wrote."""
        usage = counts.cut_short(self.prompt_tokens, received)
        cost = cost_of(send.entry, usage.input_tokens, usage.output_tokens)
        self._log(send.entry, outcome, status, error, latency_ms, None, usage, cost, estimated=True)
        self._charge_window(usage)

    def abandon(self) -> None:
        """The run stops early (Ctrl-C or cancellation while waiting, an unexpected error):
        a pending retry is dropped and any budget reservation released at once (if the store
        fails now too, the reservation expires on its own and the first error is the one told)."""
        self._current, self._wait = None, None
        try:
            self._settle()
        except Exception:  # the error being raised already says what broke
            self._spending.forget()

    def _take(self) -> Send:
        if self._current is None:
            raise RuntimeError("no send in progress")
        send, self._current = self._current, None
        return send

    def _delay(self, tries: int, error: ProviderError) -> float | None:
        """Seconds to wait before the next try of the same LLM, or None to move on."""
        if not error.retryable or tries > self.options.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= RETRY_AFTER_CAP else None
        backoff = min(BACKOFF_BASE * (2 ** (tries - 1)), BACKOFF_CAP)
        return backoff * (0.5 + self.services.rng() / 2)

    def _cool(self, entry: LLM, error: ProviderError) -> None:
        """Count the failure in the cooldown memory; a Retry-After longer than a try may
        wait for a slot holds the deployment back that long."""
        if self.services.cooldown is None:
            return
        after = error.retry_after if isinstance(error, RateLimited) else None
        hold = after if after is not None and after > self.services.max_wait else None
        self.services.cooldown.failed(entry, error, hold=hold)

    def _log(
        self,
        entry: LLM,
        outcome: Outcome,
        status: int | None,
        error: str | None,
        latency_ms: float,
        ttft_ms: float | None,
        usage: Usage,
        cost: float | None = None,
        *,
        estimated: bool = False,
    ) -> None:
        if self.services.record is None:
            return
        from llmctl.engine.usage import AttemptRecord

        record = AttemptRecord.of(entry, outcome, usage, status, error, latency_ms, ttft_ms, cost, estimated)
        labels = self.labels
        record.book, record.job, record.scope, record.batch_id = (
            labels.book,
            labels.job,
            labels.scope,
            labels.batch_id,
        )
        record.template_hash = labels.template_hash
        self.services.record(record)

    # --- how it ended ---------------------------------------------------------------------------

    def outcome(self) -> Result:
        """The answer. Raises StreamInterrupted when an answer broke off after its first
        byte, AllFailedError (listing every attempt, the picker's skips first) otherwise."""
        if self._interrupted is not None:
            raise self._interrupted
        if self._result is not None:
            return self._result
        raise failure_of(self.passed_over, self.attempts)


def _unresolved(exc: NotConfigured) -> Skip:
    """Why an LLM whose endpoint cannot be resolved is skipped: no key, or another setting."""
    return Skip(NO_KEY if isinstance(exc, KeyMissing) else NOT_CONFIGURED, exc.message)
