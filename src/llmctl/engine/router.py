"""The drivers of the sending policy: `Router.chat` / `embed` (sync) and `achat` / `aembed`
(native async) walk a fallback chain by asking `engine.policy.ChainRun` what to do, and do
the HTTP and the waiting themselves. Everything else (retries, Retry-After, fallback,
cooldown, recording) is the policy's, so the two drivers cannot disagree.

`Router` takes its HTTP clients, sleep and clock as arguments, so tests drive it with
pytest-httpx or a local server and a fake clock, and `--simulate` with an in-process
transport and no sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from numbers import Number
from typing import TYPE_CHECKING, Any, TypeVar

from llmctl.catalog.costs import estimate_tokens
from llmctl.catalog.entry import LLM
from llmctl.engine.cached import cache_hooks
from llmctl.engine.counts import token_bound
from llmctl.engine.options import (
    DEFAULT_RETRIES,
    Labels,
    SendOptions,
    Services,
    bundled,
    retry_count,
    time_limit,
)
from llmctl.engine.policy import ChainRun, Send, Wait
from llmctl.engine.records import Attempt, Result
from llmctl.engine.renew import akept, kept
from llmctl.engine.stream import OnStart, OnText, StreamedAnswer, Tap, replayed, starter
from llmctl.engine.structured import achecked_answer, checked_answer
from llmctl.engine.texts import checked, checked_texts
from llmctl.errors import AuthFailed, LlmctlError, Malformed, ProviderError
from llmctl.providers import adapter_for
from llmctl.providers.resolve import Endpoint, resolve_endpoint
from llmctl.providers.wire import ChatRequest, ChatResult, Usage, shown

if TYPE_CHECKING:
    import httpx


__all__ = [
    "DEFAULT_RETRIES",
    "Attempt",
    "Labels",
    "OnStart",
    "Result",
    "Router",
    "SendOptions",
    "Services",
    "checked_texts",
    "retry_count",
    "time_limit",
]

T = TypeVar("T")
# What one try gives the drivers: the answer, and its vectors when it embedded.
Answered = tuple[ChatResult, list[list[float]] | None]


@dataclass
class Router:
    """Walks fallback chains with `services` (the HTTP pools, the state stores, the clock),
    as `options` say (retries, time limit, --max-cost), recording under `labels`.
    `services.client` serves the sync entry points; `services.apool` (an `AsyncPool`) the
    async ones."""

    services: Services = field(default_factory=Services)
    options: SendOptions = field(default_factory=SendOptions)
    labels: Labels = field(default_factory=Labels)
    # The weighted draws between deployments, one sequence for every run (`--seed`).
    _draws: random.Random | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, **fields: Any) -> Router:
        """A router from loose fields (`Router.of(env=..., retries=0)`), each put in its
        bundle. Raises TypeError for a field of none, UsageError for a bad option."""
        return cls(*bundled(**fields))

    def _run(
        self,
        chain: Sequence[LLM],
        passed_over: Sequence[Attempt],
        texts: Sequence[str] = (),
        max_tokens: int | None = None,
        req: ChatRequest | None = None,
    ) -> ChainRun:
        services = self.services

        def resolve(entry: LLM) -> Endpoint:
            endpoint = resolve_endpoint(
                entry,
                services.providers,
                services.env,
                require_key=services.require_key,
                run_key_cmd=services.key_commands,
            )
            endpoint.known_keys += services.key_commands.keys()
            return endpoint

        return ChainRun(
            chain,
            resolve,
            services,
            self.options,
            self.labels,
            passed_over=passed_over,
            prompt_tokens=estimate_tokens(texts) if texts else 0,
            prompt_bound=token_bound(texts) if texts else None,
            max_tokens=max_tokens,
            draws=self._drawn(),
            **cache_hooks(services.cache, req),
        )

    def _drawn(self) -> random.Random:
        """The router's generator of weighted draws, seeded by `--seed` (else at random)."""
        if self._draws is None:
            seed = self.options.seed if self.options.seed is not None else self.services.rng()
            self._draws = random.Random(seed)
        return self._draws

    # --- sync -----------------------------------------------------------------------------------

    def chat(
        self,
        chain: Sequence[LLM],
        req: ChatRequest,
        *,
        on_text: OnText | None = None,
        passed_over: Sequence[Attempt] = (),
        on_start: OnStart | None = None,
    ) -> Result:
        """Send `req` to the first LLM of `chain` that answers, streaming to `on_text` when
        given (`on_start` hears which LLM before its first text). `passed_over` (the picker's
        skips) head the attempts of the result or error.

        Raises AllFailedError when every one fails, StreamInterrupted when an answer breaks
        off after its first byte, TextNotUnicode (nothing sent) for text that is not valid
        Unicode."""
        texts = checked_texts(req)
        run = self._run(chain, passed_over, texts, req.max_tokens, req)

        def attempt(step: Send, tap: Tap) -> Answered:
            answer = self._chat_once(step, req, tap if on_text is not None else None)
            return checked_answer(req, answer, lambda again: self._chat_once(step, again, None)), None

        return replayed(self._drive(run, attempt, on_text, on_start), on_text)

    def preview(
        self, chain: Sequence[LLM], req: ChatRequest, *, passed_over: Sequence[Attempt] = ()
    ) -> tuple[list[Attempt], LlmctlError | None]:
        """What `chat` would do before sending, sending nothing (a dry run): an attempt per
        LLM of `chain`, skipped (with the reason) or planned, and the error `chat` would
        raise when every one is skipped. Raises TextNotUnicode as `chat` does."""
        return self._run(chain, passed_over, checked_texts(req), req.max_tokens).preview()

    def embed(self, chain: Sequence[LLM], texts: list[str]) -> Result:
        """Embedding vectors of `texts` from the first LLM of `chain` that answers (in
        `Result.vectors`). Raises AllFailedError."""
        from llmctl.engine.http import send_json

        run = self._run(chain, (), checked(texts))

        def attempt(step: Send, _tap: Tap) -> Answered:
            adapter, call = self._embed_call(step, texts)
            data = send_json(self._sync_client(), call, step.endpoint, *self._limits())
            return _embedded(adapter.parse_embed(data, step.endpoint), step)

        return self._drive(run, attempt)

    def _drive(
        self,
        run: ChainRun,
        attempt: Callable[[Send, Tap], Answered],
        on_text: OnText | None = None,
        on_start: OnStart | None = None,
    ) -> Result:
        """The sync driver: walk `run`, making each try with `attempt` and sleeping its waits.
        Returns the Result; raises what `ChainRun.outcome` raises, or what interrupted it."""
        services = self.services
        try:
            while (step := run.next()) is not None:
                if isinstance(step, Wait):
                    services.sleep(step.seconds)
                    continue
                started = services.clock()
                tap = Tap(services.clock, on_text, run.still_sending, starter(on_start, run, step))
                try:
                    with kept(run):
                        answer, vectors = attempt(step, tap)
                except ProviderError as exc:
                    self._refused(exc, step)
                    run.failed(
                        exc, latency_ms=self._ms(started), streamed=tap.first is not None, received=tap.text
                    )
                    continue
                except BaseException:  # Ctrl-C, SIGTERM, a closed pipe: the attempt is still recorded
                    run.interrupted(latency_ms=self._ms(started), received=tap.text)
                    raise
                ttft = self._ttft(tap, started)
                run.succeeded(answer, latency_ms=self._ms(started), ttft_ms=ttft, vectors=vectors)
        except BaseException:  # interrupted while waiting, or an unexpected error
            run.abandon()
            raise
        return run.outcome()

    def _limits(self) -> tuple[float | None, int | None]:
        """The time limit and the largest answer, as the HTTP functions take them."""
        return self.options.timeout, self.services.max_bytes

    def _sync_client(self) -> httpx.Client:
        if self.services.client is None:
            from llmctl.engine.http import shared_client

            self.services.client = shared_client()
        return self.services.client

    def _chat_once(self, step: Send, req: ChatRequest, tap: Tap | None) -> ChatResult:
        from llmctl.engine.http import send_json, stream_lines

        adapter, call = self._chat_call(step, req, stream=tap is not None)
        if tap is None:
            data = send_json(self._sync_client(), call, step.endpoint, *self._limits())
            return adapter.parse_chat(data, step.endpoint)
        parser = adapter.stream_parser(step.endpoint)
        answer = StreamedAnswer(step.entry)
        for line in stream_lines(self._sync_client(), call, step.endpoint, *self._limits()):
            answer.take(parser.feed(line), tap)
            if parser.done:
                break
        answer.take(parser.close(), tap)
        return answer.result(tap)

    # --- async ----------------------------------------------------------------------------------

    async def achat(
        self,
        chain: Sequence[LLM],
        req: ChatRequest,
        *,
        on_text: OnText | None = None,
        passed_over: Sequence[Attempt] = (),
        on_start: OnStart | None = None,
    ) -> Result:
        """`chat` as a native coroutine, over the async pool. A cancelled task (a client
        leaving `serve`) records its attempt as interrupted, at its estimated cost."""
        texts = checked_texts(req)
        await self._keys_ready(chain)
        run = self._run(chain, passed_over, texts, req.max_tokens, req)

        async def attempt(step: Send, tap: Tap) -> Answered:
            work = self._achat_once(step, req, tap if on_text is not None else None)
            answer = await self._bounded(work, step)
            again = lambda fixed: self._bounded(self._achat_once(step, fixed, None), step)  # noqa: E731
            return await achecked_answer(req, answer, again), None

        return replayed(await self._adrive(run, chain, attempt, on_text, on_start), on_text)

    async def aembed(self, chain: Sequence[LLM], texts: list[str]) -> Result:
        """`embed` as a native coroutine."""
        from llmctl.engine.http import asend_json

        run = self._run(chain, (), checked(texts))
        await self._keys_ready(chain)

        async def attempt(step: Send, _tap: Tap) -> Answered:
            adapter, call = self._embed_call(step, texts)
            work = asend_json(self._async_client(), call, step.endpoint, *self._limits())
            data = await self._bounded(work, step)
            return _embedded(adapter.parse_embed(data, step.endpoint), step)

        return await self._adrive(run, chain, attempt)

    async def _adrive(
        self,
        run: ChainRun,
        chain: Sequence[LLM],
        attempt: Callable[[Send, Tap], Awaitable[Answered]],
        on_text: OnText | None = None,
        on_start: OnStart | None = None,
    ) -> Result:
        """The async driver: `_drive` on the event loop (a key the provider refuses is asked
        for again off the loop, from `chain`'s key commands)."""
        services = self.services
        try:
            while (step := run.next()) is not None:
                if isinstance(step, Wait):
                    await services.asleep(step.seconds)
                    continue
                started = services.clock()
                tap = Tap(services.clock, on_text, run.still_sending, starter(on_start, run, step))
                try:
                    async with akept(run):
                        answer, vectors = await attempt(step, tap)
                except ProviderError as exc:
                    if self._refused(exc, step):
                        await self._keys_ready(chain)  # asked again off the loop, not inline
                    run.failed(
                        exc, latency_ms=self._ms(started), streamed=tap.first is not None, received=tap.text
                    )
                    continue
                except BaseException:  # Ctrl-C, cancellation, a closed pipe: still recorded
                    run.interrupted(latency_ms=self._ms(started), received=tap.text)
                    raise
                ttft = self._ttft(tap, started)
                run.succeeded(answer, latency_ms=self._ms(started), ttft_ms=ttft, vectors=vectors)
        except BaseException:  # interrupted while waiting, or an unexpected error
            run.abandon()
            raise
        return run.outcome()

    async def _bounded(self, work: Awaitable[T], step: Send) -> T:
        """`work` within the time limit: the whole attempt's, however its bytes come.
        Raises TimedOut past it."""
        if self.options.timeout is None:
            return await work
        try:
            async with asyncio.timeout(self.options.timeout):
                return await work
        except TimeoutError:
            from llmctl.engine.http import out_of_time

            raise out_of_time(step.endpoint, self.options.timeout) from None

    def _refused(self, exc: ProviderError, step: Send) -> bool:
        """A key the provider refuses is asked for again next time (a token may have
        expired). True when a key was forgotten."""
        if isinstance(exc, AuthFailed) and step.endpoint.api_key:
            return self.services.key_commands.refused(step.endpoint.api_key)
        return False

    async def _keys_ready(self, chain: Sequence[LLM]) -> None:
        """Run the chain's key commands in a worker thread first, so the event loop never
        waits on a password manager (the policy then finds their keys, or failures, known)."""
        from llmctl.providers.resolve import key_cmd, key_env

        for entry in chain:
            name = key_env(entry, self.services.providers)
            command = (
                key_cmd(entry, self.services.providers) if name and not self.services.env.get(name) else None
            )
            if command and not self.services.key_commands.settled(command):
                with contextlib.suppress(ProviderError):
                    await asyncio.to_thread(self.services.key_commands, command)

    def _async_client(self) -> httpx.AsyncClient:
        if self.services.apool is None:
            from llmctl.engine.http import AsyncPool

            self.services.apool = AsyncPool()
        return self.services.apool.get()

    async def _achat_once(self, step: Send, req: ChatRequest, tap: Tap | None) -> ChatResult:
        from llmctl.engine.http import asend_json, astream_lines

        adapter, call = self._chat_call(step, req, stream=tap is not None)
        if tap is None:
            data = await asend_json(self._async_client(), call, step.endpoint, *self._limits())
            return adapter.parse_chat(data, step.endpoint)
        parser = adapter.stream_parser(step.endpoint)
        answer = StreamedAnswer(step.entry)
        lines = astream_lines(self._async_client(), call, step.endpoint, *self._limits())
        try:
            async for line in lines:
                answer.take(parser.feed(line), tap)
                if parser.done:
                    break
        finally:
            await lines.aclose()
        answer.take(parser.close(), tap)
        return answer.result(tap)

    # --- shared ---------------------------------------------------------------------------------

    def _chat_call(self, step: Send, req: ChatRequest, *, stream: bool) -> tuple[Any, Any]:
        adapter = adapter_for(step.endpoint.kind)
        call = adapter.build_chat(step.endpoint, step.entry.model, req, stream, step.entry.params)
        if self.services.tag is not None:
            call.headers.update(self.services.tag(step.entry))
        return adapter, call

    def _embed_call(self, step: Send, texts: list[str]) -> tuple[Any, Any]:
        adapter = adapter_for(step.endpoint.kind)
        call = adapter.build_embed(step.endpoint, step.entry.model, texts)
        if self.services.tag is not None:
            call.headers.update(self.services.tag(step.entry))
        return adapter, call

    def _ms(self, started: float) -> float:
        return (self.services.clock() - started) * 1000

    def _ttft(self, tap: Tap, started: float) -> float | None:
        return None if tap.first is None else (tap.first - started) * 1000


def _embedded(parsed: tuple[Any, Usage], step: Send) -> Answered:
    """An embeddings answer as the drivers take it: its usage and its vectors. Anything but
    lists of numbers is malformed."""
    vectors, usage = parsed
    good = (
        isinstance(vectors, list)
        and vectors
        and all(
            isinstance(v, list) and v and all(isinstance(x, Number) and not isinstance(x, bool) for x in v)
            for v in vectors
        )
    )
    if not good:
        raise Malformed(
            f"{step.entry.provider}: the embeddings answer is not a list of numbers: "
            + shown(repr(vectors), step.endpoint, 80)
        )
    return ChatResult("", usage), vectors
