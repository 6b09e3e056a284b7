"""Cooldown state: failures counted against the endpoint or the LLM, doubling periods."""

from __future__ import annotations

from llmctl.engine.cooldown import Cooldown
from llmctl.errors import AuthFailed, ConnectFailed, RateLimited, ServerFailed, TimedOut


def entry_x():
    from llmctl.catalog.registry import DictRegistry

    return DictRegistry([{"id": "openai/x", "provider": "openai"}]).get_by_id("openai/x")


def test_llm_cooldown_after_three_failures_doubles_and_caps(tmp_path):
    now = [1000.0]
    cool = Cooldown(tmp_path / "c.json", tmp_path / "c.lock", {}, clock=lambda: now[0])
    e = entry_x()
    for _ in range(2):
        cool.failed(e, ServerFailed("503"))
    assert cool.reason(e) is None  # two failures: not yet
    cool.failed(e, ServerFailed("503"))
    assert cool.reason(e).message.startswith("in cooldown for 60s")
    cool.failed(e, TimedOut("read timed out"))
    assert cool.reason(e).message.startswith("in cooldown for 120s")
    for _ in range(10):
        cool.failed(e, RateLimited("429"))
    assert cool.reason(e).message.startswith("in cooldown for 600s")
    now[0] += 601
    assert cool.reason(e) is None
    cool.failed(e, AuthFailed("401"))  # cools its key; the success below clears it
    cool.succeeded(e)
    assert cool.reason(e) is None and cool._read() == {}


def test_endpoint_cooldown_starts_at_the_first_failure_for_15s(tmp_path):
    now = [1000.0]
    cool = Cooldown(tmp_path / "c.json", tmp_path / "c.lock", {}, clock=lambda: now[0])
    e = entry_x()
    cool.failed(e, ConnectFailed("refused"))
    why = cool.reason(e)
    assert why.kind == "cooldown" and why.message.startswith("in cooldown for 15s more (endpoint ")
    cool.failed(e, ConnectFailed("refused"))
    assert cool.reason(e).message.startswith("in cooldown for 30s")
    for _ in range(20):
        cool.failed(e, ConnectFailed("refused"))
    assert cool.reason(e).message.startswith("in cooldown for 600s")
