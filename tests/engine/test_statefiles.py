"""llmctl's memory files when damaged: a deeply nested cooldown state, a rate-limit state or
a response cache that is not a database (or not ours) is set aside with one warning naming
it, and the prompt goes on."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import team_of_one

KEY = "sk-statefiles-secret-0001"
NESTED = "[" * 100_000 + "]" * 100_000


pytestmark = pytest.mark.team(
    team_of_one, keys={"OPENAI_API_KEY": KEY}, folders=("state",), answer="answered"
)


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("llmctl: warning:")]


@pytest.mark.parametrize("content", [NESTED, '{"llm:openai/a": ' + "[" * 5000 + "]" * 5000 + "}"])
def test_a_deeply_nested_cooldown_state_is_set_aside_and_the_prompt_goes_on(cli, team, server, content):
    state = team / "state" / "cooldown.json"
    state.write_text(content)
    result = cli("prompt", "hi", "--group", "writer")
    assert result.exit_code == 0 and result.stdout == "answered\n", result.stderr
    assert _warnings(result.stderr) == [
        f"llmctl: warning: the cooldown state {state} was damaged: set aside as cooldown.json.damaged; "
        "it starts afresh"
    ]
    assert (team / "state" / "cooldown.json.damaged").read_text() == content
    assert cli("cooldown", "list").exit_code == 0


def test_cooldown_list_sets_a_nested_state_aside_too(cli, team):
    (team / "state" / "cooldown.json").write_text(NESTED)
    result = cli("cooldown", "list", "--json")
    assert result.exit_code == 0 and result.stdout.strip() == "[]"
    assert "set aside as cooldown.json.damaged" in result.stderr


def _not_a_database(path):
    path.write_bytes(b"these bytes are no database " * 100)


def _another_table(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE hits (who TEXT)")
    conn.execute("CREATE TABLE answers (who TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("damage", [_not_a_database, _another_table])
def test_a_damaged_rate_limit_state_is_set_aside_and_limits_hold_again(cli, team, server, damage):
    (team / "config.toml").write_text("rate_limit_wait = 0\n\n[providers.openai]\nrequests_per_minute = 1\n")
    state = team / "state" / "ratelimit.sqlite"
    damage(state)
    before = state.read_bytes()
    first = cli("prompt", "hi", "--group", "writer")
    assert first.exit_code == 0 and first.stdout == "answered\n", first.stderr
    assert _warnings(first.stderr) == [
        f"llmctl: warning: the rate-limit state {state} was damaged: set aside as ratelimit.sqlite.damaged; "
        "it starts afresh"
    ]
    aside = (team / "state" / "ratelimit.sqlite.damaged").read_bytes()
    assert aside == before if damage is _not_a_database else aside.startswith(b"SQLite format 3")
    second = cli("prompt", "hi", "--group", "writer")  # the fresh state counts the first request
    assert second.exit_code == 1 and "rate limit" in second.stderr and len(server.requests) == 1


@pytest.mark.parametrize("damage", [_not_a_database, _another_table])
def test_a_damaged_cache_is_set_aside_and_caches_again(cli, team, server, damage):
    cache = team / "cache.sqlite"
    damage(cache)
    first = cli("prompt", "hi", "--group", "writer", "--cache")
    assert first.exit_code == 0 and first.stdout == "answered\n", first.stderr
    assert _warnings(first.stderr) == [
        f"llmctl: warning: the response cache {cache} was damaged: set aside as cache.sqlite.damaged; "
        "it starts afresh"
    ]
    second = cli("prompt", "hi", "--group", "writer", "--cache", "-v")
    assert second.exit_code == 0 and "answered from the cache" in second.stderr
    assert len(server.requests) == 1
    assert cli("cache", "stats", "--json").exit_code == 0
