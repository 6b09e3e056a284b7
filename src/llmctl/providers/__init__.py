"""Providers: the built-in table (`table`), the one resolver of base URL, key and headers
(`resolve`), the shared request/answer types and readers (`wire`), and one adapter per
wire protocol. Nothing here does I/O or imports an HTTP client: an adapter builds the
request (`HttpCall`) and reads the answer; the engine sends.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from llmctl.providers.fakes import Asked, Fake
    from llmctl.providers.resolve import Endpoint
    from llmctl.providers.wire import ChatRequest, ChatResult, Chunk, HttpCall, StreamParser, Usage


class Adapter(Protocol):
    """One wire protocol, as a module of `llmctl.providers` (named in `table.ADAPTERS`,
    reached by `adapter_for(endpoint.kind)`). Nothing does I/O: `build_*` returns the HTTP
    call to make, `parse_*` reads what came back (raising the project's ProviderError
    classes for an answer it cannot read), and `fake_*` are the answers `--simulate` sends
    in this protocol (the engine's simulator reads a request back with `asked`, then sends
    the adapter's own answer through the real transport stack).

    Example, as the engine drives it::

        adapter = adapter_for(endpoint.kind)
        call = adapter.build_chat(endpoint, entry.model, request, stream=False, defaults=entry.params)
        result = adapter.parse_chat(send_json(client, call, endpoint, timeout), endpoint)
        adapter.answer_cap(endpoint, call)          # the output tokens this request allows

        # --simulate: what the request asks, and this protocol's answer to it
        asked = adapter.asked(urlsplit(call.url).path, call.json)
        fake = adapter.fake_chat(entry.model, "hello", Usage(3, 1), asked.stream)
        adapter.fake_failure("429", asked.stream)   # the provider's own 429 body

    A new protocol is one module offering all of this and one row in `table.ADAPTERS`.
    Structured output (an answer that follows a JSON schema) will be one more `build_*`
    step here, the protocol's form of the schema; it is not built yet.
    """

    EMBEDDINGS: bool  # whether the protocol has an embeddings API

    # --- requests and answers ---------------------------------------------------------------

    def build_chat(
        self,
        endpoint: Endpoint,
        model: str,
        req: ChatRequest,
        stream: bool,
        defaults: Mapping[str, Any] | None,
    ) -> HttpCall:
        """The chat request; `defaults` are the entry's params, overridden by the request's."""

    def max_tokens_field(self, endpoint: Endpoint) -> str:
        """The name under which a chat request carries its cap on output tokens (dotted when
        it is nested: Ollama's `options.num_predict`)."""

    def answer_cap(self, endpoint: Endpoint, call: HttpCall) -> int | None:
        """The output tokens a chat request built by `build_chat` allows (None: no cap)."""

    def parse_chat(self, data: Any, endpoint: Endpoint) -> ChatResult:
        """The answer of a plain (not streamed) chat request, from its parsed JSON body."""

    def stream_parser(self, endpoint: Endpoint) -> StreamParser:
        """A parser fed a streamed answer's lines as they arrive (`feed`, then `close`, which
        raises StreamBroken when the stream ended without its terminator)."""

    def parse_stream(self, lines: Iterator[str], endpoint: Endpoint) -> Iterator[Chunk]:
        """Chunks of a streamed answer whose lines come from a (sync) iterator."""

    def build_embed(self, endpoint: Endpoint, model: str, texts: list[str]) -> HttpCall:
        """The embeddings request (only when EMBEDDINGS)."""

    def parse_embed(self, data: Any, endpoint: Endpoint) -> tuple[list[list[float]], Usage]:
        """The vectors, in the order of the texts, and the usage."""

    def build_models(self, endpoint: Endpoint) -> HttpCall:
        """The model-list request."""

    def parse_models(self, data: Any, endpoint: Endpoint) -> list[dict[str, Any]]:
        """The listed models as dicts with at least `id`."""

    # --- what --simulate answers in this protocol --------------------------------------------

    def asked(self, path: str, body: Any) -> Asked:
        """What a request this adapter built asks for, from its URL path and JSON body."""

    def fake_chat(self, model: str, text: str, usage: Usage, stream: bool) -> Fake:
        """A chat answer of `text` with `usage`: one JSON body, or the protocol's stream
        (its first piece carries the first text)."""

    def fake_embed(self, model: str, vectors: list[list[float]], usage: Usage) -> Fake:
        """An embeddings answer (only when EMBEDDINGS)."""

    def fake_failure(self, fault: str, stream: bool) -> Fake:
        """The answer of a fault in the body (`fakes.FAULTS`: 400, 401, 404, 429, 500, 503
        and `context` with the provider's error body; `malformed`; `empty`). Raises KeyError
        for another fault."""


def adapter_for(kind: str) -> Adapter:
    """Return the adapter for a wire protocol kind. Raises KeyError for an unknown kind."""
    from llmctl.providers.table import ADAPTERS

    return cast(Adapter, importlib.import_module(f"{__name__}.{ADAPTERS[kind]}"))
