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
    from llmctl.providers.resolve import Endpoint
    from llmctl.providers.wire import ChatRequest, ChatResult, Chunk, HttpCall, StreamParser, Usage

_MODULES = {
    "openai_compat": "llmctl.providers.openai_compat",
    "anthropic": "llmctl.providers.anthropic",
    "ollama": "llmctl.providers.ollama",
}


class Adapter(Protocol):
    """What every wire-protocol module offers. No method does I/O: `build_*` returns the
    HTTP call to make, `parse_*` reads what came back (raising the project's ProviderError
    classes for answers it cannot read).

    Example, as the engine drives it::

        adapter = adapter_for(endpoint.kind)
        call = adapter.build_chat(endpoint, entry.model, request, stream=False, defaults=entry.params)
        result = adapter.parse_chat(send_json(client, call, endpoint, timeout), endpoint)
    """

    EMBEDDINGS: bool  # whether the protocol has an embeddings API

    def build_chat(
        self,
        endpoint: Endpoint,
        model: str,
        req: ChatRequest,
        stream: bool,
        defaults: Mapping[str, Any] | None,
    ) -> HttpCall:
        """The chat request; `defaults` are the entry's params, overridden by the request's."""

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


def adapter_for(kind: str) -> Adapter:
    """Return the adapter for a wire protocol kind. Raises KeyError for an unknown kind."""
    return cast(Adapter, importlib.import_module(_MODULES[kind]))
