"""The response cache: opt-in, keyed on what shapes an answer, a hit sends nothing and costs nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import entry
from fakeserver import openai_chat, openai_stream
from llmctl.engine.cache import ResponseCache, cache_key, seconds

pytestmark = pytest.mark.team(
    lambda url: [entry("openai/a", valid_groups=["writer", "editor"], api_base=f"{url}/a/v1")],
    keys={"OPENAI_API_KEY": "sk-cache-secret"},
)


def test_a_hit_sends_nothing_prints_the_answer_and_is_recorded_at_no_cost(cli, team, server):
    server.add("/a/v1/chat/completions", openai_chat("kept answer", 7, 3))
    first = json.loads(cli("prompt", "hi", "--group", "writer", "--cache", "--json").stdout)
    assert first["cached"] is False and first["text"] == "kept answer"
    streamed = cli("prompt", "hi", "--group", "writer", "--cache", "-v")  # streamed this time: same key
    assert streamed.exit_code == 0 and streamed.stdout == "kept answer\n"
    assert "answered from the cache" in streamed.stderr
    assert len(server.requests) == 1
    rows = (
        sqlite3.connect(team / "usage.sqlite")
        .execute("SELECT outcome, cost, input_tokens FROM attempts")
        .fetchall()
    )
    assert rows == [("ok", pytest.approx(7e-6 + 6e-6), 7), ("cache_hit", 0.0, 7)]
    report = json.loads(cli("usage", "--json").stdout)["total"]
    assert (report["requests"], report["cache_hits"]) == (1, 1)
    stats = json.loads(cli("cache", "stats", "--json").stdout)
    assert (stats["entries"], stats["hits"]) == (1, 1) and stats["bytes"] > 0


def test_the_cache_is_opt_in_and_no_cache_wins(cli, team, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("fresh")
    cli("prompt", "hi", "--group", "writer")
    cli("prompt", "hi", "--group", "writer")
    assert len(server.requests) == 2  # not asked for: nothing kept
    (team / "config.toml").write_text("cache = true\n")
    cli("prompt", "hi", "--group", "writer")
    cli("prompt", "hi", "--group", "writer")
    assert len(server.requests) == 3
    cli("prompt", "hi", "--group", "writer", "--no-cache")
    assert len(server.requests) == 4
    (team / "jobs.toml").write_text("[jobs.copyedit]\ncache = false\n")
    cli("prompt", "hi", "--job", "copyedit")
    assert len(server.requests) == 5  # the job's word beats config.toml's


def test_only_complete_answers_are_kept(cli, team, server):
    server.add("/a/v1/chat/completions", openai_stream(["half ", "of it"], drop_after=1))
    assert cli("prompt", "hi", "--group", "writer", "--cache").exit_code == 1
    assert json.loads(cli("cache", "stats", "--json").stdout)["entries"] == 0


def test_the_key_is_what_shapes_the_answer(tmp_path):
    messages = [{"role": "user", "content": "hi"}]
    base = cache_key("openai", "https://x/v1", "m", messages, {"temperature": 0.2})
    assert base == cache_key("openai", "https://x/v1", "m", messages, {"temperature": 0.2, "stream": True})
    assert base != cache_key("openai", "https://x/v1", "m", messages, {"temperature": 0.3})
    assert base != cache_key("openai", "https://y/v1", "m", messages, {"temperature": 0.2})
    system = [{"role": "system", "content": "terse"}, *messages]
    assert base != cache_key("openai", "https://x/v1", "m", system, {"temperature": 0.2})


def test_ttl_and_clear_older_than(tmp_path):
    now = [1000.0]
    cache = ResponseCache(tmp_path / "cache.sqlite", ttl=seconds("1h"), clock=lambda: now[0])
    cache.put("k1", "openai/a", "one", 1, 1)
    now[0] += 1800
    cache.put("k2", "openai/a", "two", 1, 1)
    assert cache.get("k1")["text"] == "one"
    now[0] += 1900  # k1 is past its hour, k2 is not
    assert cache.get("k1") is None and cache.get("k2")["text"] == "two"
    assert cache.clear("1h") == 1 and cache.stats()["entries"] == 1
    assert cache.clear() == 1
    with pytest.raises(Exception, match="not a time span"):
        cache.clear("soon")


def test_a_damaged_cache_only_costs_the_saving(cli, team, server):
    (team / "cache.sqlite").write_bytes(b"not a database at all" * 50)
    server.defaults["/a/v1/chat/completions"] = openai_chat("still answered")
    result = cli("prompt", "hi", "--group", "writer", "--cache")
    assert result.exit_code == 0 and result.stdout == "still answered\n"
    assert result.stderr.count("the response cache") == 1 and "llmctl: warning:" in result.stderr
