"""The router against a real local HTTP server: streaming, retries, fallback, cooldown."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import entry
from fakeserver import Reply, openai_chat, openai_stream, refused_url
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.cooldown import Cooldown
from llmctl.engine.router import Router
from llmctl.engine.usage import UsageStore
from llmctl.errors import AllFailedError, StreamInterrupted
from llmctl.providers.wire import ChatRequest, Message

KEY = "sk-router-test-secret"
ENV = {"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY}
REQ = ChatRequest([Message("user", "hello")])


def llms(*specs):
    return [DictRegistry([s]).get_by_id(s["id"]) for s in specs]


def oa(llm_id, base, **kw):
    return entry(llm_id, api_base=f"{base}/v1", **kw)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def router(sleeps, tmp_path):
    with httpx.Client() as client:
        cooldown = Cooldown(tmp_path / "cool.json", tmp_path / "cool.lock", {})
        yield Router.of(
            client=client, env=ENV, sleep=sleeps.append, rng=lambda: 0.5, timeout=2.0, cooldown=cooldown
        )


def test_plain_chat_returns_text_usage_and_cost(server, router):
    server.add("/v1/chat/completions", openai_chat("hi there", 1000, 500))
    (a,) = llms(oa("openai/a", server.url, input_cost_per_mtok=2.0, output_cost_per_mtok=10.0))
    result = router.chat([a], REQ)
    assert result.text == "hi there" and result.llm.id == "openai/a"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 500)
    assert result.cost == pytest.approx((1000 * 2 + 500 * 10) / 1e6)
    sent = server.requests[0]
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"
    assert sent["json"]["messages"] == [{"role": "user", "content": "hello"}]


def test_streaming_forwards_chunks_in_order(server, router):
    server.add("/v1/chat/completions", openai_stream(["Hel", "lo", " world"], chunk_delay=0.01))
    (a,) = llms(oa("openai/a", server.url))
    seen = []
    result = router.chat([a], REQ, on_text=seen.append)
    assert seen == ["Hel", "lo", " world"] and result.text == "Hello world"
    assert result.usage.output_tokens == 3 and result.ttft_ms is not None
    assert server.requests[0]["json"]["stream"] is True


def test_503_then_success_retries_with_backoff(server, router, sleeps):
    server.add("/v1/chat/completions", Reply(503, {"error": {"message": "busy"}}), openai_chat("ok"))
    (a,) = llms(oa("openai/a", server.url))
    result = router.chat([a], REQ)
    assert result.text == "ok" and result.attempts[0].tries == 2
    assert sleeps == [0.25 * 0.75]  # base 0.25 s, jitter factor 0.5 + 0.5/2


def test_429_honours_retry_after(server, router, sleeps):
    server.add(
        "/v1/chat/completions",
        Reply(429, {"error": {"message": "slow down"}}, {"retry-after": "2"}),
        openai_chat("ok"),
    )
    (a,) = llms(oa("openai/a", server.url))
    assert router.chat([a], REQ).text == "ok"
    assert sleeps == [2.0]


def test_429_with_long_retry_after_moves_on(server, router, sleeps):
    server.add("/v1/chat/completions", Reply(429, {"error": {"message": "quota"}}, {"retry-after": "3600"}))
    server.add("/v2/chat/completions", openai_chat("from b"))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    result = router.chat([a, b], REQ)
    assert result.llm.id == "openai/b" and sleeps == []
    assert result.attempts[0].status == 429


def test_refused_primary_falls_back(server, router, sleeps):
    server.add("/v1/chat/completions", openai_chat("from b"))
    a, b = llms(oa("openai/a", refused_url()), oa("openai/b", server.url))
    result = router.chat([a, b], REQ)
    assert result.llm.id == "openai/b"
    assert result.attempts[0].outcome == "error" and "cannot connect" in result.attempts[0].error
    # A refused endpoint is not tried again: the next LLM is tried at once, with no wait.
    assert result.attempts[0].tries == 1 and sleeps == []


def test_a_refused_endpoint_skips_its_other_llms_in_the_same_run(server, sleeps):
    server.add("/v1/chat/completions", openai_chat("from c"))
    dead = refused_url()
    a, b, c = llms(oa("openai/a", dead), oa("openai/b", dead), oa("openai/c", server.url))
    with httpx.Client() as client:  # no cooldown memory: the run itself remembers
        result = Router.of(client=client, env=ENV, sleep=sleeps.append).chat([a, b, c], REQ)
    assert result.llm.id == "openai/c" and len(server.requests) == 1
    assert result.attempts[1].outcome == "skipped" and "could not be reached" in result.attempts[1].error
    assert sleeps == []


def test_stalled_server_times_out_then_falls_back(server, sleeps, tmp_path):
    server.add("/v1/chat/completions", Reply(delay=1.5, body={"never": "seen"}))
    server.add("/v2/chat/completions", openai_chat("from b"))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    with httpx.Client() as client:
        router = Router.of(client=client, env=ENV, sleep=sleeps.append, timeout=0.3, retries=0)
        result = router.chat([a, b], REQ)
    assert result.llm.id == "openai/b"
    assert "timed out" in result.attempts[0].error


def test_stream_dropped_after_first_byte_is_reported_not_stitched(server, router):
    server.add("/v1/chat/completions", openai_stream(["part one", " part two"], drop_after=1))
    server.add("/v2/chat/completions", openai_chat("from b"))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    seen = []
    with pytest.raises(StreamInterrupted) as info:
        router.chat([a, b], REQ, on_text=seen.append)
    assert seen == ["part one"]
    assert "openai/a broke off" in info.value.message
    assert all(r["path"].startswith("/v1") for r in server.requests)  # b was never asked


def test_stream_dropped_before_first_byte_falls_back(server, router):
    server.add("/v1/chat/completions", *[openai_stream(["x"], drop_after=0)] * 3)
    server.add("/v2/chat/completions", openai_stream(["from b"]))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    seen = []
    result = router.chat([a, b], REQ, on_text=seen.append)
    assert result.llm.id == "openai/b" and seen == ["from b"]


def test_malformed_json_is_retried_then_falls_back(server, router):
    server.add("/v1/chat/completions", *[Reply(200, "this is { not json")] * 3)
    server.add("/v2/chat/completions", openai_chat("from b"))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    result = router.chat([a, b], REQ)
    assert result.llm.id == "openai/b" and "not JSON" in result.attempts[0].error


def test_auth_error_moves_on_at_once(server, router, sleeps):
    server.add("/v1/chat/completions", Reply(401, {"error": {"message": f"bad key {KEY}"}}))
    server.add("/v2/chat/completions", openai_chat("from b"))
    b_key = {"api_key_env": "ANTHROPIC_API_KEY"}  # another key: a 401 cools the key it saw
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2", auth=b_key))
    result = router.chat([a, b], REQ)
    assert result.llm.id == "openai/b" and sleeps == [] and result.attempts[0].tries == 1
    assert KEY not in result.attempts[0].error and "***" in result.attempts[0].error


def test_a_401_cools_its_key_at_once_for_every_llm_using_it(server, router):
    server.add("/v1/chat/completions", Reply(403, {"error": {"message": "no access"}}))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    with pytest.raises(AllFailedError) as failed:
        router.chat([a, b], REQ)
    (tried, skipped) = failed.value.attempts
    assert tried.status == 403 and "key OPENAI_API_KEY" in skipped.error and len(server.requests) == 1
    listed = router.services.cooldown.listing()
    assert [(r["key"], r["kind"]) for r in listed] == [("key:OPENAI_API_KEY", "key")]


def test_context_length_error_moves_to_a_larger_context(server, router):
    server.add(
        "/v1/chat/completions",
        Reply(400, {"error": {"message": "This model's maximum context length is 8192 tokens"}}),
    )
    server.add("/v3/chat/completions", openai_chat("big"))
    a, same, big = llms(
        oa("openai/a", server.url, context_length=8192),
        entry("openai/same", api_base=f"{server.url}/v2", context_length=8192),
        entry("openai/big", api_base=f"{server.url}/v3", context_length=200000),
    )
    result = router.chat([a, same, big], REQ)
    assert result.llm.id == "openai/big"
    assert [x.outcome for x in result.attempts] == ["error", "skipped", "ok"]
    assert not any(r["path"].startswith("/v2") for r in server.requests)


def test_all_failed_lists_every_attempt(server, router):
    server.add("/v1/chat/completions", Reply(404, {"error": {"message": "no such model"}}))
    a, b, c = llms(
        oa("openai/a", server.url),
        oa("openai/b", refused_url()),
        entry("anthropic/c", provider="anthropic", auth={"api_key_env": "UNSET_KEY"}),
    )
    with pytest.raises(AllFailedError) as info:
        router.chat([a, b, c], REQ)
    err = info.value
    assert err.exit_code == 1 and len(err.more) == 3
    assert err.more[0].startswith("openai/a (openai): openai answered 404: no such model")
    assert "cannot connect" in err.more[1] and err.more[2] == "anthropic/c (anthropic): UNSET_KEY is not set"


def test_a_refused_endpoint_cools_down_at_once_and_is_skipped_in_the_next_run(server, tmp_path):
    dead = refused_url()
    server.add("/v1/chat/completions", openai_chat("b1"), openai_chat("b2"))
    a, b = llms(oa("openai/a", dead), oa("openai/b", server.url))
    now = [1000.0]
    cooldown = Cooldown(tmp_path / "cool.json", tmp_path / "cool.lock", {}, clock=lambda: now[0])
    with httpx.Client() as client:
        Router.of(client=client, env=ENV, sleep=lambda s: None, cooldown=cooldown).chat([a, b], REQ)
    state = json.loads((tmp_path / "cool.json").read_text())
    assert state[f"endpoint:{dead}/v1"] == {"failures": 1, "until": 1015.0}  # 15 s after one failure
    later = Cooldown(
        tmp_path / "cool.json", tmp_path / "cool.lock", {}, clock=lambda: now[0]
    )  # a new process
    with httpx.Client() as client:
        result = Router.of(client=client, env=ENV, sleep=lambda s: None, cooldown=later).chat([a, b], REQ)
    assert result.attempts[0].outcome == "skipped" and "in cooldown" in result.attempts[0].error
    assert result.attempts[0].tries == 0
    now[0] += 16  # the cooldown is over: one request probes the endpoint; it fails again, twice as long
    with httpx.Client() as client:
        server.add("/v1/chat/completions", openai_chat("b3"))
        Router.of(client=client, env=ENV, sleep=lambda s: None, cooldown=later).chat([a, b], REQ)
    assert json.loads((tmp_path / "cool.json").read_text())[f"endpoint:{dead}/v1"]["until"] == 1016.0 + 30


def test_model_failures_cool_down_the_llm_after_three_runs_never_the_endpoint(server, tmp_path):
    server.add("/v1/chat/completions", *[Reply(503, {"error": "busy"})] * 3)
    (a,) = llms(oa("openai/a", server.url))
    cooldown = Cooldown(tmp_path / "cool.json", tmp_path / "cool.lock", {})
    with httpx.Client() as client:
        for run in range(3):  # three runs, each with one try: three failures
            with pytest.raises(AllFailedError):
                Router.of(client=client, env=ENV, sleep=lambda s: None, cooldown=cooldown, retries=0).chat(
                    [a], REQ
                )
            state = json.loads((tmp_path / "cool.json").read_text())
            assert state["deployment:openai/a@openai"]["failures"] == run + 1
            assert not any(key.startswith("endpoint:") for key in state)
    assert state["deployment:openai/a@openai"]["until"] > 0


def test_success_clears_the_failure_count(server, tmp_path):
    server.add("/v1/chat/completions", Reply(503, {"error": "x"}), openai_chat("ok"))
    (a,) = llms(oa("openai/a", server.url))
    cooldown = Cooldown(tmp_path / "cool.json", tmp_path / "cool.lock", {})
    with httpx.Client() as client:
        router = Router.of(client=client, env=ENV, sleep=lambda s: None, cooldown=cooldown, retries=0)
        with pytest.raises(AllFailedError):
            router.chat([a], REQ)
        assert json.loads((tmp_path / "cool.json").read_text())["deployment:openai/a@openai"]["failures"] == 1
        router.chat([a], REQ)
    assert json.loads((tmp_path / "cool.json").read_text()) == {}


def test_attempts_are_recorded_in_the_usage_store(server, tmp_path):
    server.add("/v1/chat/completions", Reply(503, {"error": "x"}), openai_chat("ok", 10, 20))
    (a,) = llms(oa("openai/a", server.url, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0))
    store = UsageStore(tmp_path / "usage.sqlite")
    with httpx.Client() as client:
        Router.of(
            client=client, env=ENV, sleep=lambda s: None, record=store.record, book="moby", job="copyedit"
        ).chat([a], REQ)
    rows = store.rows()
    assert [r["outcome"] for r in rows] == ["error", "ok"]
    ok = rows[1]
    assert (ok["book"], ok["job"], ok["input_tokens"], ok["output_tokens"]) == ("moby", "copyedit", 10, 20)
    assert ok["cost"] == pytest.approx(50 / 1e6) and ok["input_cost_per_mtok"] == 1.0
    assert store.latencies()["openai/a"] > 0


def test_anthropic_and_ollama_stream_through_the_router(server, router):
    server.add(
        "/v1/messages",
        Reply(
            headers={"content-type": "text/event-stream"},
            chunks=[
                'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":7}}}\n\n',
                'event: ping\ndata: {"type":"ping"}\n\n',
                'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"}}\n\n',
                'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
                '"usage":{"output_tokens":2}}\n\n',
                'event: message_stop\ndata: {"type":"message_stop"}\n\n',
            ],
        ),
    )
    server.add(
        "/api/chat",
        Reply(
            chunks=[
                '{"message":{"content":"Yo"},"done":false}\n',
                '{"message":{"content":"!"},"done":true,"prompt_eval_count":3,"eval_count":2}\n',
            ]
        ),
    )
    claude, local = llms(
        entry("anthropic/c", provider="anthropic", api_base=server.url),
        entry("ollama/l", provider="ollama", api_base=server.url),
    )
    seen = []
    result = router.chat([claude], REQ, on_text=seen.append)
    assert result.text == "Hi" and (result.usage.input_tokens, result.usage.output_tokens) == (7, 2)
    result = router.chat([local], REQ, on_text=seen.append)
    assert result.text == "Yo!" and result.usage.output_tokens == 2
