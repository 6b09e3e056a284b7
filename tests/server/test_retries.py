"""Clients that retry must not multiply work: the official OpenAI SDK, with its default
retries, against `llmctl serve` and a real upstream that counts what it is sent."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from fakeserver import Reply
from llmctl.paths import Home

openai = pytest.importorskip("openai")

HI = [{"role": "user", "content": "hi"}]
CHAT_A, CHAT_B = "/a/v1/chat/completions", "/b/v1/chat/completions"


@pytest.fixture
def two(cli):
    """The chain is openai/first then openai/second, both on the fake upstream."""
    for llm in ("openai/old-model", "anthropic/nokey"):
        assert cli("disable", llm).exit_code == 0


def test_one_sdk_call_with_default_retries_runs_the_chain_once(gw, server, two):
    down = Reply(500, {"error": "down"}, headers={"retry-after": "0"})
    server.defaults[CHAT_A] = server.defaults[CHAT_B] = down
    with openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", timeout=20) as sdk:  # max_retries=2
        assert sdk.max_retries == 2
        with pytest.raises(openai.APIStatusError) as caught:
            sdk.chat.completions.create(model="openai/first", messages=HI)
    assert caught.value.status_code == 502
    assert caught.value.response.headers["x-should-retry"] == "false"
    # One chain run: each LLM tried three times (llmctl's own retries), and no more.
    paths = [r["path"] for r in server.requests]
    assert paths.count(CHAT_A) == 3 and paths.count(CHAT_B) == 3 and len(paths) == 6


def test_a_429_passes_on_the_upstreams_retry_after_and_says_not_to_retry(client, server, two):
    server.defaults[CHAT_A] = Reply(429, {"error": "slow down"}, headers={"retry-after": "40"})
    server.defaults[CHAT_B] = Reply(429, {"error": "slow down"}, headers={"retry-after": "45"})
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="openai/first", messages=HI)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "40" and headers["x-should-retry"] == "false"
    assert len(server.requests) == 2  # a wait over 30 s is not waited for: the chain moved on


def test_a_429_of_a_full_rate_limit_window_says_when_a_slot_frees(client, server, home, two):
    from fakeserver import openai_chat

    (home / "config.toml").write_text("rate_limit_wait = 0\n\n[providers.openai]\nrequests_per_minute = 1\n")
    server.defaults[CHAT_A] = openai_chat("one")
    assert (
        client.chat.completions.create(model="openai/first", messages=HI).choices[0].message.content == "one"
    )
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="openai/first", messages=HI)
    assert 55 <= int(caught.value.response.headers["retry-after"]) <= 60
    assert len(server.requests) == 1


def test_a_503_when_every_llm_cools_down_says_when_the_first_is_back(gw, server, home, two):
    state = Home.resolve(home).data_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    now = time.time()
    cooling = {
        "llm:openai/first": {"failures": 4, "until": now + 120},
        "llm:openai/second": {"failures": 3, "until": now + 75},
    }
    (state / "cooldown.json").write_text(json.dumps(cooling))
    body = {"model": "openai/first", "messages": HI}
    answer = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 503, answer.text
    assert 70 <= int(answer.headers["retry-after"]) <= 75
    assert "x-should-retry" not in answer.headers  # may be retried, after the wait
    assert server.requests == []


def test_cooling_llms_beside_keyless_ones_are_a_503_not_a_422(gw, server, home, cli):
    """Some LLMs cool down, the others have no key: healthy providers would answer, so it is
    a run-time 503 with the wait, as the CLI's exit 1 (not 'nothing fits')."""
    assert cli("disable", "openai/old-model").exit_code == 0  # anthropic/nokey stays: no key
    state = Home.resolve(home).data_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    until = time.time() + 90
    cooling = {f"llm:openai/{n}": {"failures": 3, "until": until} for n in ("first", "second")}
    (state / "cooldown.json").write_text(json.dumps(cooling))
    body = {"model": "openai/first", "messages": HI}
    answer = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
    assert answer.status_code == 503, answer.text
    assert 85 <= int(answer.headers["retry-after"]) <= 90
    assert server.requests == []
    prompt = cli("prompt", "hi", "--group", "writer")
    assert prompt.exit_code == 1, prompt.stderr
    assert "cooldown" in prompt.stderr


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/chat/completions", {"model": "openai/frist", "messages": HI}, 404),
        ("POST", "/v1/chat/completions", {"model": "openai/first"}, 400),
        ("POST", "/v1/embeddings", {"model": "openai/emb", "input": []}, 400),
        ("GET", "/v1/nothing", None, 404),
        ("GET", "/api/llms/openai/frist", None, 404),
        ("POST", "/api/pick", None, 405),
    ],
)
def test_every_4xx_says_not_to_retry(gw, method, path, body, status):
    answer = httpx.request(method, gw.url + path, json=body, timeout=10)
    assert answer.status_code == status and answer.headers["x-should-retry"] == "false"


def test_over_budget_402_says_not_to_retry(client, server, cli, two):
    assert cli("budget", "set", "0").exit_code == 0
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="openai/first", messages=HI)
    assert caught.value.status_code == 402 and caught.value.response.headers["x-should-retry"] == "false"
    assert server.requests == []


def test_retries_and_timeout_ride_in_the_body_as_prompt_takes_them(gw, server, two):
    server.defaults[CHAT_A] = server.defaults[CHAT_B] = Reply(
        500, {"error": "down"}, headers={"retry-after": "0"}
    )
    body = {"model": "openai/first", "messages": HI, "llmctl": {"retries": 0, "timeout": 5}}
    answer = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=20)
    assert answer.status_code == 502
    paths = [r["path"] for r in server.requests]
    assert paths.count(CHAT_A) == 1 and paths.count(CHAT_B) == 1  # no retries, as asked
    for bad, field in (({"timeout": 0}, "llmctl.timeout"), ({"retries": 101}, "llmctl.retries")):
        body["llmctl"] = bad
        refused = httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
        assert refused.status_code == 400 and field in refused.json()["error"]["message"]
    assert len(server.requests) == 2  # a bad option sends nothing
