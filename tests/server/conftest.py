"""A real `llmctl serve` app under uvicorn on 127.0.0.1, started by the test itself."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("starlette", reason="the serve extra is not installed: pip install -e '.[test,serve]'")


class Running:
    """A server in a thread, as `llmctl serve` runs it; `url` is its root. `limits` are
    ServeConfig's (max_connections, request_timeout)."""

    def __init__(self, app, **limits) -> None:
        import uvicorn

        from llmctl.server.connections import ServeConfig

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # Nagle off
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = ServeConfig(
            app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2, **limits
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def serve(home) -> Iterator:
    """Start the app over the test's home: `serve(token=None, **create_app options, **limits)`."""
    from llmctl.paths import Home
    from llmctl.server.app import create_app

    started: list[Running] = []

    def start(**options) -> Running:
        limits = {k: options.pop(k) for k in ("max_connections", "request_timeout") if k in options}
        running = Running(create_app(Home.resolve(home), **options), **limits).__enter__()
        started.append(running)
        return running

    yield start
    for running in started:
        running.__exit__(None, None, None)


@pytest.fixture
def gw(serve, team):
    """The server over the `team` catalog (OpenAI-compatible LLMs on the local fake server)."""
    return serve()


@pytest.fixture
def client(gw):
    """The official OpenAI SDK, pointed at the gateway (no retries: the tests count requests)."""
    import openai

    with openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0, timeout=20) as sdk:
        yield sdk
