"""HTTP for the engine: the pooled client, and the calls that turn httpx errors and HTTP
statuses into the project's error classes (httpx errors never leave this module)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from llmctl.errors import ConnectFailed, ProviderError, StreamBroken, TimedOut
from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import HttpCall, parse_json, status_error

USER_AGENT = "llmctl"


def make_client() -> httpx.Client:
    """An HTTP client for provider calls."""
    from llmctl import __version__

    return httpx.Client(headers={"user-agent": f"{USER_AGENT}/{__version__}"}, follow_redirects=False)


def send_json(client: httpx.Client, call: HttpCall, endpoint: Endpoint, timeout: float | None) -> Any:
    """Send `call` and return the parsed JSON body. Raises ProviderError."""
    try:
        response = client.request(call.method, call.url, **_options(call, timeout))
    except httpx.HTTPError as exc:
        raise transport_error(exc, endpoint) from None
    if response.status_code >= 400:
        raise status_error(response.status_code, response.text, response.headers, endpoint)
    return parse_json(response.text, endpoint)


def stream_lines(
    client: httpx.Client, call: HttpCall, endpoint: Endpoint, timeout: float | None
) -> Iterator[str]:
    """Send `call` and yield the response body line by line. Raises ProviderError; a
    failure after the first line is StreamBroken (or TimedOut)."""
    started = False
    try:
        with client.stream(call.method, call.url, **_options(call, timeout)) as response:
            if response.status_code >= 400:
                body = response.read().decode("utf-8", "replace")
                raise status_error(response.status_code, body, response.headers, endpoint)
            for line in response.iter_lines():
                started = True
                yield line
    except httpx.HTTPError as exc:
        error = transport_error(exc, endpoint)
        if started and not isinstance(error, TimedOut):
            raise StreamBroken(f"{endpoint.provider}: the stream broke off: {error.message}") from None
        raise error from None


def _options(call: HttpCall, timeout: float | None) -> dict[str, Any]:
    return {
        "headers": call.headers,
        "json": call.json,
        "params": call.params or None,
        "timeout": _timeout(timeout),
    }


def _timeout(seconds: float | None) -> httpx.Timeout:
    if seconds is None:
        return httpx.Timeout(600.0, connect=10.0)
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def transport_error(exc: Exception, endpoint: Endpoint) -> ProviderError:
    """Map an httpx exception to its ProviderError class."""
    where = f"{endpoint.provider} at {endpoint.base_url}"
    if isinstance(exc, httpx.TimeoutException):
        what = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
        return TimedOut(f"{where}: {what} timed out")
    if isinstance(exc, httpx.ConnectError):
        return ConnectFailed(f"{where}: cannot connect ({endpoint.redact(str(exc)) or 'refused'})")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return StreamBroken(f"{where}: the connection broke ({endpoint.redact(str(exc))})")
    return ConnectFailed(f"{where}: {type(exc).__name__}: {endpoint.redact(str(exc))}")
