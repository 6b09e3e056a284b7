"""What every adapter shares, with no I/O: request and result types, the endpoint, and
the readers of bodies, statuses, Retry-After and streams that turn what a provider
answered into results or into the project's error classes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmctl.errors import (
    AuthFailed,
    BadRequest,
    ContextTooLong,
    Malformed,
    ModelNotFound,
    ProviderError,
    RateLimited,
    ServerFailed,
    StreamUnreadable,
    TimedOut,
    UsageError,
)
from llmctl.files.secrets import cut

CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "context window",
    "input is too long",
    "reduce the length",
)

if TYPE_CHECKING:
    from llmctl.providers.resolve import Endpoint


@dataclass(slots=True)
class Message:
    role: str
    content: str


@dataclass(slots=True)
class ChatRequest:
    """A chat request as the caller gives it; adapters turn it into their wire format."""

    messages: list[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # The answer's shape: "json" asks the provider for JSON in its own way, checked against
    # `schema` when there is one (structured output).
    output: str = "text"
    schema: dict[str, Any] | None = None

    @property
    def wants_json(self) -> bool:
        return self.output == "json" or self.schema is not None


def messages_for(text: str, system: str | None = None) -> list[Message]:
    """The messages of a plain prompt: the system prompt (if any), then the user's text.
    Raises UsageError for an empty prompt."""
    if not text.strip():
        raise UsageError("the prompt is empty: give TEXT, or pipe it on stdin")
    out = [Message("system", system)] if system else []
    out.append(Message("user", text))
    return out


@dataclass(slots=True)
class Usage:
    """Token counts as the provider reports them (None: not reported)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None  # input read from the provider's prompt cache
    reasoning_tokens: int | None = None  # output spent on reasoning
    cache_write_tokens: int | None = None  # input written to the provider's prompt cache

    def to_dict(self) -> dict[str, int | None]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass(slots=True)
class Chunk:
    """A piece of a streamed answer: text, and usage when the stream reports it."""

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class ChatResult:
    text: str
    usage: Usage
    model: str | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class HttpCall:
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)


ERROR_TEXT = 300  # characters of a provider's error text a message, row or body shows


def shown(text: str, endpoint: Endpoint, limit: int = ERROR_TEXT) -> str:
    """`text` as a message may show it: redacted whole (every key the endpoint knows, every
    key-shaped part), then cut to `limit` characters. The one place error text is shortened:
    cut first, a key straddling the cut would keep its head."""
    return cut(endpoint.redact(text), limit)


def parse_json(text: str, endpoint: Endpoint) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        snippet = shown(text, endpoint, 80).replace("\n", " ")
        raise Malformed(f"{endpoint.provider}: the response is not JSON ({snippet!r})") from None


def status_error(status: int, body: str, headers: Mapping[str, str], endpoint: Endpoint) -> ProviderError:
    """Map an HTTP error status and body to its ProviderError class, reading Retry-After."""
    detail = shown(error_message(body), endpoint)
    message = (
        f"{endpoint.provider} answered {status}: {detail}"
        if detail
        else f"{endpoint.provider} answered {status}"
    )
    lowered = detail.lower()
    if status in (400, 413, 422) and any(marker in lowered for marker in CONTEXT_MARKERS):
        return ContextTooLong(message, status=status)
    if status == 429:
        return RateLimited(message, status=status, retry_after=retry_after(headers))
    if status == 408:
        return TimedOut(message, status=status)
    if status >= 500:
        return ServerFailed(message, status=status, retry_after=retry_after(headers))
    if status in (401, 403):
        return AuthFailed(message, status=status)
    if status == 404:
        return ModelNotFound(message, status=status)
    return BadRequest(message, status=status)


def error_message(body: str) -> str:
    """The human part of an error body (OpenAI's, Anthropic's and Ollama's shapes, else the
    text), whole: `shown` redacts and cuts it."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            found = err.get("message") or err.get("detail") or err.get("type")
            if isinstance(found, str):
                return found
            return json.dumps(found if found is not None else err, ensure_ascii=False)
        if isinstance(err, str):
            return err
    return json.dumps(data, ensure_ascii=False)


_TEXT_PARTS = (None, "text", "output_text")  # part types that carry the answer's text


def content_text(content: Any) -> str:
    """The text of an answer's content, one string whichever way the provider gives it:
    a string, nothing, or a list of parts (`[{"type": "text", "text": ...}, ...]`, text
    blocks, plain strings) joined in order, parts that are not text (images, reasoning,
    tool calls) left out. Raises TypeError for anything else (the caller's malformed)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(content_text(part) for part in content)
    if isinstance(content, dict):
        if content.get("type") not in _TEXT_PARTS:
            return ""
        text = content.get("text")
        if isinstance(text, dict):  # `{"text": {"value": ...}}`, as some APIs nest it
            text = text.get("value")
        return content_text(text) if text is None or isinstance(text, str) else _unreadable(text)
    return _unreadable(content)


def _unreadable(content: Any) -> str:
    raise TypeError(f"answer content of type {type(content).__name__}")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def malformed(endpoint: Endpoint, data: Any) -> ProviderError:
    """A response whose shape the adapter cannot read (retryable: another try may do)."""
    text = shown(data if isinstance(data, str) else json.dumps(data, default=str), endpoint, 120)
    return Malformed(f"{endpoint.provider}: unexpected response shape: {text}")


def stream_object(text: str, endpoint: Endpoint) -> dict[str, Any]:
    """One JSON object of a stream. An `error` in it becomes a retryable ProviderError."""
    try:
        obj = json.loads(text)
    except ValueError:
        raise StreamUnreadable(
            f"{endpoint.provider}: a stream chunk is not JSON",
            hint="try --no-stream (stream=False in Python)",
        ) from None
    if not isinstance(obj, dict):
        raise malformed(endpoint, obj)
    if obj.get("error"):
        detail = shown(error_message(text), endpoint)
        overloaded = "overloaded" in detail.lower()
        raise ServerFailed(
            f"{endpoint.provider}: error in the stream: {detail}", status=529 if overloaded else None
        )
    return obj


class SSEDecoder:
    """Server-sent events, decoded line by line: `feed` returns the (event, data) pairs a
    line completes, `close` the last one of a stream that ends without a blank line."""

    __slots__ = ("event", "data")

    def __init__(self) -> None:
        self.event: str | None = None
        self.data: list[str] = []

    def feed(self, line: str) -> list[tuple[str | None, str]]:
        if not line:
            return self.close()
        if line.startswith("event:"):
            self.event = line[6:].strip()
        elif line.startswith("data:"):
            self.data.append(line[5:].lstrip(" "))
        return []  # comments (`:`) and other fields carry nothing for us

    def close(self) -> list[tuple[str | None, str]]:
        out = [(self.event, "\n".join(self.data))] if self.data else []
        self.event, self.data = None, []
        return out


class StreamParser:
    """Reads a streamed answer line by line (the sync and async engines feed it alike).

    `feed(line)` returns the chunks the line completes; `close()` the last ones, and raises
    StreamBroken when the stream ended before its protocol's terminator. Each protocol
    subclasses it."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.done = False

    def feed(self, line: str) -> list[Chunk]:
        raise NotImplementedError

    def close(self) -> list[Chunk]:
        raise NotImplementedError


def parse_lines(parser: StreamParser, lines: Iterator[str]) -> Iterator[Chunk]:
    """Every chunk of a stream whose lines are all at hand (or arrive from a sync iterator)."""
    for line in lines:
        yield from parser.feed(line)
        if parser.done:
            return
    yield from parser.close()


ANSWER_NAME = "answer"  # the name of the schema (OpenAI) or the forced tool (Anthropic)


def text_messages(req: ChatRequest) -> list[dict[str, str]]:
    """Messages as plain strings (the form every compatible server accepts)."""
    return [{"role": m.role, "content": m.content} for m in req.messages]


def merged_params(req: ChatRequest, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's default params overridden by the request's."""
    params = dict(defaults)
    params.update(req.params)
    if req.temperature is not None:
        params["temperature"] = req.temperature
    if req.max_tokens is not None:
        params["max_tokens"] = req.max_tokens
    return params
