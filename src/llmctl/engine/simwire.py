"""The simulator's network on the async path: an aiohttp connector whose connections stay
in process. aiohttp writes its request to an in-memory transport, which reads it as a
server would and feeds back the simulation's reply as the bytes of an HTTP/1.1 answer, so
the engine's aiohttp code (its response parser, its errors and their mapping in
engine/http.py) runs as it does against a real server. No socket is opened.

Connection faults are what aiohttp meets on a real network: `refused` fails the connect
(ClientConnectorError), `drop` closes the connection mid-answer or before it, `timeout`
is the error aiohttp's own read timer raises (without waiting for it).
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.client_proto import ResponseHandler

from llmctl.engine.http import LIMITS

if TYPE_CHECKING:
    from llmctl.providers.fakes import Fake

# The faults of a connection (those of an answer's body are the adapters').
REFUSED, TIMEOUT, DROP = "refused", "timeout", "drop"
# What aiohttp raises when no byte comes within its read timeout (3.10+; the base class before).
_READ_TIMEOUT = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)


@dataclass(frozen=True)
class Reply:
    """What the simulated server does with one request: answers `fake`, and with `failure`
    fails the connection: `timeout` (no answer comes), `drop` (the connection closes after
    `fake`, part of a stream, or before any answer)."""

    fake: Fake | None = None
    failure: str | None = None


Answer = Callable[[str, bytes], Reply]  # (URL path, body) -> the reply
# A request's headers -> how it is answered; None: its connection is refused.
Accept = Callable[[Mapping[str, str]], Answer | None]


class SimulatedConnector(aiohttp.BaseConnector):
    """Connections whose requests `accept` answers. One connection a request (no keep-alive),
    so each request meets its fault when it connects, as a refused connection would."""

    def __init__(self, accept: Accept) -> None:
        super().__init__(force_close=True, limit=LIMITS.max_connections or 0)
        self.accept = accept

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> ResponseHandler:
        answer = self.accept(req.headers)
        if answer is None:
            refused = ConnectionRefusedError(errno.ECONNREFUSED, "simulated: connection refused")
            raise aiohttp.ClientConnectorError(req.connection_key, refused)
        loop = asyncio.get_running_loop()
        protocol = ResponseHandler(loop)
        protocol.connection_made(_Wire(loop, protocol, answer))
        return protocol


class _Wire(asyncio.Transport):
    """The client's end of an in-memory connection: a complete request written to it is
    answered by `answer(path, body)`, whose reply comes back a piece per turn of the event
    loop (as a network delivers it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: ResponseHandler, answer: Answer) -> None:
        super().__init__()
        self.loop, self.protocol, self.answer = loop, protocol, answer
        self.request = b""
        self.closing = False

    def write(self, data: Any) -> None:
        if self.closing:
            return
        self.request += bytes(data)
        complete = _request(self.request)
        if complete is not None:
            self.request = b""
            self.loop.call_soon(self._reply, self.answer(*complete))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def is_closing(self) -> bool:
        return self.closing

    def is_reading(self) -> bool:
        return not self.closing

    def pause_reading(self) -> None:
        pass  # the reply is a few small pieces: nothing to hold back

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default  # no socket, no peer, no TLS

    def _reply(self, reply: Reply) -> None:
        if reply.failure == TIMEOUT:
            self.protocol.set_exception(_READ_TIMEOUT("Timeout on reading data from socket"))
            return
        parts = [] if reply.fake is None else _response(reply.fake, whole=reply.failure != DROP)
        self._feed(iter(parts), drop=reply.failure == DROP)

    def _feed(self, parts: Iterator[bytes], drop: bool) -> None:
        if self.closing:
            return
        part = next(parts, None)
        if part is not None:
            self.protocol.data_received(part)
            self.loop.call_soon(self._feed, parts, drop)
        elif drop:  # the server hangs up: end of file, then the connection is gone
            self.protocol.eof_received()
            self.close()


def _request(data: bytes) -> tuple[str, bytes] | None:
    """The path and body of a complete HTTP/1.1 request (with a Content-Length, as aiohttp
    sends a body of bytes), or None while it is still coming."""
    head, blank, body = data.partition(b"\r\n\r\n")
    if not blank:
        return None
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if len(body) < length:
        return None
    return urlsplit(lines[0].split(" ")[1]).path, body[:length]


def _response(fake: Fake, whole: bool) -> list[bytes]:
    """The bytes of an HTTP/1.1 answer, a list item per piece the server flushes: a body in
    one piece with its length, a stream chunked (ended when `whole`, else broken off)."""
    head = [f"HTTP/1.1 {fake.status} {HTTPStatus(fake.status).phrase}"]
    head += [f"{name}: {value}" for name, value in fake.headers]
    if whole and len(fake.pieces) < 2:
        head.append(f"content-length: {len(fake.body)}")
        return [_head(head) + fake.body]
    head.append("transfer-encoding: chunked")
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in fake.pieces if piece]
    if whole:
        chunks.append(b"0\r\n\r\n")
    first = chunks.pop(0) if chunks else b""
    return [_head(head) + first, *chunks]


def _head(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
