"""Small core modules without the CLI: query, defaults, config, audit, cooldown."""

from __future__ import annotations

import pytest

from llmctl.catalog.load import load_catalog
from llmctl.catalog.query import Query, check_query, run_query
from llmctl.engine.cooldown import Cooldown
from llmctl.errors import AuthFailed, ConnectFailed, FileError, UnknownNameError, UsageError
from llmctl.files.io import line_in_table
from llmctl.paths import Home
from llmctl.prefs import audit
from llmctl.prefs.config import load_config
from llmctl.prefs.scopes import check_scope, get_default, set_default


@pytest.fixture
def h(home):
    return Home.resolve(home)


def test_query_filters_and_sorts(h):
    catalog = load_catalog(h)
    found, _hidden = run_query(catalog, Query(group="tagger", tier="economy", sort="cost"))
    assert found and all("tagger" in e.valid_groups and e.tier == "economy" for e in found)
    costs = [e.input_cost_per_mtok + e.output_cost_per_mtok for e in found]
    assert costs == sorted(costs)
    assert {e.id for e in run_query(catalog, Query(search="HAIKU", include_all=True))[0]} >= {
        "anthropic/claude-3-haiku"
    }


@pytest.mark.parametrize(
    "query",
    [
        Query(group="writr"),
        Query(tier="cheap"),
        Query(sort="qualty"),
        Query(capabilities=["visoin"]),
        Query(provider="opnai"),
        Query(min_context=-1),
    ],
)
def test_query_refuses_bad_names(h, query):
    with pytest.raises(UsageError):
        check_query(query, load_catalog(h))


def test_defaults_one_per_scope(h):
    catalog = load_catalog(h)
    assert get_default(catalog) is None
    change = set_default(h, catalog, "gpt4o")
    assert (change.before, change.after) == (None, "openai/gpt-4o")
    change = set_default(h, load_catalog(h), "haiku3")
    assert (change.before, change.after) == ("openai/gpt-4o", "anthropic/claude-3-haiku")
    assert get_default(load_catalog(h)) == "anthropic/claude-3-haiku"
    for bad in ("", "../x", "a b"):
        with pytest.raises(UsageError):
            check_scope(bad)


def test_config_problems_name_file_line_and_field(h):
    h.config_dir.mkdir(parents=True)
    h.config_file.write_text(
        'max_attempts = 3\n\n[providers.openrouter]\nheaders = { Authorization = "Bearer x" }\n'
    )
    with pytest.raises(FileError) as info:
        load_config(h)
    assert "credentials live in env vars" in info.value.message and "Bearer x" not in info.value.message
    h.config_file.write_text('extra_groups = ["writer"]\n')
    with pytest.raises(FileError, match="built-in group"):
        load_config(h)
    h.config_file.write_text("max_attempts = 0\n")
    with pytest.raises(FileError) as info:
        load_config(h)
    assert info.value.line == 1 and info.value.field == "max_attempts"


def test_line_in_table():
    text = "[jobs.a]\ngroup = 'x'\n\n[jobs.b]\ntier = 'y'\ngroup = 'z'\n"
    assert line_in_table(text, "jobs.b", "group") == 6
    assert line_in_table(text, "jobs.b", None) == 4
    assert line_in_table(text, "jobs.a", "tier") == 1  # not in that table: the header


def test_audit_records_and_reads(h):
    audit.record(
        h,
        "edit",
        [audit.Change("a/b", *audit.diff({"priority": 1, "name": "x"}, {"priority": 2, "name": "x"}))],
    )
    (entry,) = audit.read(h)
    assert (entry["command"], entry["target"], entry["before"], entry["after"]) == (
        "edit",
        "a/b",
        {"priority": 1},
        {"priority": 2},
    )
    with open(h.audit_file, "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(FileError) as info:
        audit.read(h)
    assert info.value.line == 2


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


def test_unknown_names_suggest(h):
    with pytest.raises(UnknownNameError) as info:
        load_catalog(h).get("opus4")
    assert info.value.suggestions
