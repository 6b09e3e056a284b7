"""A real HTTP server on 127.0.0.1 for router tests: each request takes the next scripted
behaviour for its path (streaming, stalls, dropped connections, errors, bad JSON)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str -> raw text
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[str] | None = None  # streamed pieces (sent with chunked encoding)
    delay: float = 0.0  # seconds before the reply starts
    chunk_delay: float = 0.0
    drop_after: int | None = None  # close the connection after this many chunks


def openai_chat(text: str, prompt_tokens: int = 5, completion_tokens: int = 3) -> Reply:
    return Reply(
        body={
            "id": "x",
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        }
    )


def openai_stream(pieces: list[str], **kw: Any) -> Reply:
    chunks = [f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': p}}]})}\n\n" for p in pieces]
    chunks.append(
        "data: "
        + json.dumps({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": len(pieces)}})
        + "\n\n"
    )
    chunks.append("data: [DONE]\n\n")
    return Reply(headers={"content-type": "text/event-stream"}, chunks=chunks, **kw)


class FakeServer:
    """Start with `with FakeServer() as srv:`; script replies with `srv.add(path, reply)`."""

    def __init__(self) -> None:
        self.replies: dict[str, deque[Reply]] = defaultdict(deque)
        self.defaults: dict[str, Reply] = {}
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's algorithm
                # and delayed ACKs add 40 ms to every keep-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(raw) if raw else None,
                        "time": time.monotonic(),
                        "client_port": self.client_address[1],
                    }
                )
                queue = server.replies.get(path)
                reply = (
                    queue.popleft() if queue else server.defaults.get(path, Reply(404, {"error": "no route"}))
                )
                if reply.delay:
                    time.sleep(reply.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply)

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.chunks is None:
                    body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                    data = body.encode()
                    if "content-type" not in {k.lower() for k in reply.headers}:
                        self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for n, chunk in enumerate(reply.chunks):
                    if reply.drop_after is not None and n >= reply.drop_after:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    data = chunk.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    if reply.chunk_delay:
                        time.sleep(reply.chunk_delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_GET = do_POST = _handle

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many clients connect at once (the default 5 drops SYNs)

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that hang up on purpose (timeouts, dropped streams) are expected

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, path: str, *replies: Reply) -> None:
        self.replies[path].extend(replies)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
