"""Cooldown state: failures counted against the endpoint or the LLM, doubling periods."""

from __future__ import annotations

from llmctl.engine.cooldown import Cooldown
from llmctl.errors import AuthFailed, ConnectFailed


def test_cooldown_doubles_and_caps(tmp_path):
    from llmctl.catalog.registry import DictRegistry

    now = [1000.0]
    cool = Cooldown(tmp_path / "c.json", tmp_path / "c.lock", {}, clock=lambda: now[0])
    e = DictRegistry([{"id": "openai/x", "provider": "openai"}]).get_by_id("openai/x")
    for _ in range(2):
        cool.failed(e, ConnectFailed("refused"))
    assert cool.reason(e) is None  # two failures: not yet
    cool.failed(e, ConnectFailed("refused"))
    assert cool.reason(e).message.startswith("in cooldown for 60s")
    cool.failed(e, ConnectFailed("refused"))
    assert cool.reason(e).message.startswith("in cooldown for 120s")
    for _ in range(10):
        cool.failed(e, ConnectFailed("refused"))
    assert cool.reason(e).message.startswith("in cooldown for 600s")
    now[0] += 601
    assert cool.reason(e) is None
    cool.failed(e, AuthFailed("401"))  # says nothing about health
    cool.succeeded(e)
    assert cool.reason(e) is None and cool._read() == {}
