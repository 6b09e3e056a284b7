"""Only the user's own programs may call `llmctl serve`, and slow or numerous clients
cannot take it down: real sockets against a real server started by the test."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import httpx

from fakeserver import Reply, openai_chat, openai_stream

HI = [{"role": "user", "content": "hi"}]
CHAT = json.dumps({"model": "openai/first", "messages": HI})


def port_of(running) -> int:
    return int(running.url.rsplit(":", 1)[1])


def raw(running, data: bytes) -> socket.socket:
    """A client socket that has sent `data` (and may send more later)."""
    sock = socket.create_connection(("127.0.0.1", port_of(running)), timeout=10)
    if data:
        sock.sendall(data)
    return sock


def read_all(sock: socket.socket, seconds: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection (fails after `seconds`)."""
    sock.settimeout(seconds)
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_cross_site_text_post_is_refused_and_calls_no_provider(gw, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("paid")
    url = gw.url + "/v1/chat/completions"
    # What a web page can send without a preflight: a text/plain (or form) POST.
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        refused = httpx.post(url, content=CHAT, headers={"content-type": kind}, timeout=10)
        assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media_type"
        assert refused.headers["x-should-retry"] == "false"
    no_type = httpx.post(url, content=CHAT, timeout=10)
    assert no_type.status_code == 415
    cross = httpx.post(
        url, content=CHAT, headers={"content-type": "application/json", "origin": "https://evil.example"}
    )
    assert cross.status_code == 403 and cross.json()["error"]["code"] == "forbidden_origin"
    for origin in ("null", f"http://localhost:{port_of(gw)}", "http://127.0.0.1:1"):
        assert httpx.post(url, json={}, headers={"origin": origin}).status_code == 403
    assert server.requests == []
    same = httpx.post(
        url, content=CHAT, headers={"content-type": "application/json; charset=utf-8", "origin": gw.url}
    )
    assert same.status_code == 200 and same.json()["choices"][0]["message"]["content"] == "paid"


def test_a_host_other_than_the_bound_address_is_refused(gw, server):
    port = port_of(gw)
    # DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
    for host in (
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1:{port + 1}",
        "127.0.0.1",
        f"localhost.:{port}",
    ):
        for method, path in (
            ("GET", "/api/usage"),
            ("GET", "/v1/models"),
            ("PUT", "/api/books/moby/override"),
        ):
            refused = httpx.request(
                method, gw.url + path, json={"llm": "openai/first"}, headers={"host": host}
            )
            assert refused.status_code == 403, (host, path)
            assert refused.json()["error"]["code"] == "forbidden_host"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert httpx.get(gw.url + "/v1/models", headers={"host": host}).status_code == 200, host
    assert httpx.get(gw.url + "/v1/models").status_code == 200  # a GET needs no content type


def test_with_a_token_the_token_is_the_guard_and_bodies_are_still_json(serve, team, server):
    running = serve(token="tok-123456")
    auth = {"authorization": "Bearer tok-123456"}
    anywhere = httpx.get(running.url + "/v1/models", headers={**auth, "host": "llm.example.org"})
    assert anywhere.status_code == 200
    text = httpx.post(
        running.url + "/v1/chat/completions", content=CHAT, headers={**auth, "content-type": "text/plain"}
    )
    assert text.status_code == 415
    missing = httpx.post(
        running.url + "/v1/chat/completions", json={}, headers={"content-type": "application/json"}
    )
    assert missing.status_code == 401 and missing.headers["x-should-retry"] == "false"
    assert server.requests == []


def test_an_unauthenticated_request_is_refused_as_soon_as_its_headers_are_in(serve, team):
    running = serve(token="tok-123456")
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port_of(running)}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with raw(running, head + b'{"model": "openai/first", ') as sock:
        stop = threading.Event()

        def trickle() -> None:  # the rest of the body, a byte at a time
            while not stop.wait(0.5):
                try:
                    sock.sendall(b" ")
                except OSError:
                    return

        threading.Thread(target=trickle, daemon=True).start()
        try:
            answer = read_all(sock, seconds=10)
        finally:
            stop.set()
    assert answer.startswith(b"HTTP/1.1 401 ") and b"connection: close" in answer.lower()
    assert time.monotonic() - started < 2  # answered and closed, the body not waited for


def test_headers_and_body_must_arrive_in_time(serve, team, server, caplog):
    lines: list[str] = []
    running = serve(request_timeout=0.5, log=lines.append)
    host = f"Host: 127.0.0.1:{port_of(running)}\r\n".encode()
    started = time.monotonic()
    with raw(running, b"") as idle, raw(running, b"GET /v1/models HTTP/1.1\r\n" + host) as trickle:
        assert read_all(idle).startswith(b"HTTP/1.1 408 ")
        trickle.sendall(b"X-Slow: 1\r\n")
        assert read_all(trickle).startswith(b"HTTP/1.1 408 ")
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\n"
        + host
        + b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with raw(running, head + b'{"model": ') as half:
        read_all(half)  # closed by the server, the body never finished
    assert time.monotonic() - started < 5
    assert server.requests == []
    # A request that arrives in time is answered, however long its answer takes.
    server.defaults["/a/v1/chat/completions"] = Reply(body=openai_chat("slow answer").body, delay=1.0)
    answer = httpx.post(running.url + "/v1/chat/completions", json=json.loads(CHAT), timeout=10)
    assert answer.status_code == 200
    assert any(" (client left)" in line and line.startswith("POST /v1/chat/completions") for line in lines)
    no_tracebacks(caplog)


def test_connections_beyond_the_limit_get_503_at_once(serve, team):
    running = serve(max_connections=3)
    held = [raw(running, b"GET /v1/mod") for _ in range(3)]  # slow clients
    try:
        connections = running.server.server_state.connections
        deadline = time.monotonic() + 5
        while len(connections) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        busy = httpx.get(running.url + "/v1/models", timeout=5)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.json()["error"]["code"] == "too_many_connections"
        assert time.monotonic() - started < 1
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while running.server.server_state.connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert httpx.get(running.url + "/v1/models", timeout=5).status_code == 200


def test_a_client_that_leaves_mid_body_is_one_line_not_a_traceback(serve, team, server, caplog, capfd):
    lines: list[str] = []
    running = serve(log=lines.append)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port_of(running)}\r\n"
        "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    ).encode()
    sock = raw(running, head + b'{"model": "openai/first", "messages": ')
    time.sleep(0.2)
    sock.close()
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert len(lines) == 1 and lines[0].startswith("POST /v1/chat/completions ")
    assert lines[0].endswith(" (client left)")
    no_tracebacks(caplog)
    assert "Traceback" not in capfd.readouterr().err
    assert server.requests == []


def test_a_client_that_leaves_mid_stream_is_one_line_not_a_traceback(
    serve, team, server, home, caplog, capfd
):
    lines: list[str] = []
    running = serve(log=lines.append)
    server.add("/a/v1/chat/completions", openai_stream([f"piece {n} " for n in range(40)], chunk_delay=0.05))
    body = {"model": "openai/first", "messages": HI, "stream": True}
    with httpx.stream("POST", running.url + "/v1/chat/completions", json=body, timeout=10) as response:
        for line in response.iter_lines():
            if "piece 1" in line:
                break  # and hang up
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert len(lines) == 1 and lines[0].startswith("POST /v1/chat/completions 200 openai/first ")
    assert lines[0].endswith(" (client left)")
    no_tracebacks(caplog)
    assert "Traceback" not in capfd.readouterr().err
