"""OpenAI-compatible chat completions: OpenAI, OpenRouter, Groq, Fireworks, Together,
Mistral, DeepSeek, xAI, Gemini's OpenAI endpoint, Azure OpenAI, vLLM, LM Studio,
llama.cpp and Ollama's /v1. Base URLs include the version path (`.../v1`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from llmctl.errors import StreamBroken
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
    parse_json,
    parse_lines,
    stream_object,
    text_messages,
)

# OpenAI's own API (and Azure's) wants `max_completion_tokens`; its reasoning models refuse
# `max_tokens`. Other compatible servers still read `max_tokens`.
MAX_COMPLETION_TOKENS = {"openai", "azure"}
# Servers that refuse the `stream_options` field (Mistral answers 422); they report usage
# in the last chunk on their own.
NO_STREAM_OPTIONS = {"mistral"}

EMBEDDINGS = True


def _headers(endpoint: Endpoint) -> dict[str, str]:
    headers = {"content-type": "application/json", **endpoint.headers}
    if endpoint.api_key:
        if endpoint.provider == "azure":
            headers["api-key"] = endpoint.api_key
        else:
            headers["authorization"] = f"Bearer {endpoint.api_key}"
    return headers


def _url(endpoint: Endpoint, model: str, path: str) -> tuple[str, dict[str, str]]:
    if endpoint.provider == "azure":
        # Azure: the model is the deployment name; the version goes in the query string.
        return (
            f"{endpoint.base_url}/openai/deployments/{endpoint.deployment or model}/{path}",
            {"api-version": endpoint.api_version or ""},
        )
    return f"{endpoint.base_url}/{path}", {}


def build_chat(
    endpoint: Endpoint, model: str, req: ChatRequest, stream: bool, defaults: Mapping[str, Any] | None = None
) -> HttpCall:
    body: dict[str, Any] = {
        "model": model,
        "messages": text_messages(req),
        **merged_params(req, defaults or {}),
    }
    if req.wants_json:
        body["response_format"] = response_format(req)
    cap_field = max_tokens_field(endpoint)
    if cap_field != "max_tokens" and "max_tokens" in body:
        body[cap_field] = body.pop("max_tokens")
    if stream:
        body["stream"] = True
        if endpoint.provider not in NO_STREAM_OPTIONS:
            body["stream_options"] = {"include_usage": True}
    url, params = _url(endpoint, model, "chat/completions")
    if endpoint.provider == "azure":
        body.pop("model")
    return HttpCall("POST", url, _headers(endpoint), body, params)


def response_format(req: ChatRequest) -> dict[str, Any]:
    """Structured output, OpenAI's way: `json_schema` (strict) with a schema, else `json_object`."""
    if req.schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": ANSWER_NAME, "schema": req.schema, "strict": True}}


def max_tokens_field(endpoint: Endpoint) -> str:
    """`max_completion_tokens` for OpenAI's own API and Azure's, else `max_tokens`."""
    return "max_completion_tokens" if endpoint.provider in MAX_COMPLETION_TOKENS else "max_tokens"


def answer_cap(endpoint: Endpoint, call: HttpCall) -> int | None:
    """The output tokens a chat request allows (None: no cap): either name, as an entry's
    params may give the other one and compatible servers read both."""
    body = call.json or {}
    return body.get(max_tokens_field(endpoint)) or body.get("max_tokens") or body.get("max_completion_tokens")


def _usage(data: Any) -> Usage:
    if not isinstance(data, dict):
        return Usage()
    prompt = data.get("prompt_tokens_details") if isinstance(data.get("prompt_tokens_details"), dict) else {}
    completion = (
        data.get("completion_tokens_details")
        if isinstance(data.get("completion_tokens_details"), dict)
        else {}
    )
    return Usage(
        data.get("prompt_tokens"),
        data.get("completion_tokens"),
        prompt.get("cached_tokens"),
        completion.get("reasoning_tokens"),
    )


def parse_chat(data: Any, endpoint: Endpoint) -> ChatResult:
    try:
        choice = data["choices"][0]
        text = content_text(choice["message"].get("content"))
    except (KeyError, IndexError, TypeError, AttributeError):
        raise malformed(endpoint, data) from None
    return ChatResult(
        text=text,
        usage=_usage(data.get("usage")),
        model=data.get("model"),
        finish_reason=choice.get("finish_reason"),
    )


class OpenAIStream(StreamParser):
    """An SSE stream of `chat.completion.chunk` objects, ending at `[DONE]`. A server that
    ignores `stream` and answers with one JSON body gives one chunk."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self.sse = SSEDecoder()
        self.body: list[str] | None = None  # a plain JSON answer, gathered whole
        self.started = False

    def feed(self, line: str) -> list[Chunk]:
        if self.body is not None:
            self.body.append(line)
            return []
        if not self.started:
            if not line.strip():
                return []
            self.started = True
            if line.lstrip().startswith("{"):
                self.body = [line]
                return []
        return [c for _event, data in self.sse.feed(line) for c in self._event(data)]

    def close(self) -> list[Chunk]:
        if self.body is not None:
            result = parse_chat(parse_json("\n".join(self.body), self.endpoint), self.endpoint)
            self.done = True
            return [Chunk(text=result.text, usage=result.usage, finish_reason=result.finish_reason)]
        chunks = [c for _event, data in self.sse.close() for c in self._event(data)]
        if not self.done:
            raise StreamBroken(f"{self.endpoint.provider}: the stream ended without [DONE]")
        return chunks

    def _event(self, data: str) -> list[Chunk]:
        if self.done:
            return []
        if data.strip() == "[DONE]":
            self.done = True
            return []
        obj = stream_object(data, self.endpoint)
        choices = obj.get("choices") or []
        first = choices[0] if choices and isinstance(choices[0], dict) else {}
        delta = first.get("delta") if isinstance(first.get("delta"), dict) else {}
        try:
            text = content_text(delta.get("content"))
        except TypeError:
            raise malformed(self.endpoint, obj) from None
        chunk = Chunk(
            text=text,
            usage=_usage(obj["usage"]) if obj.get("usage") else None,
            finish_reason=first.get("finish_reason"),
        )
        return [chunk]


def stream_parser(endpoint: Endpoint) -> StreamParser:
    return OpenAIStream(endpoint)


def parse_stream(lines: Iterator[str], endpoint: Endpoint) -> Iterator[Chunk]:
    """Chunks of a streamed answer from its lines."""
    return parse_lines(OpenAIStream(endpoint), lines)


def build_embed(endpoint: Endpoint, model: str, texts: list[str]) -> HttpCall:
    url, params = _url(endpoint, model, "embeddings")
    return HttpCall("POST", url, _headers(endpoint), {"model": model, "input": texts}, params)


def parse_embed(data: Any, endpoint: Endpoint) -> tuple[list[list[float]], Usage]:
    try:
        vectors = [item["embedding"] for item in sorted(data["data"], key=lambda d: d.get("index", 0))]
        usage = data.get("usage") or {}
        return vectors, Usage(usage.get("prompt_tokens"), None)
    except (KeyError, TypeError, AttributeError):
        raise malformed(endpoint, data) from None


def build_models(endpoint: Endpoint) -> HttpCall:
    if endpoint.provider == "azure":
        return HttpCall(
            "GET",
            f"{endpoint.base_url}/openai/models",
            _headers(endpoint),
            None,
            {"api-version": endpoint.api_version or ""},
        )
    return HttpCall("GET", f"{endpoint.base_url}/models", _headers(endpoint))


def parse_models(data: Any, endpoint: Endpoint) -> list[dict[str, Any]]:
    """Model ids (and, from OpenRouter, the whole model objects)."""
    try:
        return [m if isinstance(m, dict) else {"id": str(m)} for m in data["data"]]
    except (KeyError, TypeError):
        raise malformed(endpoint, data) from None


# --- what --simulate answers ----------------------------------------------------------------


def asked(path: str, body: Any) -> Asked:
    """What a request built here asks for."""
    body = body if isinstance(body, dict) else {}
    if path.endswith("/embeddings"):
        texts = body.get("input")
        return Asked(embed=True, texts=tuple([texts] if isinstance(texts, str) else texts or ()))
    return Asked(stream=bool(body.get("stream")), texts=tuple(fakes.message_texts(body.get("messages"))))


def _usage_body(usage: Usage) -> dict[str, Any]:
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens}


def fake_chat(model: str, text: str, usage: Usage, stream: bool) -> Fake:
    """A chat completion, or its SSE stream of chunks (text, finish, usage, `[DONE]`)."""
    if not stream:
        choice = {"message": {"content": text}, "finish_reason": "stop"}
        return fakes.fake_json({"choices": [choice], "usage": _usage_body(usage), "model": model})
    chunks: list[dict[str, Any]] = [
        {"choices": [{"delta": {"content": part}, "finish_reason": None}]} for part in fakes.halves(text)
    ]
    chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    chunks.append({"choices": [], "usage": _usage_body(usage)})
    frames = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return fakes.fake_frames([*frames, _STREAM_END])


def fake_embed(model: str, vectors: list[list[float]], usage: Usage) -> Fake:
    data = [{"index": n, "embedding": v} for n, v in enumerate(vectors)]
    return fakes.fake_json({"data": data, "usage": {"prompt_tokens": usage.input_tokens}})


_STREAM_END = "data: [DONE]\n\n"
# OpenAI's error `type` and `code` for each fault's status (compatible servers copy them).
_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


def _error_body(fault: str, status: int, message: str) -> dict[str, Any]:
    kind, code = _ERRORS[status]
    if fault == "context":
        code = "context_length_exceeded"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def fake_failure(fault: str, stream: bool) -> Fake:
    return fakes.failure(fault, stream, _error_body, _STREAM_END)
