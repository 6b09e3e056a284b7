"""OpenAI-compatible chat completions: OpenAI, OpenRouter, Groq, Fireworks, Together,
Mistral, DeepSeek, xAI, Gemini's OpenAI endpoint, Azure OpenAI, vLLM, LM Studio,
llama.cpp and Ollama's /v1. Base URLs include the version path (`.../v1`)."""

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
    if endpoint.provider in MAX_COMPLETION_TOKENS and "max_tokens" in body:
        body["max_completion_tokens"] = body.pop("max_tokens")
    if stream:
        body["stream"] = True
        if endpoint.provider not in NO_STREAM_OPTIONS:
            body["stream_options"] = {"include_usage": True}
    url, params = _url(endpoint, model, "chat/completions")
    if endpoint.provider == "azure":
        body.pop("model")
    return HttpCall("POST", url, _headers(endpoint), body, params)


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
