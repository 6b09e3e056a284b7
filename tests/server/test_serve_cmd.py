"""`llmctl serve` as a command: the set-up it refuses, and one real process that answers
and stops gracefully on SIGTERM (requests in flight finish; past the grace period they
are cut and recorded as interrupted)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import httpx
import pytest

from conftest import llmctl_exe
from fakeserver import Reply, openai_chat
from llmctl.engine.usage import UsageStore
from llmctl.errors import UsageError
from llmctl.paths import Home
from llmctl.server.app import check_setup, is_loopback


def test_loopback_needs_no_token_and_anything_else_does(cli):
    assert check_setup("127.0.0.1", None, {}) is None and is_loopback("::1") and is_loopback("localhost")
    with pytest.raises(UsageError, match="give --token-env"):
        check_setup("0.0.0.0", None, {})
    assert check_setup("0.0.0.0", "TOKEN", {"TOKEN": "abc"}) == "abc"
    with pytest.raises(UsageError, match="TOKEN: the variable is not set"):
        check_setup("0.0.0.0", "TOKEN", {})
    with pytest.raises(UsageError, match="TOKEN: the variable is empty"):
        check_setup("127.0.0.1", "TOKEN", {"TOKEN": " "})
    refused = cli("serve", "--host", "192.168.1.7")
    assert refused.exit_code == 2 and "--token-env" in refused.stderr


def test_a_port_in_use_is_a_clear_error(cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli("serve", "--port", str(taken.getsockname()[1]))
    assert (
        result.exit_code == 1 and "cannot listen on 127.0.0.1" in result.stderr and "--port" in result.stderr
    )


def test_serve_as_a_process_answers_then_stops_gracefully(home, team, server):
    server.add("/a/v1/chat/completions", Reply(body=openai_chat("finished in time").body, delay=0.6))
    server.add("/b/v1/chat/completions", Reply(body=openai_chat("too slow").body, delay=15))
    env = dict(os.environ, LLMCTL_HOME=str(home), SERVE_TOKEN="tok-123456")
    process = subprocess.Popen(
        [*llmctl_exe(), "serve", "--port", "0", "--grace", "1.5", "--token-env", "SERVE_TOKEN"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = process.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group()
        auth = {"authorization": "Bearer tok-123456"}
        assert httpx.get(url + "/v1/models", headers=auth).status_code == 200
        answers: dict[str, httpx.Response | Exception] = {}

        def ask(llm: str) -> None:
            body = {"model": llm, "messages": [{"role": "user", "content": "hi"}]}
            try:
                answers[llm] = httpx.post(url + "/v1/chat/completions", json=body, headers=auth, timeout=30)
            except httpx.HTTPError as exc:
                answers[llm] = exc

        threads = [threading.Thread(target=ask, args=(llm,)) for llm in ("openai/first", "openai/second")]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(30)
        assert process.wait(20) == 0
    finally:
        process.kill()
    finished = answers["openai/first"]
    assert (
        isinstance(finished, httpx.Response)
        and finished.json()["choices"][0]["message"]["content"] == "finished in time"
    )
    assert (
        not isinstance(answers["openai/second"], httpx.Response)
        or answers["openai/second"].status_code != 200
    )
    rows = {r["llm"]: r["outcome"] for r in UsageStore.for_home(Home.resolve(home)).rows()}
    assert rows == {"openai/first": "ok", "openai/second": "interrupted"}
    rest = process.stderr.read()
    assert "stopped" in rest and "tok-123456" not in banner + rest
    assert re.search(r"llmctl serve: POST /v1/chat/completions 200 openai/first \d+ ms", rest)
    assert "GET /v1/models 200 - " in rest and "cut" in rest  # the request cut at the end of the grace period


def test_worker_processes_share_the_port_and_the_files(home, team, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("from a worker")
    env = dict(os.environ, LLMCTL_HOME=str(home))
    process = subprocess.Popen(
        [*llmctl_exe(), "serve", "--port", "0", "--workers", "2", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = process.stderr.readline()
        assert "2 worker processes" in banner
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group()
        body = {"model": "openai/first", "messages": [{"role": "user", "content": "hi"}]}
        deadline = time.monotonic() + 20
        while True:  # the workers start after the banner
            try:
                first = httpx.post(url + "/v1/chat/completions", json=body, timeout=10)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        answers = [
            first,
            *(httpx.post(url + "/v1/chat/completions", json=body, timeout=10) for _ in range(5)),
        ]
        assert {a.json()["choices"][0]["message"]["content"] for a in answers} == {"from a worker"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        process.kill()
    rows = UsageStore.for_home(Home.resolve(home)).rows()
    assert len(rows) == 6 and {r["outcome"] for r in rows} == {"ok"}
    assert "stopped" in process.stderr.read()


def test_a_python_warning_in_the_worker_supervisor_leaves_it_running(cli, home, monkeypatch):
    import warnings

    from uvicorn.supervisors import Multiprocess

    for name in ("LLMCTL_SERVE_TOKEN_ENV", "LLMCTL_SERVE_QUIET"):
        monkeypatch.setenv(name, "")  # serve sets them for its workers; restored after the test
    supervised: list[tuple[int, int]] = []

    def run(self) -> None:  # the supervisor's loop, as far as a warning in it goes
        warnings.warn("a worker was slow to answer its ping", UserWarning, stacklevel=1)
        supervised.append((self.config.workers, self.config.max_connections))  # still going

    monkeypatch.setattr(Multiprocess, "run", run)
    result = cli("serve", "--port", "0", "--workers", "2", "--max-connections", "7")
    assert result.exit_code == 0 and supervised == [(2, 7)]
    assert "Traceback" not in result.stderr and "stopped" in result.stderr
