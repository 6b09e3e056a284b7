"""HTTP for the engine: the pooled clients, and the calls that turn httpx errors and HTTP
statuses into the project's error classes (httpx errors never leave this module).

Sync calls go through one `httpx.Client` per owner (the process, or an `LLMClient`), so
no request pays for a new SSL context or connection. Async calls go through one aiohttp
session per event loop: measured at 1,000 requests and concurrency 32 against a 20 ms
server, httpx's own async pool took about 5x as long as aiohttp (see
benchmarks/bench_engine.py), and httpx's layer over aiohttp cost a quarter of a busy
`llmctl serve`'s CPU. aiohttp's errors are mapped to the httpx kinds they stand for, so
both paths fail the same way. An `httpx.AsyncClient` given by a caller (a test seam) is
used as is. The simulator plugs in below both: a transport for the sync client, a
connector for the aiohttp session, so a simulated send runs through the same code.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from llmctl.errors import (
    BadRequest,
    ConnectFailed,
    Malformed,
    ProviderError,
    StreamBroken,
    TimedOut,
    TooLarge,
)
from llmctl.providers.resolve import Endpoint, base_url_env
from llmctl.providers.table import is_local
from llmctl.providers.wire import HttpCall, parse_json, status_error

USER_AGENT = "llmctl"


# Enough connections for `batch --concurrency` and many `acomplete` calls at once.
LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64)
_shared: httpx.Client | None = None


def _headers() -> dict[str, str]:
    from llmctl import __version__

    return {"user-agent": f"{USER_AGENT}/{__version__}"}


def make_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A new pooled HTTP client for provider calls (the caller closes it); `transport`
    answers its requests in place of the network (the simulator's)."""
    return httpx.Client(headers=_headers(), follow_redirects=False, limits=LIMITS, transport=transport)


def shared_client() -> httpx.Client:
    """The process's pooled client, built on first use and closed at exit."""
    global _shared
    if _shared is None or _shared.is_closed:
        _shared = make_client()
        atexit.register(_shared.close)
    return _shared


def make_async_session(connector: Any = None) -> Any:
    """A new aiohttp session: the engine's own async pool (the caller closes it). No cookies
    are kept between requests. The proxy variables (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
    NO_PROXY) are read once, when the session is made, and honoured as the sync client
    honours them (aiohttp's own `trust_env` reads them on every request: that cost more
    than the rest of its work). A `connector` given (the simulator's, which answers in
    process) stands in for the network, proxies included."""
    import aiohttp

    if connector is None:
        connector = aiohttp.TCPConnector(
            limit=LIMITS.max_connections, keepalive_timeout=LIMITS.keepalive_expiry, ssl=_ssl_context()
        )
        proxies = _environment_proxies()
    else:
        proxies = {}
    session = aiohttp.ClientSession(
        connector=connector, headers=_headers(), cookie_jar=aiohttp.DummyCookieJar()
    )
    _proxies[session] = proxies
    return session


_proxies: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _environment_proxies() -> dict[str, str]:
    import urllib.request

    return {k: v for k, v in urllib.request.getproxies_environment().items() if v}


def _proxy_for(url: str, proxies: dict[str, str] | None) -> str | None:
    """The proxy a request to `url` goes through (None: direct), by the proxy variables."""
    if not proxies:
        return None
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or (parts.hostname and urllib.request.proxy_bypass_environment(parts.hostname, proxies)):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


_ssl: Any = None


def _ssl_context() -> Any:
    """The certificates the sync client trusts (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once."""
    global _ssl
    if _ssl is None:
        _ssl = httpx.create_ssl_context()
    return _ssl


def split_clients(client: Any) -> tuple[httpx.Client | None, httpx.AsyncClient | None]:
    """(sync, async) of an `httpx.Client` or `httpx.AsyncClient` given by a caller."""
    if client is None:
        return None, None
    if isinstance(client, httpx.AsyncClient):
        return None, client
    if isinstance(client, httpx.Client):
        return client, None
    raise TypeError(f"expected an httpx.Client or httpx.AsyncClient, got {type(client).__name__}")


class AsyncPool:
    """The async client for whichever event loop is running: one aiohttp session per loop,
    reused by every call in it (a session left by an earlier loop, an earlier
    `asyncio.run`, is let go). An `httpx.AsyncClient` given by the caller is used as is;
    `connector`, called in the running loop, makes each session's aiohttp connector (the
    simulator's, in place of the network)."""

    def __init__(
        self, client: httpx.AsyncClient | None = None, connector: Callable[[], Any] | None = None
    ) -> None:
        self.given = client
        self.connector = connector
        self._session: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finalizer: weakref.finalize | None = None

    def get(self) -> Any:
        """The given httpx client, or this loop's aiohttp session."""
        if self.given is not None:
            return self.given
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            if self._session is not None and self._loop is not loop:
                self._forget()
            connector = self.connector() if self.connector is not None else None
            self._session, self._loop = make_async_session(connector), loop
            # A pool nobody closes (an `acomplete` outside `async with`) lets its sockets go
            # when it is collected or the process ends, without aiohttp's "Unclosed" messages.
            self._finalizer = weakref.finalize(self, _let_go, self._session)
        return self._session

    async def aclose(self) -> None:
        """Close the pool's own session (a client given to it stays open)."""
        if self._session is not None and self._loop is asyncio.get_running_loop():
            if self._finalizer is not None:
                self._finalizer.detach()
            await self._session.close()
        elif self._session is not None:
            self._forget()
        self._session = self._loop = self._finalizer = None

    def _forget(self) -> None:
        """Let the session of an ended event loop go, now."""
        if self._finalizer is not None:
            self._finalizer()  # runs _let_go once
        else:
            _let_go(self._session)


def _let_go(session: Any) -> None:
    """Drop a session whose event loop has ended, without a warning about an unclosed session
    or connector: its sockets are closed now."""
    with contextlib.suppress(Exception):
        connector = session.connector
        session.detach()  # marks it closed
        if connector is not None:
            connector._close()


def send_json(
    client: httpx.Client,
    call: HttpCall,
    endpoint: Endpoint,
    timeout: float | None,
    max_bytes: int | None = None,
) -> Any:
    """Send `call` and return the parsed JSON body. Raises ProviderError (TooLarge past
    `max_bytes`)."""
    cap = _Cap(max_bytes, endpoint, timeout)  # counts bytes and time from the start
    try:
        with client.stream(call.method, call.url, **_options(call, timeout)) as response:
            body = b"".join(cap.take(chunk) for chunk in response.iter_bytes())
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a header or body that cannot be sent
        raise transport_error(exc, endpoint) from None
    return _body(response.status_code, body, response.headers, endpoint)


def stream_lines(
    client: httpx.Client,
    call: HttpCall,
    endpoint: Endpoint,
    timeout: float | None,
    max_bytes: int | None = None,
) -> Iterator[str]:
    """Send `call` and yield the response body line by line. Raises ProviderError; a
    failure after the first line is StreamBroken (or TimedOut)."""
    cap = _Cap(max_bytes, endpoint, timeout)  # counts bytes and time from the start
    started = False
    try:
        with client.stream(call.method, call.url, **_options(call, timeout)) as response:
            if response.status_code >= 400:
                body = _error_body(response.iter_bytes())
                raise status_error(response.status_code, body, response.headers, endpoint)
            lines = _Lines(cap)
            for chunk in response.iter_bytes():
                for line in lines.feed(chunk):
                    started = True
                    yield line
            yield from lines.close()
    except httpx.HTTPError as exc:
        raise _stream_error(exc, endpoint, started) from None
    except ValueError as exc:  # a header or body that cannot be sent
        raise transport_error(exc, endpoint) from None


async def asend_json(
    client: Any,
    call: HttpCall,
    endpoint: Endpoint,
    timeout: float | None,
    max_bytes: int | None = None,
) -> Any:
    """`send_json` for the async engine, over the pool's aiohttp session (or a given httpx
    client)."""
    import aiohttp

    cap = _Cap(max_bytes, endpoint, timeout)  # counts bytes and time from the start
    if not isinstance(client, httpx.AsyncClient):
        return await _aio_send_json(client, call, endpoint, timeout, max_bytes)
    try:
        async with client.stream(call.method, call.url, **_options(call, timeout)) as response:
            body = b"".join([cap.take(chunk) async for chunk in response.aiter_bytes()])
    except httpx.HTTPError as exc:
        raise transport_error(exc, endpoint) from None
    except (aiohttp.ClientError, TimeoutError) as exc:  # what the transport lets through
        raise transport_error(_as_httpx(exc), endpoint) from None
    except ValueError as exc:  # a header or URL aiohttp refuses to send
        raise transport_error(exc, endpoint) from None
    return _body(response.status_code, body, response.headers, endpoint)


async def astream_lines(
    client: Any,
    call: HttpCall,
    endpoint: Endpoint,
    timeout: float | None,
    max_bytes: int | None = None,
) -> AsyncIterator[str]:
    """`stream_lines` for the async engine, over the pool's aiohttp session (or a given
    httpx client)."""
    import aiohttp

    cap = _Cap(max_bytes, endpoint, timeout)  # counts bytes and time from the start
    if not isinstance(client, httpx.AsyncClient):
        # closed with this generator: a stream ended early frees its connection at once
        async with contextlib.aclosing(
            _aio_stream_lines(client, call, endpoint, timeout, max_bytes)
        ) as inner:
            async for line in inner:
                yield line
        return
    started = False
    try:
        async with client.stream(call.method, call.url, **_options(call, timeout)) as response:
            if response.status_code >= 400:
                body = await _aerror_body(response.aiter_bytes())
                raise status_error(response.status_code, body, response.headers, endpoint)
            lines = _Lines(cap)
            async for chunk in response.aiter_bytes():
                for line in lines.feed(chunk):
                    started = True
                    yield line
            for line in lines.close():
                yield line
    except httpx.HTTPError as exc:
        raise _stream_error(exc, endpoint, started) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _stream_error(_as_httpx(exc), endpoint, started) from None
    except ValueError as exc:  # a header or URL aiohttp refuses to send
        raise transport_error(exc, endpoint) from None


# --- the engine's own async pool: aiohttp, without httpx's layer (a quarter of the CPU a
# request costs a busy `llmctl serve`, measured with py-spy) -----------------------------


async def _aio_send_json(
    session: Any, call: HttpCall, endpoint: Endpoint, timeout: float | None, max_bytes: int | None
) -> Any:
    import aiohttp

    cap = _Cap(max_bytes, endpoint, timeout)  # counts bytes and time from the start
    try:
        options = _aio_options(call, timeout, _proxy_for(call.url, _proxies.get(session)))
        async with session.request(call.method, call.url, **options) as response:
            body = b"".join([cap.take(chunk) async for chunk in response.content.iter_any()])
            status, headers = response.status, response.headers
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise transport_error(_as_httpx(exc), endpoint) from None
    except ValueError as exc:  # a header or URL aiohttp refuses to send
        raise transport_error(exc, endpoint) from None
    return _body(status, body, headers, endpoint)


async def _aio_stream_lines(
    session: Any, call: HttpCall, endpoint: Endpoint, timeout: float | None, max_bytes: int | None
) -> AsyncIterator[str]:
    import aiohttp

    cap = _Cap(max_bytes, endpoint, timeout)  # counts bytes and time from the start
    started = False
    try:
        options = _aio_options(call, timeout, _proxy_for(call.url, _proxies.get(session)))
        async with session.request(call.method, call.url, **options) as response:
            if response.status >= 400:
                body = await _aerror_body(response.content.iter_any())
                raise status_error(response.status, body, response.headers, endpoint)
            lines = _Lines(cap)
            async for chunk in response.content.iter_any():
                for line in lines.feed(chunk):
                    started = True
                    yield line
            for line in lines.close():
                yield line
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _stream_error(_as_httpx(exc), endpoint, started) from None
    except ValueError as exc:
        raise transport_error(exc, endpoint) from None


def _aio_options(call: HttpCall, timeout: float | None, proxy: str | None = None) -> dict[str, Any]:
    """The request options, as httpx would send them: JSON without NaN, no redirects."""

    import aiohttp

    read = 600.0 if timeout is None else timeout
    options: dict[str, Any] = {
        "headers": call.headers,
        "params": call.params or None,
        "allow_redirects": False,
        "proxy": proxy,
        # connect: DNS and waiting for a free connection too (httpx's pool timeout)
        "timeout": aiohttp.ClientTimeout(
            total=None, connect=read, sock_connect=min(read, 10.0), sock_read=read
        ),
    }
    if call.json is not None:
        options["data"] = json.dumps(
            call.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
        if not any(k.lower() == "content-type" for k in call.headers):
            options["headers"] = {**call.headers, "content-type": "application/json"}
    return options


def _body(status: int, body: bytes, headers: Any, endpoint: Endpoint) -> Any:
    """The parsed JSON of an answer, or the error its status stands for."""
    text = body.decode("utf-8", "replace")
    if status >= 400:
        raise status_error(status, text, headers, endpoint)
    return parse_json(text, endpoint)


class _Cap:
    """Counts an answer's bytes and its time: past `limit` bytes the attempt fails (no
    out-of-memory crash), and past `timeout` seconds from the start (an endless stream,
    a trickle of bytes: the time limit is the whole attempt's, not each read's)."""

    __slots__ = ("limit", "seen", "endpoint", "timeout", "deadline")

    def __init__(self, limit: int | None, endpoint: Endpoint, timeout: float | None = None) -> None:
        self.limit = limit
        self.seen = 0
        self.endpoint = endpoint
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def take(self, chunk: bytes) -> bytes:
        self.seen += len(chunk)
        if self.limit is not None and self.seen > self.limit:
            raise TooLarge(
                f"{self.endpoint.provider}: the answer is larger than {self.limit} bytes",
                hint="raise max_response_bytes in config.toml if this is expected",
            )
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise out_of_time(self.endpoint, self.timeout)
        return chunk


def out_of_time(endpoint: Endpoint, seconds: float | None) -> TimedOut:
    """The error of an attempt that ran past its time limit (its whole duration)."""
    return TimedOut(
        f"{endpoint.provider} at {endpoint.base_url}: timed out: no complete answer in {seconds:g} s"
    )


class _Lines:
    """Splits a body into lines as its bytes come, counting them against the cap first (a
    line that never ends cannot fill the memory)."""

    __slots__ = ("cap", "rest")

    def __init__(self, cap: _Cap) -> None:
        self.cap = cap
        self.rest: list[bytes] = []  # the pieces of the unfinished line (joined once, when it ends)

    def feed(self, chunk: bytes) -> list[str]:
        if b"\n" not in self.cap.take(chunk):
            self.rest.append(chunk)
            return []
        head, *middle, tail = chunk.split(b"\n")
        first = b"".join([*self.rest, head])
        self.rest = [tail] if tail else []
        return [_text(first), *(_text(line) for line in middle)]

    def close(self) -> list[str]:
        rest, self.rest = b"".join(self.rest), []
        return [_text(rest)] if rest else []


def _text(line: bytes) -> str:
    return line.removesuffix(b"\r").decode("utf-8", "replace")


_ERROR_BODY = 65_536  # an error's message is in its first bytes; the rest is not read


def _error_body(chunks: Iterator[bytes]) -> str:
    body = b""
    for chunk in chunks:
        body += chunk
        if len(body) >= _ERROR_BODY:
            break
    return body[:_ERROR_BODY].decode("utf-8", "replace")


async def _aerror_body(chunks: AsyncIterator[bytes]) -> str:
    body = b""
    async for chunk in chunks:
        body += chunk
        if len(body) >= _ERROR_BODY:
            break
    return body[:_ERROR_BODY].decode("utf-8", "replace")


def _stream_error(exc: httpx.HTTPError, endpoint: Endpoint, started: bool) -> ProviderError:
    """A failure of a stream: once lines came, a broken stream (a timeout stays one)."""
    error = transport_error(exc, endpoint)
    if started and not isinstance(error, TimedOut):
        return StreamBroken(f"{endpoint.provider}: the stream broke off: {error.message}")
    return error


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
    exc = _from_aiohttp(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectFailed(f"{where}: connect timed out")
    if isinstance(exc, httpx.TimeoutException):
        return TimedOut(f"{where}: read timed out")
    if isinstance(exc, httpx.ConnectError):
        if is_local(endpoint.provider):
            return ConnectFailed(
                f"nothing is listening at {endpoint.base_url} ({endpoint.provider} runs on this machine)",
                hint=_START_LOCAL.get(endpoint.provider, "start the server")
                + f", set {base_url_env(endpoint.provider)} to where it runs, or set a hosted provider's key",
            )
        return ConnectFailed(f"{where}: cannot connect ({endpoint.redact(str(exc)) or 'refused'})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):  # the endpoint cannot be reached
        return ConnectFailed(f"{where}: {type(exc).__name__}: {endpoint.redact(str(exc))}")
    if isinstance(exc, httpx.LocalProtocolError | ValueError):  # a request that cannot be sent
        return BadRequest(f"{where}: the request cannot be sent: {endpoint.redact(str(exc))}")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.NetworkError):
        return StreamBroken(f"{where}: the connection broke ({endpoint.redact(str(exc)) or 'closed'})")
    # Anything else (a bad encoding, a redirect loop) is this LLM's answer going wrong, not
    # the endpoint being down: it must not take the endpoint's other LLMs with it.
    return Malformed(f"{where}: {type(exc).__name__}: {endpoint.redact(str(exc))}")


_START_LOCAL = {"ollama": "start Ollama (`ollama serve`)", "lmstudio": "start LM Studio's server"}

# The aiohttp transport maps every aiohttp connection error to ConnectTimeout; its cause
# says which it was (aiohttp exception class -> the httpx class it stands for).
_AIOHTTP = {
    "ConnectionTimeoutError": httpx.ConnectTimeout,
    "ClientConnectorError": httpx.ConnectError,
    "ServerTimeoutError": httpx.ReadTimeout,
    "ServerDisconnectedError": httpx.RemoteProtocolError,
    "ClientPayloadError": httpx.ReadError,
    "ClientOSError": httpx.ReadError,
    "InvalidURL": httpx.UnsupportedProtocol,  # a base URL that is not one
    "NonHttpUrlClientError": httpx.UnsupportedProtocol,  # without http:// or https://
    "ClientProxyConnectionError": httpx.ProxyError,
}


def _as_httpx(exc: Exception) -> httpx.HTTPError:
    """A raw aiohttp error (or timeout) the transport let through, as the httpx kind it
    stands for."""
    mapped = _aiohttp_kind(exc)  # first: aiohttp's connect timeout is a TimeoutError too
    if mapped is not None:
        return mapped(str(exc))
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out")
    return httpx.ReadError(f"{type(exc).__name__}: {exc}")


def _from_aiohttp(exc: Exception) -> Exception:
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return exc
    mapped = _aiohttp_kind(cause)
    return exc if mapped is None else mapped(str(cause) or str(exc))


def _aiohttp_kind(exc: BaseException) -> type[httpx.HTTPError] | None:
    """The httpx class an aiohttp exception (or a subclass of one) stands for."""
    for kind in type(exc).__mro__:
        mapped = _AIOHTTP.get(kind.__name__)
        if mapped is not None:
            return mapped
    return None
