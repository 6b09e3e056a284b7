"""The Python client: sync and native async `complete`, `chat`, `stream`, `embed`, many
prompts at once with `batch` / `abatch`, and seed 002's `get_llm().invoke(text).content`
and `get_llm_with_fallback().invoke(text).content`.

An `LLMClient` owns one connection pool (sync) and one async pool per event loop, reused
by all its calls; `with LLMClient(...) as c:` / `async with` closes them. An
`httpx.Client` / `httpx.AsyncClient` passed in is used as is and left open. The seed's
functions share the process's pool.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog
from llmctl.engine.options import DEFAULT_CONCURRENCY, SendOptions
from llmctl.engine.sender import Sender
from llmctl.errors import LlmctlWarning, NoMatchError
from llmctl.paths import Home
from llmctl.providers.wire import ChatRequest, Message, Usage, messages_for
from llmctl.selection.request import Selection

if TYPE_CHECKING:
    import httpx

    from llmctl.engine.answers import BatchLine
    from llmctl.engine.records import Result
    from llmctl.engine.router import Router


@dataclass
class Response:
    """An answer: `.content` (seed 002) or `.text`, with the LLM that gave it and its cost."""

    content: str
    llm: str
    provider: str
    usage: Usage
    cost: float | None
    attempts: list[Any] = field(default_factory=list)
    data: Any = None  # a JSON answer, parsed (run_job of a job whose output is JSON)

    @property
    def text(self) -> str:
        return self.content

    @classmethod
    def of(cls, result: Result) -> Response:
        return cls(
            result.text, result.llm.id, result.llm.provider, result.usage, result.cost, result.attempts
        )


MessageLike = Message | dict[str, str]


class LLMClient:
    """Sends to an LLM or a chain of LLMs with the engine's retries, fallback and cooldown."""

    def __init__(
        self,
        llm_or_chain: LLM | Sequence[LLM],
        *,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        sender: Sender | None = None,
        home: Home | None = None,
        catalog: Catalog | None = None,
        retries: int | None = None,
        timeout: float | None = None,
        max_cost: float | None = None,
        cache: bool | None = None,
        options: SendOptions | None = None,
        **defaults: Any,
    ) -> None:
        self.chain = [llm_or_chain] if isinstance(llm_or_chain, LLM) else list(llm_or_chain)
        if not self.chain:
            raise NoMatchError("no LLM to send to")
        from llmctl.engine.http import AsyncPool, make_client, split_clients

        # The sending options, whole (`options`) or one by one; a time limit or retries that
        # are not one (inf, NaN, over a day) are refused now (UsageError). The response
        # cache is used only when `cache=True`.
        chosen = options or SendOptions()
        self.options = replace(
            chosen,
            retries=chosen.retries if retries is None else retries,
            timeout=chosen.timeout if timeout is None else timeout,
            max_cost=chosen.max_cost if max_cost is None else max_cost,
            cache=chosen.cache if cache is None else cache,
        )

        given_sync, given_async = split_clients(http_client)
        base = sender or Sender.create(home, catalog)
        sync_client = given_sync or base.client
        self._own_client = sync_client is None
        # This client's own pools (a sender or clients passed in lend theirs).
        self.sender = base.lending(
            sync_client or make_client(),
            AsyncPool(given_async) if given_async is not None else (base.apool or AsyncPool()),
        )
        self.defaults = defaults

    # --- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync pool this client made (not one passed in)."""
        if self._own_client and self.sender.client is not None:
            self.sender.client.close()

    async def aclose(self) -> None:
        """Close both pools this client made."""
        self.close()
        if self.sender.apool is not None and self.sender.apool.given is None:
            await self.sender.apool.aclose()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # --- sync -----------------------------------------------------------------------------------

    def chat(self, messages: Sequence[MessageLike], **params: Any) -> Response:
        """Send messages; return the first answer of the chain. Raises AllFailedError."""
        return Response.of(self._router().chat(self._chain(), self._request(messages, params)))

    def complete(self, prompt: str, *, system: str | None = None, **params: Any) -> Response:
        return self.chat(messages_for(prompt, system), **params)

    def invoke(self, prompt: str, **params: Any) -> Response:
        """Seed 002's shape: `client.invoke(text).content`."""
        return self.complete(prompt, **params)

    def stream(self, prompt: str | Sequence[MessageLike], **params: Any) -> Iterator[str]:
        """Yield the answer's text as it arrives. Errors surface where they happen."""
        messages = messages_for(prompt) if isinstance(prompt, str) else prompt
        req = self._request(messages, params)
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

        def run() -> None:
            try:
                self._router().chat(self._chain(), req, on_text=lambda t: pieces.put(("text", t)))
                pieces.put(("done", None))
            except BaseException as exc:  # handed to the consumer's thread
                pieces.put(("error", exc))

        threading.Thread(target=run, daemon=True).start()
        while True:
            kind, value = pieces.get()
            if kind == "text":
                yield value
            elif kind == "error":
                raise value
            else:
                return

    def embed(self, texts: str | Sequence[str]) -> list[list[float]]:
        """Embedding vectors from the first LLM of the chain. Raises AllFailedError."""
        items = [texts] if isinstance(texts, str) else list(texts)
        return self.sender.embed(self.chain[0], items, self.options).vectors or []

    def batch(
        self, items: Sequence[dict[str, Any]], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> list[BatchLine]:
        """Send many prompts at once; items are dicts with the fields of a `batch` input line
        (`id` may be left out). Returns one `batch` output dict per item, in the items' order.
        Raises UsageError for a bad item before anything is sent."""
        return self.sender.run(lambda: self.abatch(items, concurrency=concurrency))

    # --- async ----------------------------------------------------------------------------------

    async def achat(self, messages: Sequence[MessageLike], **params: Any) -> Response:
        result = await self._router().achat(self._chain(), self._request(messages, params))
        return Response.of(result)

    async def acomplete(self, prompt: str, *, system: str | None = None, **params: Any) -> Response:
        return await self.achat(messages_for(prompt, system), **params)

    async def ainvoke(self, prompt: str, **params: Any) -> Response:
        return await self.acomplete(prompt, **params)

    async def aembed(self, texts: str | Sequence[str]) -> list[list[float]]:
        items = [texts] if isinstance(texts, str) else list(texts)
        result = await self.sender.aembed(self.chain[0], items, self.options)
        return result.vectors or []

    async def astream(self, prompt: str | Sequence[MessageLike], **params: Any) -> AsyncIterator[str]:
        """Yield the answer's text as it arrives, natively async."""
        messages = messages_for(prompt) if isinstance(prompt, str) else prompt
        req = self._request(messages, params)
        pieces: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def run() -> None:
            try:
                await self._router().achat(
                    self._chain(), req, on_text=lambda t: pieces.put_nowait(("text", t))
                )
                pieces.put_nowait(("done", None))
            except BaseException as exc:  # handed to the consumer
                pieces.put_nowait(("error", exc))

        task = asyncio.ensure_future(run())
        try:
            while True:
                kind, value = await pieces.get()
                if kind == "text":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            if not task.done():
                task.cancel()

    async def abatch(
        self, items: Sequence[dict[str, Any]], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> list[BatchLine]:
        """`batch` as a native coroutine."""
        from llmctl.engine.batch import BatchOptions, item_of, run_batch

        checked = []
        for n, raw in enumerate(items):
            raw = {"id": str(n), **raw} if isinstance(raw, dict) and "id" not in raw else raw
            checked.append(item_of(raw, f"item {n}"))
        defaults = dict(self.defaults)
        options = BatchOptions(
            max_tokens=defaults.get("max_tokens"),
            temperature=defaults.get("temperature"),
            sending=self.options,
        )
        lines: dict[str, BatchLine] = {}
        sender = _ChainSender(self.sender, self.chain)
        await run_batch(
            sender,
            checked,
            options,
            concurrency=concurrency,
            emit=lambda line: lines.__setitem__(line["id"], line),
        )
        return [lines[item.id] for item in checked]

    # --- shared ---------------------------------------------------------------------------------

    def _chain(self) -> list[LLM]:
        """The chain to send to: its first LLM only with `no_fallback`."""
        return self.chain[:1] if self.options.no_fallback else self.chain

    def _router(self) -> Router:
        return self.sender.router(self.options)

    def _request(self, messages: Sequence[MessageLike], params: dict[str, Any]) -> ChatRequest:
        msgs = [m if isinstance(m, Message) else Message(m["role"], m["content"]) for m in messages]
        merged = {**self.defaults, **params}
        return ChatRequest(msgs, merged.pop("temperature", None), merged.pop("max_tokens", None), merged)


class _ChainSender:
    """A sender whose plan is always the client's own chain (items may still name an LLM)."""

    def __init__(self, sender: Sender, chain: list[LLM]) -> None:
        self.sender = sender
        self.chain = chain

    def plan(self, selection: Any, req: ChatRequest, *, no_fallback: bool = False) -> Any:
        from llmctl.engine.sender import Plan

        chain = [self.sender.catalog.get(selection.llm)] if selection.llm else self.chain
        chain = chain[:1] if no_fallback else chain
        return Plan(decision=None, warnings=[], chain=chain)  # type: ignore[arg-type]

    async def aexecute(self, plan: Any, req: ChatRequest, options: SendOptions, **kw: Any) -> Any:
        return await self.sender.aexecute(plan, req, options, **kw)


def get_llm_with_fallback(
    *, scope: str = "global", home: Home | None = None, catalog: Catalog | None = None, **options: Any
) -> LLMClient:
    """Seed 002: a client over the enabled LLMs by priority (the scope's default first),
    on the process's shared pool.

    `.invoke(text)` tries each in turn; when all fail it raises a RuntimeError
    (AllFailedError) listing every failure."""
    from llmctl.engine.http import shared_client

    sender = Sender.create(home, catalog)
    # Every enabled LLM, by priority, whatever its tier; those without a key or in cooldown
    # stay in the chain so that the router reports them (as skipped) when all fail.
    everything = Selection(
        scope=scope,
        max_attempts=max(len(sender.catalog), 1),
        allow_upgrade=True,
        assume_available=True,
        prefer_providers=(),  # by priority alone, whatever config.toml prefers
        source="get_llm_with_fallback()",
    )
    decision, found = sender.decide(everything)
    for message in found:
        warnings.warn(LlmctlWarning(message), stacklevel=2)
    return LLMClient(decision.chain, sender=sender, http_client=shared_client(), **options)


@dataclass(slots=True)
class SendableLLM(LLM):
    """A catalog entry that can send (seed 002: `get_llm().invoke(text).content`)."""

    @classmethod
    def of(cls, entry: LLM) -> SendableLLM:
        """The same entry, able to send."""
        return cls(*(getattr(entry, f.name) for f in fields(LLM)))

    def invoke(self, prompt: str, **params: Any) -> Response:
        """Send `prompt` to this LLM over the process's shared pool. Raises AllFailedError."""
        from llmctl.engine.http import shared_client

        return LLMClient(self, http_client=shared_client()).invoke(prompt, **params)


__all__ = ["LLMClient", "Response", "SendableLLM", "get_llm_with_fallback"]
