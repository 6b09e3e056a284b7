"""Ollama's native API: `/api/chat` (NDJSON streaming), `/api/embed`, `/api/tags`.
No key; the base URL is the server root (default http://localhost:11434)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from llmctl.errors import StreamBroken
from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import (
    ChatRequest,
    ChatResult,
    Chunk,
    HttpCall,
    StreamParser,
    Usage,
    content_text,
    malformed,
    merged_params,
    parse_lines,
    stream_object,
    text_messages,
)

# Request parameters Ollama reads from `options`, under its own names.
_OPTION_NAMES = {
    "max_tokens": "num_predict",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "stop": "stop",
}

EMBEDDINGS = True


def _headers(endpoint: Endpoint) -> dict[str, str]:
    headers = {"content-type": "application/json", **endpoint.headers}
    if endpoint.api_key:
        headers["authorization"] = f"Bearer {endpoint.api_key}"
    return headers


def build_chat(
    endpoint: Endpoint, model: str, req: ChatRequest, stream: bool, defaults: Mapping[str, Any] | None = None
) -> HttpCall:
    params = merged_params(req, defaults or {})
    options = {_OPTION_NAMES.get(k, k): v for k, v in params.items()}
    body: dict[str, Any] = {"model": model, "messages": text_messages(req), "stream": stream}
    if options:
        body["options"] = options
    return HttpCall("POST", f"{endpoint.base_url}/api/chat", _headers(endpoint), body)


def _usage(data: Mapping[str, Any]) -> Usage:
    return Usage(data.get("prompt_eval_count"), data.get("eval_count"))


def parse_chat(data: Any, endpoint: Endpoint) -> ChatResult:
    try:
        text = content_text(data["message"].get("content"))
    except (KeyError, TypeError, AttributeError):
        raise malformed(endpoint, data) from None
    return ChatResult(
        text=text, usage=_usage(data), model=data.get("model"), finish_reason=data.get("done_reason")
    )


class OllamaStream(StreamParser):
    """One JSON object per line; the last has `done: true` and the token counts."""

    def feed(self, line: str) -> list[Chunk]:
        if self.done or not line.strip():
            return []
        obj = stream_object(line, self.endpoint)
        try:
            text = content_text((obj.get("message") or {}).get("content"))
        except (TypeError, AttributeError):
            raise malformed(self.endpoint, obj) from None
        if obj.get("done"):
            self.done = True
            return [Chunk(text=text, usage=_usage(obj), finish_reason=obj.get("done_reason"))]
        return [Chunk(text=text)]

    def close(self) -> list[Chunk]:
        if not self.done:
            raise StreamBroken(f"{self.endpoint.provider}: the stream ended before `done`")
        return []


def stream_parser(endpoint: Endpoint) -> StreamParser:
    return OllamaStream(endpoint)


def parse_stream(lines: Iterator[str], endpoint: Endpoint) -> Iterator[Chunk]:
    """Chunks of a streamed answer from its lines."""
    return parse_lines(OllamaStream(endpoint), lines)


def build_embed(endpoint: Endpoint, model: str, texts: list[str]) -> HttpCall:
    return HttpCall(
        "POST", f"{endpoint.base_url}/api/embed", _headers(endpoint), {"model": model, "input": texts}
    )


def parse_embed(data: Any, endpoint: Endpoint) -> tuple[list[list[float]], Usage]:
    try:
        return data["embeddings"], Usage(data.get("prompt_eval_count"), None)
    except (KeyError, TypeError, AttributeError):
        raise malformed(endpoint, data) from None


def build_models(endpoint: Endpoint) -> HttpCall:
    return HttpCall("GET", f"{endpoint.base_url}/api/tags", _headers(endpoint))


def parse_models(data: Any, endpoint: Endpoint) -> list[dict[str, Any]]:
    try:
        return [{"id": m["name"], "context_length": None} for m in data["models"]]
    except (KeyError, TypeError):
        raise malformed(endpoint, data) from None
