"""Cooldown keys per deployment, key and endpoint; cooldowns only ever extended; a long
Retry-After holding a deployment back; `cooldown clear` of an LLM id."""

from __future__ import annotations

import json
import time

import httpx

from conftest import entry
from fakeserver import FakeServer, Reply, openai_chat
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.cooldown import Cooldown
from llmctl.engine.router import Router
from llmctl.errors import AuthFailed, ConnectFailed, RateLimited, ServerFailed
from llmctl.providers.wire import ChatRequest, Message

REQ = ChatRequest([Message("user", "hello")])
PATH = "/v1/chat/completions"


def two_ways(one: str, other: str, **kw):
    deployments = [
        {"id": "one", "provider": "openai", "api_base": f"{one}/v1", "weight": 1000},
        {"id": "two", "provider": "openai", "api_base": f"{other}/v1", "weight": 0.001, **kw},
    ]
    return DictRegistry([entry("openai/a", deployments=deployments)]).get_by_id("openai/a")


def clocked(tmp_path, now):
    return Cooldown(tmp_path / "c.json", tmp_path / "c.lock", {}, clock=lambda: now[0])


def test_each_failure_counts_against_its_deployment_key_or_endpoint(tmp_path):
    now = [1000.0]
    cool = clocked(tmp_path, now)
    a = two_ways("http://one.test", "http://two.test", auth={"api_key_env": "TWO_KEY"})
    one, two = (a.via(d) for d in a.deployments)
    for _ in range(3):
        cool.failed(one, ServerFailed("503"))
    cool.failed(two, AuthFailed("401"))
    cool.failed(two, ConnectFailed("refused"))
    state = json.loads((tmp_path / "c.json").read_text())
    assert set(state) == {"deployment:openai/a@one", "key:TWO_KEY", "endpoint:http://two.test/v1"}
    assert state["key:TWO_KEY"]["until"] == 1060.0  # a 401 cools its key at once
    assert "deployment openai/a@one" in cool.reason(one).message
    assert cool.reason(two) is not None
    assert {r["kind"] for r in cool.listing()} == {"deployment", "key", "endpoint"}


def test_a_cooldown_is_never_shortened_by_a_later_shorter_one(tmp_path):
    now = [1000.0]
    cool = clocked(tmp_path, now)
    a = two_ways("http://one.test", "http://two.test")
    one = a.via(a.deployments[0])
    cool.failed(one, RateLimited("429", retry_after=500.0), hold=500.0)
    assert json.loads((tmp_path / "c.json").read_text())["deployment:openai/a@one"]["until"] == 1500.0
    for _ in range(3):  # the third failure would cool it 60 s: the 500 s stand
        cool.failed(one, ServerFailed("503"))
    assert json.loads((tmp_path / "c.json").read_text())["deployment:openai/a@one"]["until"] == 1500.0


def test_a_long_retry_after_cools_that_deployment_for_that_long_and_the_other_answers(tmp_path):
    with FakeServer() as first, FakeServer() as second:
        first.add(PATH, Reply(429, {"error": {"message": "slow down"}}, headers={"retry-after": "300"}))
        second.defaults[PATH] = openai_chat("from two")
        a = two_ways(first.url, second.url)
        cool = Cooldown(tmp_path / "c.json", tmp_path / "c.lock", {})
        r = Router.of(
            client=httpx.Client(), env={"OPENAI_API_KEY": "k"}, cooldown=cool, seed=1, max_wait=60.0
        )
        result = r.chat([a], REQ)
        assert [(x.deployment, x.status) for x in result.attempts] == [("one", 429), ("two", 200)]
        state = json.loads((tmp_path / "c.json").read_text())
        assert state["deployment:openai/a@one"]["until"] - cool.clock() > 290
        again = r.chat([a], REQ)  # `one` is cooling: not drawn, nothing sent to it
        assert [x.deployment for x in again.attempts] == ["two"] and len(first.requests) == 1


def test_clear_of_an_llm_id_clears_every_deployment_of_it(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    state = home / "state" / "cooldown.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    far = time.time() + 1000
    state.write_text(
        json.dumps(
            {
                "deployment:openai/gpt-4o@openai": {"failures": 3, "until": far},
                "deployment:openai/gpt-4o@or": {"failures": 3, "until": far},
                "key:OPENAI_API_KEY": {"failures": 1, "until": far},
            }
        )
    )
    listed = json.loads(cli("cooldown", "list", "--json").stdout)
    assert [r["kind"] for r in listed] == ["deployment", "deployment", "key"]
    result = cli("cooldown", "clear", "gpt4o", "key:OPENAI_API_KEY")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "cleared deployment:openai/gpt-4o@openai",
        "cleared deployment:openai/gpt-4o@or",
        "cleared key:OPENAI_API_KEY",
    ]
    assert json.loads(cli("cooldown", "list", "--json").stdout) == []
