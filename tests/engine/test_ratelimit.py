"""Rate limits: a sliding 60 s window per provider (and per LLM), held across processes."""

from __future__ import annotations

import json

import pytest

from conftest import entry
from fakeserver import openai_chat
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.ratelimit import RateLimiter
from llmctl.providers.table import Provider

A = DictRegistry([entry("openai/a")]).get_by_id("openai/a")
OWN = DictRegistry([entry("openai/own", rate_limit={"requests_per_minute": 1})]).get_by_id("openai/own")


def test_the_window_is_shared_by_every_limiter_of_the_state_file(tmp_path):
    now = [1000.0]
    providers = {"openai": Provider(requests_per_minute=2)}
    one = RateLimiter(tmp_path / "rl.sqlite", providers, clock=lambda: now[0])
    two = RateLimiter(tmp_path / "rl.sqlite", providers, clock=lambda: now[0])  # another process
    assert one.admit(A, 10) == (0.0, None)
    now[0] += 5
    assert two.admit(A, 10) == (0.0, None)
    wait, why = one.admit(A, 10)
    assert wait == pytest.approx(55.0) and why == "rate limit: openai 2 requests/min"
    now[0] += 56  # the first request has left the window
    assert two.admit(A, 10) == (0.0, None)


def test_token_windows_and_an_llms_own_limit(tmp_path):
    now = [0.0]
    limiter = RateLimiter(
        tmp_path / "rl.sqlite", {"openai": Provider(tokens_per_minute=100)}, clock=lambda: now[0]
    )
    assert limiter.admit(A, 60)[0] == 0
    now[0] += 10
    wait, why = limiter.admit(A, 60)
    assert wait == pytest.approx(50.0) and why == "rate limit: openai 100 tokens/min"
    assert limiter.admit(A, 500)[0] == 60.0  # more than a whole window holds
    own = RateLimiter(tmp_path / "own.sqlite", {}, clock=lambda: now[0])
    assert own.admit(OWN, 1) == (0.0, None)
    assert own.admit(OWN, 1)[1] == "rate limit: openai/own 1 requests/min"
    assert own.admit(A, 1) == (0.0, None)  # no limit configured: nothing counted


pytestmark = pytest.mark.team(
    lambda url: [
        entry("openai/a", quality_score=9, api_base=f"{url}/a/v1"),
        entry("openai/b", quality_score=8, provider="groq", api_base=f"{url}/b/v1"),
    ],
    keys={"OPENAI_API_KEY": "sk-ratelimit-secret", "GROQ_API_KEY": "gsk-ratelimit"},
    config="rate_limit_wait = 0\n\n[providers.openai]\nrequests_per_minute = 1\n",
)


def test_three_quick_prompts_with_a_limit_of_one_send_one_and_move_on(cli, team, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("from a")
    server.defaults["/b/v1/chat/completions"] = openai_chat("from b")
    answers = []
    for _ in range(3):
        data = json.loads(cli("prompt", "hi", "--group", "writer", "--json").stdout)
        answers.append((data["llm"], data["attempts"][0]["outcome"], data["attempts"][0]["error"]))
    assert answers[0] == ("openai/a", "ok", None)
    assert answers[1] == answers[2] == ("openai/b", "skipped", "rate limit: openai 1 requests/min")
    assert len([r for r in server.requests if r["path"].startswith("/a/")]) == 1


def test_a_rate_limited_only_llm_fails_at_run_time(cli, team, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("from a")
    assert cli("prompt", "hi", "--llm", "openai/a", "--no-fallback").exit_code == 0
    result = cli("prompt", "hi", "--llm", "openai/a", "--no-fallback")
    assert result.exit_code == 1 and "rate limit: openai 1 requests/min" in result.stderr
