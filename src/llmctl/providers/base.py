"""What every adapter shares: request and result types, endpoint resolution, and the HTTP
calls that turn httpx errors and HTTP statuses into ProviderError (httpx errors never
leave this package)."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from llmctl.errors import ProviderError
from llmctl.provider_info import (
    BUILTIN_PROVIDERS,
    OPENAI_COMPAT,
    base_url_env_name,
    base_url_for,
    key_env_for,
)
from llmctl.records import LLM

AZURE_API_VERSION = "2024-10-21"
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


@dataclass(slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None

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


@dataclass(slots=True)
class Endpoint:
    """Where and how to reach one provider for one entry. The key is read from the
    environment when the endpoint is resolved, right before the request, and never stored."""

    provider: str
    kind: str
    base_url: str
    key_env: str | None
    api_key: str | None = field(default=None, repr=False)
    headers: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None

    def redact(self, text: str) -> str:
        """Remove this endpoint's key from `text` (for errors and logs)."""
        return text.replace(self.api_key, "***") if self.api_key else text


def resolve_endpoint(
    entry: LLM,
    providers: Mapping[str, Mapping[str, Any]],
    env: Mapping[str, str],
    *,
    require_key: bool = True,
) -> Endpoint:
    """Return the endpoint for `entry`: its `api_base` wins, then `auth.base_url_env`, then
    `<PROVIDER>_BASE_URL`, then config.toml's provider `base_url`, then the built-in one.

    Raises ProviderError(kind="no_key") when the key variable is unset.
    """
    custom = dict(providers.get(entry.provider, {}))
    builtin = BUILTIN_PROVIDERS.get(entry.provider)
    kind = custom.get("kind") or (builtin.kind if builtin else OPENAI_COMPAT)
    base_url = base_url_for(entry.provider, entry.api_base, entry.auth, dict(providers), dict(env))
    if not base_url:
        raise ProviderError(
            f"no base URL for provider {entry.provider}: set {base_url_env_name(entry.provider)} or api_base",
            kind="bad_request",
        )
    key_env = key_env_for(entry.provider, entry.auth.get("api_key_env"), custom.get("api_key_env"))
    api_key = env.get(key_env) if key_env else None
    if key_env and not api_key and require_key:
        raise ProviderError(f"{key_env} is not set", kind="no_key")
    version = None
    if entry.provider == "azure":
        version = env.get("AZURE_OPENAI_API_VERSION") or custom.get("api_version") or AZURE_API_VERSION
    return Endpoint(
        provider=entry.provider,
        kind=kind,
        base_url=base_url,
        key_env=key_env,
        api_key=api_key,
        headers=dict(custom.get("headers", {})),
        api_version=version,
    )


# --- HTTP ---------------------------------------------------------------------------------------


def send_json(client: httpx.Client, call: HttpCall, endpoint: Endpoint, timeout: float | None) -> Any:
    """Send `call` and return the parsed JSON body. Raises ProviderError."""
    try:
        response = client.request(
            call.method,
            call.url,
            headers=call.headers,
            json=call.json,
            params=call.params or None,
            timeout=_timeout(timeout),
        )
    except httpx.HTTPError as exc:
        raise transport_error(exc, endpoint) from None
    if response.status_code >= 400:
        raise status_error(response.status_code, response.text, response.headers, endpoint)
    return parse_json(response.text, endpoint)


def stream_lines(
    client: httpx.Client, call: HttpCall, endpoint: Endpoint, timeout: float | None
) -> Iterator[str]:
    """Send `call` and yield the response body line by line. Raises ProviderError; a
    failure after the first line is `stream_broken` (or `timeout`)."""
    started = False
    try:
        with client.stream(
            call.method,
            call.url,
            headers=call.headers,
            json=call.json,
            params=call.params or None,
            timeout=_timeout(timeout),
        ) as response:
            if response.status_code >= 400:
                body = response.read().decode("utf-8", "replace")
                raise status_error(response.status_code, body, response.headers, endpoint)
            for line in response.iter_lines():
                started = True
                yield line
    except httpx.HTTPError as exc:
        error = transport_error(exc, endpoint)
        if started and error.kind != "timeout":
            raise ProviderError(
                f"{endpoint.provider}: the stream broke off: {error.message}",
                kind="stream_broken",
                retryable=True,
            ) from None
        raise error from None


def _timeout(seconds: float | None) -> httpx.Timeout:
    if seconds is None:
        return httpx.Timeout(600.0, connect=10.0)
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def parse_json(text: str, endpoint: Endpoint) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        snippet = endpoint.redact(text[:80]).replace("\n", " ")
        raise ProviderError(
            f"{endpoint.provider}: the response is not JSON ({snippet!r})", kind="malformed", retryable=True
        ) from None


def transport_error(exc: Exception, endpoint: Endpoint) -> ProviderError:
    """Map an httpx exception to a ProviderError."""
    where = f"{endpoint.provider} at {endpoint.base_url}"
    if isinstance(exc, httpx.TimeoutException):
        what = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
        return ProviderError(f"{where}: {what} timed out", kind="timeout", retryable=True)
    if isinstance(exc, httpx.ConnectError):
        return ProviderError(
            f"{where}: cannot connect ({endpoint.redact(str(exc)) or 'refused'})",
            kind="connection",
            retryable=True,
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return ProviderError(
            f"{where}: the connection broke ({endpoint.redact(str(exc))})",
            kind="stream_broken",
            retryable=True,
        )
    return ProviderError(
        f"{where}: {type(exc).__name__}: {endpoint.redact(str(exc))}", kind="connection", retryable=True
    )


def status_error(status: int, body: str, headers: Mapping[str, str], endpoint: Endpoint) -> ProviderError:
    """Map an HTTP error status and body to a ProviderError, reading Retry-After."""
    detail = endpoint.redact(error_message(body))
    message = (
        f"{endpoint.provider} answered {status}: {detail}"
        if detail
        else f"{endpoint.provider} answered {status}"
    )
    lowered = detail.lower()
    if status in (400, 413, 422) and any(marker in lowered for marker in CONTEXT_MARKERS):
        return ProviderError(message, kind="context_length", status=status)
    if status == 429:
        return ProviderError(
            message, kind="rate_limit", status=status, retryable=True, retry_after=retry_after(headers)
        )
    if status == 408:
        return ProviderError(message, kind="timeout", status=status, retryable=True)
    if status >= 500:
        return ProviderError(
            message, kind="server", status=status, retryable=True, retry_after=retry_after(headers)
        )
    if status in (401, 403):
        return ProviderError(message, kind="auth", status=status)
    if status == 404:
        return ProviderError(message, kind="not_found", status=status)
    return ProviderError(message, kind="bad_request", status=status)


def error_message(body: str) -> str:
    """The human part of an error body: OpenAI's, Anthropic's and Ollama's shapes, else the text."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("type") or err)[:300]
        if isinstance(err, str):
            return err[:300]
    return str(data)[:300]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def malformed(endpoint: Endpoint, data: Any) -> ProviderError:
    """A response whose shape the adapter cannot read (retryable: another try may do)."""
    shown = endpoint.redact(data if isinstance(data, str) else json.dumps(data, default=str))[:120]
    return ProviderError(
        f"{endpoint.provider}: unexpected response shape: {shown}", kind="malformed", retryable=True
    )


def stream_object(text: str, endpoint: Endpoint) -> dict[str, Any]:
    """One JSON object of a stream. An `error` in it becomes a retryable ProviderError."""
    try:
        obj = json.loads(text)
    except ValueError:
        raise ProviderError(
            f"{endpoint.provider}: a stream chunk is not JSON", kind="malformed", retryable=True
        ) from None
    if not isinstance(obj, dict):
        raise malformed(endpoint, obj)
    if obj.get("error"):
        detail = endpoint.redact(error_message(text))
        overloaded = "overloaded" in detail.lower()
        raise ProviderError(
            f"{endpoint.provider}: error in the stream: {detail}",
            kind="server",
            status=529 if overloaded else None,
            retryable=True,
        )
    return obj


def sse_data(lines: Iterator[str]) -> Iterator[tuple[str | None, str]]:
    """Yield (event, data) pairs of a server-sent event stream."""
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        yield event, "\n".join(data)


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
