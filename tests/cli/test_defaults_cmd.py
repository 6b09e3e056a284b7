"""`llmctl default show|set|clear`: one default LLM per scope, set by id or alias."""

from __future__ import annotations

import json

import pytest

from conftest import entry

pytestmark = pytest.mark.team([entry("acme/a", aliases=["a"]), entry("acme/b")], keys={})


def test_set_by_alias_prints_the_id_and_show_reads_it_back(cli, team):
    assert cli("default", "set", "a").stdout == "acme/a\n"
    assert cli("default", "show").stdout == "acme/a\n"
    assert json.loads(cli("default", "show", "--json").stdout) == {"scope": "global", "llm": "acme/a"}


def test_scopes_are_apart_and_set_says_what_it_replaced(cli, team):
    cli("default", "set", "acme/a", "--scope", "ci")
    changed = json.loads(cli("default", "set", "acme/b", "--scope", "ci", "--json").stdout)
    assert changed == {"scope": "ci", "llm": "acme/b", "previous": "acme/a"}
    shown = cli("default", "show")
    assert shown.stdout == "" and shown.stderr == "llmctl: no default LLM for scope 'global'\n"


def test_clear_forgets_the_default_and_says_when_there_was_none(cli, team):
    cli("default", "set", "a")
    assert json.loads(cli("default", "clear", "--json").stdout) == {
        "scope": "global",
        "llm": None,
        "previous": "acme/a",
    }
    again = cli("default", "clear")
    assert again.exit_code == 0 and again.stderr == "llmctl: scope 'global' had no default\n"


def test_an_unknown_llm_is_exit_2_and_nothing_is_written(cli, team):
    result = cli("default", "set", "acme/c")
    assert result.exit_code == 2 and result.stderr.startswith("llmctl: error: ")
    assert not (team / "config.toml").exists()
