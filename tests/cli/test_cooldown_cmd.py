"""`llmctl cooldown list|clear`: what is cooling down, and forgetting it by key, id or URL."""

from __future__ import annotations

import json

import pytest

from conftest import entry
from llmctl.catalog.load import load_catalog
from llmctl.cli.cooldown_cmd import _keys
from llmctl.paths import Home

pytestmark = pytest.mark.team([entry("acme/a", aliases=["a"])], keys={})


def test_nothing_cooling_down_is_an_empty_list(cli, team):
    listed = cli("cooldown", "list")
    assert listed.exit_code == 0 and listed.stderr == "nothing is cooling down\n"
    assert listed.stdout.split() == ["KEY", "KIND", "FAILURES", "UNTIL", "REASON"]
    assert json.loads(cli("cooldown", "list", "--json").stdout) == []
    cleared = cli("cooldown", "clear", "--all")
    assert cleared.exit_code == 0 and cleared.stderr == "llmctl: nothing to clear\n"


def test_clear_needs_a_target_and_refuses_an_unknown_llm(cli, team):
    bare = cli("cooldown", "clear")
    assert bare.exit_code == 2
    assert bare.stderr == "llmctl: error: say what to clear: keys, LLM ids, base URLs, or --all\n"
    assert cli("cooldown", "clear", "acme/nope").exit_code == 2


def test_targets_become_cooldown_keys(team):
    catalog = load_catalog(Home.resolve(team))
    assert _keys(catalog, "a") == ["llm:acme/a", "deployment:acme/a@openai"]  # an alias is its id
    assert _keys(catalog, "https://gpu-box:8000/v1/") == ["endpoint:https://gpu-box:8000/v1"]
    assert _keys(catalog, "endpoint:http://x") == ["endpoint:http://x"]
    assert _keys(catalog, "key:OPENAI_API_KEY") == ["key:OPENAI_API_KEY"]
    assert _keys(catalog, "deployment:acme/a@x") == ["deployment:acme/a@x"]


def test_a_cooldown_past_the_calendars_end_is_listed_not_a_traceback(cli, team):
    state = Home.resolve(team).data_dir / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "cooldown.json").write_text(json.dumps({"llm:acme/a": {"failures": 3, "until": 9e12}}))
    listed = cli("cooldown", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["key"] == "llm:acme/a" and row["until"].startswith("9999-12-31T23:59:59")
