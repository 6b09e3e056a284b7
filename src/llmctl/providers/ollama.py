"""Ollama's native API: `/api/chat` (NDJSON streaming), `/api/embed`, `/api/tags`.
No key; the base URL is the server root (default http://localhost:11434)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from llmctl.errors import StreamBroken
from llmctl.providers import fakes
from llmctl.providers.fakes import Asked, Fake
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
    if req.wants_json:  # structured output, Ollama's way: the schema, or plain JSON
        body["format"] = req.schema if req.schema is not None else "json"
    return HttpCall("POST", f"{endpoint.base_url}/api/chat", _headers(endpoint), body)


def max_tokens_field(endpoint: Endpoint) -> str:
    return f"options.{_OPTION_NAMES['max_tokens']}"


def answer_cap(endpoint: Endpoint, call: HttpCall) -> int | None:
    """The output tokens a chat request allows (None: no cap)."""
    options = (call.json or {}).get("options") or {}
    return options.get(_OPTION_NAMES["max_tokens"])


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


# --- what --simulate answers ----------------------------------------------------------------


def asked(path: str, body: Any) -> Asked:
    """What a request built here asks for (Ollama streams unless told not to)."""
    body = body if isinstance(body, dict) else {}
    if path.endswith("/api/embed"):
        texts = body.get("input")
        return Asked(embed=True, texts=tuple([texts] if isinstance(texts, str) else texts or ()))
    return Asked(
        stream=bool(body.get("stream", True)), texts=tuple(fakes.message_texts(body.get("messages")))
    )


def fake_chat(model: str, text: str, usage: Usage, stream: bool) -> Fake:
    """A chat answer, or its NDJSON stream: a line a piece of text, then the `done` line
    with the token counts."""
    counts = {"prompt_eval_count": usage.input_tokens, "eval_count": usage.output_tokens}
    if not stream:
        return fakes.fake_json({"message": {"content": text}, "done": True, **counts, "model": model})
    lines = [{"model": model, "message": {"content": part}, "done": False} for part in fakes.halves(text)]
    lines.append({"model": model, "message": {"content": ""}, "done": True, "done_reason": "stop", **counts})
    return fakes.fake_frames(json.dumps(line) + "\n" for line in lines)


def fake_embed(model: str, vectors: list[list[float]], usage: Usage) -> Fake:
    return fakes.fake_json({"model": model, "embeddings": vectors, "prompt_eval_count": usage.input_tokens})


_STREAM_END = '{"done": true}\n'


def _error_body(fault: str, status: int, message: str) -> dict[str, Any]:
    return {"error": message}  # Ollama's errors are one string


def fake_failure(fault: str, stream: bool) -> Fake:
    return fakes.failure(fault, stream, _error_body, _STREAM_END)
