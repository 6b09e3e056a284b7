"""The engine's own state when things go wrong: cooldown and usage files that cannot be used,
damaged ones, stdin that is closed or not text, answers that are too large, short keys."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess

import pytest

from conftest import entry, llmctl_exe, team_of_one, write_json
from fakeserver import Reply, openai_chat

KEY = "sk-state-faults-secret-01"


pytestmark = pytest.mark.team(team_of_one, keys={"OPENAI_API_KEY": KEY})


def test_an_answer_is_never_lost_to_an_unwritable_cooldown_state(cli, team, server):
    (team / "state").write_text("a file where the state folder belongs")
    server.add("/a/v1/chat/completions", Reply(503, {"error": "busy"}), openai_chat("still answered"))
    result = cli("prompt", "hi", "--group", "writer", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "still answered"
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"llmctl: warning: the state folder {team / 'state'} cannot be used ({team / 'state'} is not a "
        "folder): cooldowns and rate limits are not remembered now"
    ]  # one warning per process


def test_an_unusable_state_folder_is_one_warning_for_cooldowns_and_rate_limits(cli, team, server):
    (team / "config.toml").write_text("[providers.openai]\nrequests_per_minute = 100\n")
    (team / "state").write_text("a file where the state folder belongs")
    server.add("/a/v1/chat/completions", Reply(503, {"error": "busy"}), openai_chat("answered"))
    result = cli("prompt", "hi", "--group", "writer", "--json")  # a failure to remember, then an answer
    assert result.exit_code == 0 and json.loads(result.stdout)["text"] == "answered"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("llmctl: warning:")]
    assert len(warnings) == 1 and "the state folder" in warnings[0], result.stderr


@pytest.mark.parametrize(
    "content",
    [
        '{"llm:openai/a": "not a table"}',
        '{"llm:openai/a": {"failures": "three", "until": 9e12}}',
        "[1, 2, 3]",
        "{not json",
    ],
)
def test_a_damaged_cooldown_state_is_set_aside_with_a_warning(cli, team, server, content):
    (team / "state").mkdir()
    (team / "state" / "cooldown.json").write_text(content)
    server.add("/a/v1/chat/completions", openai_chat("ok"))
    result = cli("prompt", "hi", "--group", "writer")
    assert result.exit_code == 0 and result.stdout == "ok\n"
    assert "cooldown.json was damaged: set aside as cooldown.json.damaged" in result.stderr
    assert (team / "state" / "cooldown.json.damaged").read_text() == content
    assert cli("pick", "--group", "writer").exit_code == 0


@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory"])
def test_a_damaged_usage_store_is_reported_before_anything_is_sent(cli, team, server, damage):
    store = team / "usage.sqlite"
    if damage == "garbage":
        store.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        conn = sqlite3.connect(store)
        conn.execute("CREATE TABLE attempts (id INTEGER PRIMARY KEY, time TEXT)")
        conn.executemany("INSERT INTO attempts (time) VALUES (?)", [("x" * 500,)] * 200)
        conn.commit()
        conn.close()
        store.write_bytes(store.read_bytes()[:3000])
    else:
        store.mkdir()
    server.defaults["/a/v1/chat/completions"] = openai_chat("never")
    result = cli("prompt", "hi", "--group", "writer")
    assert result.exit_code == 3 and str(store) in result.stderr
    assert server.requests == []


def test_text_in_a_numeric_column_does_not_break_fastest(cli, team, server):
    conn = sqlite3.connect(team / "usage.sqlite")
    conn.executescript(
        "CREATE TABLE attempts (id INTEGER PRIMARY KEY, time TEXT NOT NULL, book TEXT, job TEXT, llm TEXT NOT NULL,"
        " provider TEXT NOT NULL, outcome TEXT NOT NULL, status INTEGER, error TEXT, latency_ms REAL, ttft_ms REAL,"
        " input_tokens INTEGER, output_tokens INTEGER, input_cost_per_mtok REAL, output_cost_per_mtok REAL, cost REAL);"
        "INSERT INTO attempts (time, llm, provider, outcome, latency_ms) VALUES ('t', 'openai/a', 'openai', 'ok', 'fast');"
    )
    conn.commit()
    conn.close()
    result = cli("pick", "--group", "writer", "--strategy", "fastest")
    assert result.exit_code == 0 and result.stdout == "openai/a\n"


def test_closed_and_binary_stdin_are_one_line_errors(team):
    env = dict(os.environ)
    closed = subprocess.run(
        llmctl_exe() + ["prompt", "--group", "writer", "--dry-run", "hi"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: os.close(0),
        check=False,
    )
    assert closed.returncode == 0 and "Traceback" not in closed.stderr  # closed stdin: TEXT alone
    nothing = subprocess.run(
        llmctl_exe() + ["embed", "--llm", "openai/a", "-"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: os.close(0),
        check=False,
    )
    assert nothing.returncode == 2 and "nothing to embed" in nothing.stderr
    for args in (["prompt", "--group", "writer", "--dry-run"], ["prompt", "--group", "writer"]):
        binary = subprocess.run(
            llmctl_exe() + args, capture_output=True, input=b"\xff\xfe\x00binary", env=env, check=False
        )
        err = binary.stderr.decode()
        assert binary.returncode == 2 and "stdin is not UTF-8 text" in err and "Traceback" not in err


def test_an_answer_over_the_size_cap_is_an_error_not_a_crash(cli, team, server):
    (team / "config.toml").write_text("max_response_bytes = 1000\n")
    server.defaults["/a/v1/chat/completions"] = openai_chat("x" * 5000)
    result = cli("prompt", "hi", "--group", "writer", "--no-stream", "--retries", "0")
    assert result.exit_code == 1 and "larger than 1000 bytes" in result.stderr
    result = cli(
        "prompt", "hi", "--group", "writer", "--retries", "0"
    )  # streamed: the server sends JSON whole
    assert result.exit_code == 1 and "larger than 1000 bytes" in result.stderr


def test_a_short_key_is_redacted_without_garbling_words(cli, home, server, monkeypatch):
    monkeypatch.setenv("PROXY_KEY", "x")
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[providers.proxy]\nkind = "openai_compat"\n')
    path = write_json(
        home.parent / "proxy.json",
        {
            "llms": [
                entry(
                    "proxy/m",
                    provider="proxy",
                    api_base=f"{server.url}/p/v1",
                    auth={"api_key_env": "PROXY_KEY"},
                )
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    server.defaults["/p/v1/chat/completions"] = Reply(500, {"error": {"message": "proxy says x is wrong"}})
    result = cli("prompt", "hi", "--llm", "proxy/m", "--retries", "0")
    assert "proxy answered 500: proxy says *** is wrong" in result.stderr
