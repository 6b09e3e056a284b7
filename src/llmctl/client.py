"""The Python client: sync and async `complete`, `chat`, `stream`, `embed`, and seed 002's
`get_llm().invoke(text).content` and `get_llm_with_fallback().invoke(text).content`."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog
from llmctl.engine.sender import Sender
from llmctl.errors import NoMatchError
from llmctl.paths import Home
from llmctl.providers.wire import ChatRequest, Message, Usage, messages_for
from llmctl.selection.decision import Request
from llmctl.selection.picker import Picker


@dataclass
class Response:
    """An answer: `.content` (seed 002) or `.text`, with the LLM that gave it and its cost."""

    content: str
    llm: str
    provider: str
    usage: Usage
    cost: float | None
    attempts: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content


MessageLike = Message | dict[str, str]


class LLMClient:
    """Sends to a chain of LLMs with the router's retries, fallback and cooldown."""

    def __init__(
        self,
        chain: LLM | Sequence[LLM],
        *,
        sender: Sender | None = None,
        home: Home | None = None,
        catalog: Catalog | None = None,
        retries: int | None = None,
        timeout: float | None = None,
        **defaults: Any,
    ) -> None:
        self.chain = [chain] if isinstance(chain, LLM) else list(chain)
        if not self.chain:
            raise NoMatchError("no LLM to send to")
        self.sender = sender or Sender.create(home, catalog)
        self.retries = retries
        self.timeout = timeout
        self.defaults = defaults

    # --- sync ---------------------------------------------------------------------------------

    def chat(self, messages: Sequence[MessageLike], **params: Any) -> Response:
        """Send messages; return the first answer of the chain. Raises AllFailedError."""
        result = self.sender.send(
            self.chain, self._request(messages, params), retries=self.retries, timeout=self.timeout
        )
        return Response(
            result.text, result.llm.id, result.llm.provider, result.usage, result.cost, result.attempts
        )

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
                self.sender.send(
                    self.chain,
                    req,
                    on_text=lambda t: pieces.put(("text", t)),
                    retries=self.retries,
                    timeout=self.timeout,
                )
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
        """Embedding vectors from the first LLM of the chain."""
        items = [texts] if isinstance(texts, str) else list(texts)
        vectors, _usage = self.sender.embed(self.chain[0], items, timeout=self.timeout)
        return vectors

    # --- async --------------------------------------------------------------------------------

    async def achat(self, messages: Sequence[MessageLike], **params: Any) -> Response:
        return await asyncio.to_thread(self.chat, messages, **params)

    async def acomplete(self, prompt: str, *, system: str | None = None, **params: Any) -> Response:
        return await asyncio.to_thread(self.complete, prompt, system=system, **params)

    async def ainvoke(self, prompt: str, **params: Any) -> Response:
        return await self.acomplete(prompt, **params)

    async def aembed(self, texts: str | Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed, texts)

    async def astream(self, prompt: str | Sequence[MessageLike], **params: Any) -> AsyncIterator[str]:
        iterator = self.stream(prompt, **params)
        done = object()
        while True:
            piece = await asyncio.to_thread(next, iterator, done)
            if piece is done:
                return
            yield piece

    def _request(self, messages: Sequence[MessageLike], params: dict[str, Any]) -> ChatRequest:
        msgs = [m if isinstance(m, Message) else Message(m["role"], m["content"]) for m in messages]
        merged = {**self.defaults, **params}
        return ChatRequest(msgs, merged.pop("temperature", None), merged.pop("max_tokens", None), merged)


def get_llm_with_fallback(
    *, scope: str = "global", home: Home | None = None, catalog: Catalog | None = None, **options: Any
) -> LLMClient:
    """Seed 002: a client over the enabled LLMs by priority (the scope's default first).

    `.invoke(text)` tries each in turn; when all fail it raises a RuntimeError
    (AllFailedError) listing every failure."""
    sender = Sender.create(home, catalog)
    usable = sender.catalog
    hook = sender.cooldown.hook()
    # Every enabled LLM, by priority, whatever its tier; those without a key or in cooldown
    # stay in the chain so that the router reports them (as skipped) when all fail.
    picker = Picker(usable, env=sender.env, unavailable=hook)
    request = Request(scope=scope, max_attempts=len(usable), allow_upgrade=True, assume_available=True)
    decision = picker.decide(request)
    return LLMClient(decision.chain, sender=sender, **options)


@dataclass(slots=True)
class SendableLLM(LLM):
    """A catalog entry that can send (seed 002: `get_llm().invoke(text).content`)."""

    @classmethod
    def of(cls, entry: LLM) -> SendableLLM:
        """The same entry, able to send."""
        return cls(*(getattr(entry, f.name) for f in fields(LLM)))

    def invoke(self, prompt: str, **params: Any) -> Response:
        """Send `prompt` to this LLM. Raises AllFailedError when it fails."""
        return LLMClient(self).invoke(prompt, **params)


__all__ = ["LLMClient", "Response", "SendableLLM", "get_llm_with_fallback"]
