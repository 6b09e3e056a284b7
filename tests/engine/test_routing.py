"""Sending through an LLM's deployments, against two real local servers: the weighted
shares, failover to the same model's other deployment before the next LLM, a 404 that
skips one deployment only, reproducible draws, and no routing field on the wire."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import entry
from fakeserver import FakeServer, Reply, openai_chat, refused_url
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.router import Router
from llmctl.providers.wire import ChatRequest, Message

KEY = "sk-routing-test-secret"
ENV = {"OPENAI_API_KEY": KEY, "OTHER_KEY": KEY}
REQ = ChatRequest([Message("user", "hello")])
PATH = "/v1/chat/completions"
ROUTING_FIELDS = ("weight", "order", "input_cost_per_mtok", "output_cost_per_mtok", "deployments")


@pytest.fixture
def two():
    with FakeServer() as one, FakeServer() as other:
        yield one, other


def dep(dep_id: str, url: str, **kw) -> dict:
    return {"id": dep_id, "provider": "openai", "api_base": f"{url}/v1", **kw}


def llm(llm_id: str, *deployments: dict, **kw):
    return DictRegistry([entry(llm_id, deployments=list(deployments), **kw)]).get_by_id(llm_id)


def router(**kw) -> Router:
    return Router.of(client=httpx.Client(), env=ENV, sleep=lambda s: None, timeout=2.0, **kw)


def test_weighted_shares_hold_over_a_few_hundred_requests(two):
    one, other = two
    one.defaults[PATH] = openai_chat("from one")
    other.defaults[PATH] = openai_chat("from other")
    a = llm("openai/a", dep("one", one.url, weight=3), dep("other", other.url, weight=1))
    r = router(seed=7)
    n = 400
    served = [r.chat([a], REQ).attempts[-1].deployment for _ in range(n)]
    # 3:1, so 300 of 400 expected; the standard deviation is about 8.7: 5 of them allowed.
    assert abs(served.count("one") - 300) <= 45
    assert served.count("one") + served.count("other") == n
    assert len(one.requests) + len(other.requests) == n


def test_the_same_seed_gives_the_same_draws(two):
    one, other = two
    one.defaults[PATH] = openai_chat("from one")
    other.defaults[PATH] = openai_chat("from other")
    a = llm("openai/a", dep("one", one.url), dep("other", other.url))
    runs = []
    for _ in range(2):
        r = router(seed=42)
        runs.append([r.chat([a], REQ).attempts[-1].deployment for _ in range(20)])
    assert runs[0] == runs[1] and len(set(runs[0])) == 2


def test_a_refused_deployment_fails_over_to_the_same_model_before_the_next_llm(two):
    one, _ = two
    one.defaults[PATH] = openai_chat("from one")
    # `refused` weighs so much it is drawn first under this seed's draws.
    a = llm("openai/a", dep("refused", refused_url(), weight=1000), dep("one", one.url, weight=0.001))
    b = llm("openai/b", dep("b", one.url))
    result = router(seed=1).chat([a, b], REQ)
    assert result.text == "from one" and result.llm.id == "openai/a"
    shapes = [(x.llm, x.deployment, x.provider, x.outcome) for x in result.attempts]
    assert shapes == [("openai/a", "refused", "openai", "error"), ("openai/a", "one", "openai", "ok")]
    assert result.attempts[0].to_dict()["deployment"] == "refused"


def test_a_404_for_the_model_skips_that_deployment_only(two):
    one, other = two
    one.add(
        PATH, Reply(404, {"error": {"message": "The model `a` does not exist", "code": "model_not_found"}})
    )
    other.defaults[PATH] = openai_chat("from other")
    a = llm("openai/a", dep("one", one.url, weight=1000), dep("other", other.url, weight=0.001))
    result = router(seed=1).chat([a], REQ)
    assert result.text == "from other"
    assert [(x.deployment, x.status) for x in result.attempts] == [("one", 404), ("other", 200)]


def test_keyless_deployments_are_not_drawn(two):
    one, other = two
    other.defaults[PATH] = openai_chat("from other")
    keyless = dep("one", one.url, weight=1000, auth={"api_key_env": "UNSET_KEY"})
    a = llm("openai/a", keyless, dep("other", other.url))
    result = router(seed=1).chat([a], REQ)
    assert [x.deployment for x in result.attempts] == ["other"] and one.requests == []


def test_no_routing_field_reaches_the_provider(two):
    one, other = two
    one.defaults[PATH] = openai_chat("from one")
    other.defaults[PATH] = openai_chat("from other")
    a = llm(
        "openai/a",
        dep("one", one.url, weight=2, order=1, input_cost_per_mtok=5.0, output_cost_per_mtok=9.0),
        dep("other", other.url, weight=1, order=1, model="other-name"),
    )
    r = router(seed=3)
    for _ in range(20):
        r.chat([a], REQ)
    bodies = [req["json"] for req in one.requests + other.requests]
    assert len(bodies) == 20
    for body in bodies:
        text = json.dumps(body)
        assert not any(f'"{name}"' in text for name in ROUTING_FIELDS), text
    assert {b["model"] for b in bodies} == {"a", "other-name"}


def test_usage_rows_record_the_deployment(two, tmp_path):
    from llmctl.engine.usage import UsageStore

    one, other = two
    one.add(PATH, Reply(503, {"error": {"message": "down"}}))
    other.defaults[PATH] = openai_chat("from other")
    a = llm("openai/a", dep("one", one.url, weight=1000), dep("other", other.url, weight=0.001))
    store = UsageStore(tmp_path / "usage.sqlite")
    router(seed=1, retries=0, record=store.record).chat([a], REQ)
    rows = store.query("SELECT llm, deployment, outcome, status FROM attempts ORDER BY id")
    assert [(r["llm"], r["deployment"], r["outcome"], r["status"]) for r in rows] == [
        ("openai/a", "one", "error", 503),
        ("openai/a", "other", "ok", 200),
    ]


def test_usage_by_deployment_counts_each_deployment_of_each_llm(two, tmp_path):
    from llmctl.engine.reports import usage_report
    from llmctl.engine.usage import UsageStore

    one, other = two
    one.add(PATH, Reply(503, {"error": {"message": "down"}}))
    one.defaults[PATH] = openai_chat("from one")
    other.defaults[PATH] = openai_chat("from other")
    a = llm("openai/a", dep("one", one.url, weight=1000), dep("other", other.url, weight=0.001))
    store = UsageStore(tmp_path / "usage.sqlite")
    send = router(seed=1, retries=0, record=store.record)
    send.chat([a], REQ)  # one: 503, then other: ok
    send.chat([a], REQ)  # one: ok
    report = usage_report(store, by=["deployment"])  # at once: the last row is of this millisecond
    rows = {r["deployment"]: (r["requests"], r["ok"], r["failed"]) for r in report["rows"]}
    assert rows == {"openai/a@one": (2, 1, 1), "openai/a@other": (1, 1, 0)}
    assert report["total"]["requests"] == 3


def test_serve_s_attempts_header_names_the_deployments(two):
    from llmctl.server.gateway import attempts_header

    one, other = two
    one.add(PATH, Reply(429, {"error": {"message": "slow down"}}))
    other.defaults[PATH] = openai_chat("from other")
    a = llm("openai/a", dep("one", one.url, weight=1000), dep("other", other.url, weight=0.001))
    result = router(seed=1, retries=0).chat([a], REQ)
    assert attempts_header(result.attempts) == "openai/a@one:429,openai/a@other:ok"
