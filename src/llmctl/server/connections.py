"""Connections to `llmctl serve`: uvicorn's httptools protocol, kept safe from slow and
numerous clients.

- A request's headers and body must arrive within `request_timeout` seconds (30) of its
  first byte (of the connection, for the first request), else the connection is closed,
  with a 408 when no answer has started. uvicorn alone waits for ever for a request that
  trickles in, so a few hundred slow clients would hold every socket.
- A connection beyond `max_connections` (512) gets a 503 with `Retry-After` at once and
  is closed, before anything is read. (uvicorn's `limit_concurrency` answers 503 only once
  a request's headers are in, so it cannot stop connections that never finish theirs.)

Imported only when the server runs (it imports uvicorn).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from llmctl.server.state import Problem

MAX_CONNECTIONS = 512
REQUEST_TIMEOUT = 30.0  # seconds for a request's headers and body to arrive


class ServeConfig(uvicorn.Config):
    """uvicorn's settings with the guarded protocol and its two limits (picklable: worker
    processes get it whole)."""

    def __init__(
        self,
        app: Any,
        *,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT,
        **settings: Any,
    ) -> None:
        super().__init__(app, http=GuardedHttp, **settings)
        self.max_connections = max_connections
        self.request_timeout = request_timeout


def _raw(status: int, reason: str, problem: Problem) -> bytes:
    """A whole response that closes the connection, written before any request is read."""
    body = json.dumps(problem.body()).encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json", f"content-length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in problem.advice().items()] + ["connection: close", "", ""]
    return "\r\n".join(head).encode() + body


BUSY = _raw(
    503,
    "Service Unavailable",
    Problem(503, "server_error", "too_many_connections", "too many connections: try again", retry_after=1),
)
TOO_SLOW = _raw(
    408,
    "Request Timeout",
    Problem(408, "invalid_request_error", "request_timeout", "the request did not arrive in time"),
)


class GuardedHttp(HttpToolsProtocol):
    """HttpToolsProtocol with a deadline per request and a cap on connections."""

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_connections = getattr(config, "max_connections", MAX_CONNECTIONS)
        self.request_timeout = getattr(config, "request_timeout", REQUEST_TIMEOUT)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(BUSY)
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the next request on a kept-alive connection
            self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.pipeline:  # a request waiting behind one being answered: the wait is ours
            self._arm()
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(TOO_SLOW)
        self.transport.close()  # the app waiting for the body sees the client leave
