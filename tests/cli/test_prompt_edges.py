"""`prompt` at the edges: SIGTERM, time limits and text the CLI refuses at once, a dry run
that tells the truth, and amounts and routes `-v` and `budget show` make readable."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess

import pytest

from conftest import llmctl_exe
from fakeserver import Reply, openai_chat, openai_stream

A = "/a/v1/chat/completions"


def test_sigterm_is_handled_like_ctrl_c_and_the_attempt_is_paid_for(team, home, server):
    server.add(A, openai_stream([f"piece {n} " for n in range(200)], chunk_delay=0.05))
    proc = subprocess.Popen(
        llmctl_exe() + ["prompt", "--llm", "openai/first", "--group", "writer", "tell me a story"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.read(8) == "piece 0 "  # the answer is coming
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    rows = (
        sqlite3.connect(home / "usage.sqlite")
        .execute("SELECT llm, outcome, output_tokens, cost FROM attempts")
        .fetchall()
    )
    ((llm, outcome, output_tokens, cost),) = rows
    assert (llm, outcome) == ("openai/first", "interrupted") and output_tokens > 0 and cost > 0


@pytest.mark.parametrize("value", ["inf", "nan", "86401", "1e308"])
def test_a_time_limit_that_is_not_one_is_exit_2(cli, team, server, value):
    result = cli("prompt", "hi", "--group", "writer", "--timeout", value)
    assert result.exit_code == 2 and "Invalid value for '--timeout'" in result.stderr
    assert server.requests == []


def test_absurd_retries_are_exit_2(cli, team, server):
    result = cli("prompt", "hi", "--group", "writer", "--retries", "1000000000")
    assert result.exit_code == 2 and "--retries" in result.stderr and server.requests == []


def test_a_prompt_that_is_not_unicode_is_exit_2_and_never_sent(cli, team, home, server):
    result = cli("prompt", "caf\udce9 au lait", "--group", "writer")
    assert result.exit_code == 2 and "not valid Unicode" in result.stderr
    assert server.requests == [] and not (home / "usage.sqlite").exists()


def test_a_dry_run_over_budget_exits_as_the_real_run_would(cli, team, server):
    assert cli("budget", "set", "0.000001").exit_code == 0
    dry = cli("prompt", "hi", "--group", "writer", "--dry-run", "--json")
    plan = json.loads(dry.stdout)
    assert dry.exit_code == 4 and "over budget" in dry.stderr
    assert all(step["skipped"].startswith("over budget: overall $0 of $0.0000010") for step in plan["steps"])
    real = cli("prompt", "hi", "--group", "writer")
    assert real.exit_code == 4 and server.requests == []


def test_a_dry_run_honours_max_cost_and_marks_what_it_skips(cli, team, server):
    # the worst case of each LLM: 4,096 answer tokens at $2/M, about $0.0082
    dry = cli("prompt", "hi", "--group", "writer", "--dry-run", "--max-cost", "0.001")
    assert dry.exit_code == 4 and "over --max-cost $0.0010" in dry.stdout + dry.stderr
    dry = cli("prompt", "hi", "--group", "writer", "--dry-run", "--max-cost", "0.001", "--json")
    assert all("over --max-cost" in step["skipped"] for step in json.loads(dry.stdout)["steps"])
    # with at most 100 answer tokens the worst case is $0.00020: a real run would send
    dry = cli(
        "prompt",
        "hi",
        "--group",
        "writer",
        "--dry-run",
        "--max-tokens",
        "100",
        "--max-cost",
        "0.001",
        "--json",
    )
    plan = json.loads(dry.stdout)
    assert dry.exit_code == 0 and plan["error"] is None
    assert "skipped" not in plan["steps"][0] and plan["passed_over"][0]["llm"] == "anthropic/nokey"
    assert server.requests == []


def test_verbose_tells_a_cache_hit_and_skips_apart_from_fallbacks(cli, team, server):
    server.add(A, openai_chat("first answer"))
    first = cli("prompt", "hi", "--llm", "openai/first", "--group", "writer", "--cache", "-v")
    assert first.exit_code == 0 and first.stdout == "first answer\n"
    again = cli("prompt", "hi", "--llm", "openai/first", "--group", "writer", "--cache", "-v")
    assert again.exit_code == 0 and again.stdout == "first answer\n"
    assert "answered from the cache" in again.stderr
    assert "None" not in again.stderr and "fell back" not in again.stderr
    assert len(server.requests) == 1
    server.add("/b/v1/chat/completions", openai_chat("second answer"))
    server.add(A, Reply(500, {"error": {"message": "down"}}))
    mixed = cli("prompt", "hi", "--group", "writer", "--retries", "0", "--allow-upgrade", "-v")
    assert mixed.exit_code == 0, mixed.stderr
    skipped, fell_back = mixed.stderr.split("; fell back from ")
    assert "skipped anthropic/nokey (ANTHROPIC_API_KEY is not set)" in skipped  # never sent to
    assert fell_back.startswith("openai/first (500)") and "nokey" not in fell_back


def test_small_budgets_read_with_two_significant_digits(cli, team):
    assert cli("budget", "set", "0.00001").exit_code == 0
    shown = cli("budget", "show")
    assert "0.000010" in shown.stdout and "0.00 " not in shown.stdout
