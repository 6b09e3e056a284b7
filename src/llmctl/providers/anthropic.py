"""Anthropic Messages API: `x-api-key` and `anthropic-version` headers, the system prompt
as a top-level field, `max_tokens` required, and its SSE event types. The base URL is
the server root; the client appends `/v1/messages`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from llmctl.errors import BadRequest, StreamBroken
from llmctl.providers import fakes
from llmctl.providers.fakes import Asked, Fake
from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import (
    ANSWER_NAME,
    ChatRequest,
    ChatResult,
    Chunk,
    HttpCall,
    SSEDecoder,
    StreamParser,
    Usage,
    content_text,
    malformed,
    merged_params,
    parse_lines,
    stream_object,
)

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
# Anthropic has no embeddings API.
EMBEDDINGS = False


def _headers(endpoint: Endpoint) -> dict[str, str]:
    headers = {"content-type": "application/json", "anthropic-version": API_VERSION, **endpoint.headers}
    if endpoint.api_key:
        headers["x-api-key"] = endpoint.api_key
    return headers


def build_chat(
    endpoint: Endpoint, model: str, req: ChatRequest, stream: bool, defaults: Mapping[str, Any] | None = None
) -> HttpCall:
    params = merged_params(req, defaults or {})
    system = "\n\n".join(m.content for m in req.messages if m.role == "system")
    messages = [{"role": m.role, "content": m.content} for m in req.messages if m.role != "system"]
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        max_tokens_field(endpoint): params.pop("max_tokens", None) or DEFAULT_MAX_TOKENS,
        **params,
    }
    if system:
        body["system"] = system
    if req.wants_json:
        body.update(forced_tool(req))
    if stream:
        body["stream"] = True
    return HttpCall("POST", f"{endpoint.base_url}/v1/messages", _headers(endpoint), body)


def forced_tool(req: ChatRequest) -> dict[str, Any]:
    """Structured output, Anthropic's way: one tool whose input schema is the answer's
    schema (any object without one), and the model made to call it; its input is the answer."""
    schema = req.schema if req.schema is not None else {"type": "object"}
    tool = {"name": ANSWER_NAME, "description": "Give the answer.", "input_schema": schema}
    return {"tools": [tool], "tool_choice": {"type": "tool", "name": ANSWER_NAME}}


def _answer_input(content: Any) -> str | None:
    """The forced tool's input as JSON text, when the answer is a call of it."""
    if not isinstance(content, list):
        return None
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") == ANSWER_NAME:
            return json.dumps(block.get("input"), ensure_ascii=False)
    return None


def max_tokens_field(endpoint: Endpoint) -> str:
    return "max_tokens"


def answer_cap(endpoint: Endpoint, call: HttpCall) -> int | None:
    """The output tokens a chat request allows (always capped: the API requires it)."""
    return (call.json or {}).get("max_tokens")


def _usage(data: Any) -> Usage:
    """Anthropic counts cache reads and writes apart from `input_tokens`; llmctl's input
    count is the whole prompt (as OpenAI's is), of which `cached_input_tokens` were read."""
    if not isinstance(data, dict):
        return Usage()
    fresh, read, written = (
        data.get(k) for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    )
    counts = [n for n in (fresh, read, written) if isinstance(n, int)]
    total = sum(counts) if isinstance(fresh, int) else fresh
    return Usage(
        total,
        data.get("output_tokens"),
        read if isinstance(read, int) and read else None,
        None,
        written if isinstance(written, int) and written else None,
    )


def parse_chat(data: Any, endpoint: Endpoint) -> ChatResult:
    try:
        text = content_text(data["content"])  # every text block, joined
        called = _answer_input(data["content"])  # structured output: the forced tool's input
        text = called if called is not None else text
    except (KeyError, TypeError, AttributeError):
        raise malformed(endpoint, data) from None
    return ChatResult(
        text=text,
        usage=_usage(data.get("usage")),
        model=data.get("model"),
        finish_reason=data.get("stop_reason"),
    )


class AnthropicStream(StreamParser):
    """message_start (input tokens), content_block_delta (text), message_delta (output
    tokens, stop reason), message_stop; `error` events become ProviderError; pings are skipped."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self.sse = SSEDecoder()
        self.usage = Usage()

    def feed(self, line: str) -> list[Chunk]:
        return [c for event, data in self.sse.feed(line) for c in self._event(event, data)]

    def close(self) -> list[Chunk]:
        chunks = [c for event, data in self.sse.close() for c in self._event(event, data)]
        if not self.done:
            raise StreamBroken(f"{self.endpoint.provider}: the stream ended without message_stop")
        return chunks

    def _event(self, event: str | None, data: str) -> list[Chunk]:
        if self.done:
            return []
        obj = stream_object(data, self.endpoint)
        kind = event or obj.get("type")
        if kind == "message_start":
            self.usage = _usage((obj.get("message") or {}).get("usage"))
        elif kind == "content_block_delta":
            delta = obj.get("delta") or {}
            if delta.get("type") == "input_json_delta":  # the forced tool's input, in pieces
                piece = delta.get("partial_json")
                if piece is not None and not isinstance(piece, str):
                    raise malformed(self.endpoint, obj)
                return [Chunk(text=piece or "")]
            if delta.get("type") == "text_delta":
                text = delta.get("text")
                if text is not None and not isinstance(text, str):
                    raise malformed(self.endpoint, obj)
                return [Chunk(text=text or "")]
        elif kind == "message_delta":
            # Output tokens come here; input tokens came with message_start (a later API
            # repeats them here, possibly as 0: the first count stands unless this one is larger).
            counts = obj.get("usage") or {}
            out = counts.get("output_tokens")
            first, later = self.usage, _usage(counts)
            newer = (
                isinstance(later.input_tokens, int)
                and later.input_tokens
                and (not isinstance(first.input_tokens, int) or later.input_tokens > first.input_tokens)
            )  # a count that is not a number is never compared (the engine checks counts)
            base = later if newer else first
            self.usage = Usage(
                base.input_tokens,
                out if out is not None else first.output_tokens,
                base.cached_input_tokens,
                None,
                base.cache_write_tokens,
            )
            return [Chunk(usage=self.usage, finish_reason=(obj.get("delta") or {}).get("stop_reason"))]
        elif kind == "message_stop":
            self.done = True
        return []


def stream_parser(endpoint: Endpoint) -> StreamParser:
    return AnthropicStream(endpoint)


def parse_stream(lines: Iterator[str], endpoint: Endpoint) -> Iterator[Chunk]:
    """Chunks of a streamed answer from its lines."""
    return parse_lines(AnthropicStream(endpoint), lines)


def build_models(endpoint: Endpoint) -> HttpCall:
    return HttpCall("GET", f"{endpoint.base_url}/v1/models", _headers(endpoint), None, {"limit": "1000"})


def parse_models(data: Any, endpoint: Endpoint) -> list[dict[str, Any]]:
    try:
        return [{"id": m["id"], "name": m.get("display_name")} for m in data["data"]]
    except (KeyError, TypeError):
        raise malformed(endpoint, data) from None


def build_embed(endpoint: Endpoint, model: str, texts: list[str]) -> HttpCall:
    raise BadRequest(f"{endpoint.provider} has no embeddings API")


def parse_embed(data: Any, endpoint: Endpoint) -> tuple[list[list[float]], Usage]:
    raise BadRequest(f"{endpoint.provider} has no embeddings API")


# --- what --simulate answers ----------------------------------------------------------------


def asked(path: str, body: Any) -> Asked:
    """What a request built here asks for (a chat: the protocol has no embeddings)."""
    body = body if isinstance(body, dict) else {}
    texts = [*fakes.message_texts(body.get("messages")), str(body.get("system") or "")]
    return Asked(stream=bool(body.get("stream")), texts=tuple(texts))


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"


def fake_chat(model: str, text: str, usage: Usage, stream: bool) -> Fake:
    """A message, or its event stream: message_start (input tokens), the text deltas,
    message_delta (output tokens, stop reason), message_stop."""
    if not stream:
        counts = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        content = [{"type": "text", "text": text}]
        return fakes.fake_json(
            {"content": content, "usage": counts, "stop_reason": "end_turn", "model": model}
        )
    start = _event(
        "message_start", {"message": {"model": model, "usage": {"input_tokens": usage.input_tokens}}}
    )
    block = _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    deltas = [
        _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": part}})
        for part in fakes.halves(text)
    ]
    end = [
        _event("content_block_stop", {"index": 0}),
        _event(
            "message_delta",
            {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": usage.output_tokens}},
        ),
        _STREAM_END,
    ]
    # the first piece carries the first text, as the server flushes the start with it
    return fakes.fake_frames([start + block + deltas[0], *deltas[1:], *end])


def fake_embed(model: str, vectors: list[list[float]], usage: Usage) -> Fake:
    raise BadRequest("anthropic has no embeddings API")


_STREAM_END = _event("message_stop", {})
# Anthropic's error types by status (https://docs.anthropic.com/en/api/errors).
_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
}


def _error_body(fault: str, status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERRORS[status], "message": message}}


def fake_failure(fault: str, stream: bool) -> Fake:
    return fakes.failure(fault, stream, _error_body, _STREAM_END)
