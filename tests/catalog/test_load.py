"""Loading, validating and merging catalogs (the core, without the CLI)."""

from __future__ import annotations

import json
import time

import pytest

from conftest import entry, write_json
from llmctl.catalog.entry import CAPABILITIES, GROUPS, TIERS
from llmctl.catalog.load import load_catalog
from llmctl.errors import FileError, UnknownNameError
from llmctl.paths import Home, bundled_catalog_path


def load(home, **kw):
    return load_catalog(Home.resolve(home), **kw)


# --- the bundled catalog -------------------------------------------------------------------


def test_bundled_catalog_is_real_and_broad(home):
    catalog = load(home)
    entries = list(catalog)
    assert len(entries) >= 40
    companies = {e.company for e in entries}
    assert len(companies) >= 8
    for needed in ("OpenAI", "Anthropic", "Google", "Mistral", "DeepSeek", "Meta", "Qwen", "xAI"):
        assert needed in companies, needed
    local = [e for e in entries if e.provider == "ollama"]
    assert len(local) >= 3
    assert all(
        e.tier == "local" and e.input_cost_per_mtok == 0 and e.output_cost_per_mtok == 0 for e in local
    )


def test_bundled_entries_are_complete(home):
    for e in load(home):
        assert e.input_cost_per_mtok is not None and e.output_cost_per_mtok is not None, e.id
        assert e.context_length and e.context_length > 0, e.id
        assert e.quality_score is not None, e.id
        assert e.capabilities and set(e.capabilities) <= set(CAPABILITIES), e.id
        assert set(e.valid_groups) <= set(GROUPS), e.id
        assert e.tier in TIERS and not e.tier_derived, e.id
        if e.deprecated:
            assert e.replacement, e.id


def test_bundled_catalog_has_seed_000_entry_with_its_figures(home):
    haiku = load(home).get("anthropic/claude-3-haiku")
    assert haiku.provider == "openrouter" and haiku.model == "anthropic/claude-3-haiku"
    assert (haiku.input_cost_per_mtok, haiku.output_cost_per_mtok) == (0.25, 1.25)
    assert haiku.seconds_per_output_mtok == 30
    assert haiku.context_length == 200000
    assert haiku.name == "Claude 3 Haiku" and haiku.company == "Anthropic"
    assert haiku.valid_groups == ["writer", "editor", "tagger", "thinker", "reviewer"]


@pytest.mark.parametrize(
    "llm_id, tier",
    [
        ("openai/gpt-3.5-turbo", "economy"),
        ("anthropic/claude-3-haiku", "economy"),
        ("meta-llama/llama-3.3-70b-versatile", "economy"),
        ("openai/gpt-4o-mini", "economy"),  # seed 001 says standard; its price says economy
        ("anthropic/claude-3.5-sonnet", "premium"),  # $15/M out, as Claude Sonnet 4.5
        ("openai/gpt-4o", "premium"),
        ("anthropic/claude-3-opus", "premium"),
    ],
)
def test_bundled_tiers_follow_the_price_rule_and_seed_001_keeps_its_mapping(home, llm_id, tier):
    from llmctl.catalog.tiermap import TIER_MAP

    assert load(home).get(llm_id).tier == tier
    assert any(llm_id == mapped for rows in TIER_MAP.values() for _tier, mapped in rows)


def test_retired_models_are_disabled_with_replacement(home):
    catalog = load(home)
    for llm_id in ("anthropic/claude-3.5-sonnet", "anthropic/claude-3-opus"):
        e = catalog.get(llm_id)
        assert e.deprecated and e.retired(catalog.today) and not e.enabled
        assert catalog.get(e.replacement).enabled


def test_model_defaults_from_id(home):
    catalog = load(home)
    assert catalog.get("openai/gpt-4o").model == "gpt-4o"
    assert catalog.get("anthropic/claude-3-haiku").model == "anthropic/claude-3-haiku"  # openrouter


# --- lookup ------------------------------------------------------------------------------


def test_get_accepts_alias_and_bare_model_name(home):
    catalog = load(home)
    assert catalog.get("gpt4o").id == "openai/gpt-4o"
    assert catalog.get("gpt-4o").id == "openai/gpt-4o"


def test_unknown_id_suggests_closest(home):
    with pytest.raises(UnknownNameError) as info:
        load(home).get("openai/gpt-4oo")
    assert "openai/gpt-4o" in info.value.suggestions
    assert info.value.exit_code == 2


# --- the user overlay ------------------------------------------------------------------------


def test_user_toml_patches_one_field_of_a_bundled_entry(home):
    (home).mkdir(parents=True)
    (home / "catalog.toml").write_text('[[llms]]\nid = "openai/gpt-4o"\nenabled = false\n')
    catalog = load(home)
    gpt = catalog.get("openai/gpt-4o")
    assert gpt.enabled is False
    assert gpt.input_cost_per_mtok == 2.5  # untouched fields stay
    assert gpt.patched == ("enabled",)


def test_user_json_adds_entry_with_router_alias(home):
    write_json(
        home / "catalog.json",
        {"llms": [{"id": "acme/x", "router": "openrouter", "valid_groups": ["tagger"]}]},
    )
    e = load(home).get("acme/x")
    assert e.provider == "openrouter" and e.origin == "user catalog"


def test_bare_array_catalog_is_accepted(home, tmp_path):
    path = write_json(tmp_path / "team.json", [entry("team/a")])
    assert [e.id for e in load(home, catalog=path)] == ["team/a"]


def test_llmctl_catalog_env_replaces_base(home, tmp_path, monkeypatch):
    path = write_json(tmp_path / "team.json", {"llms": [entry("team/a"), entry("team/b")]})
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    assert [e.id for e in load(home)] == ["team/a", "team/b"]


def test_derived_tier_is_marked(home, tmp_path):
    path = write_json(
        tmp_path / "c.json",
        [
            entry("a/cheap", output_cost_per_mtok=1.0),
            entry("a/mid", output_cost_per_mtok=5.0),
            entry("a/dear", output_cost_per_mtok=40.0),
            entry("ollama/x", provider="ollama"),
        ],
    )
    catalog = load(home, catalog=path)
    assert {e.id: (e.tier, e.tier_derived) for e in catalog} == {
        "a/cheap": ("economy", True),
        "a/mid": ("standard", True),
        "a/dear": ("premium", True),
        "ollama/x": ("local", True),
    }


# --- bad input ---------------------------------------------------------------------------------


def bad(home, tmp_path, text, name="c.json"):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FileError) as info:
        load(home, catalog=path)
    assert info.value.exit_code == 3
    assert str(path) in info.value.message
    return info.value


def test_malformed_json_names_path_and_line(home, tmp_path):
    err = bad(home, tmp_path, '{"llms": [\n  {"id": "a/b",\n   "provider": "openai",,\n  }]}')
    assert err.line == 3 and "invalid JSON" in err.message and "c.json:3" in err.message


def test_malformed_toml_names_path_and_line(home, tmp_path):
    err = bad(home, tmp_path, '[[llms]]\nid = "a/b"\nprovider = openai\n', name="c.toml")
    assert err.line == 3 and "invalid TOML" in err.message


def test_duplicate_ids_are_refused(home, tmp_path):
    err = bad(home, tmp_path, json.dumps({"llms": [entry("a/b"), entry("a/b")]}, indent=1))
    assert "duplicate id" in err.message and err.entry == "a/b"


def test_unknown_field_suggests_the_valid_name(home, tmp_path):
    err = bad(home, tmp_path, json.dumps([entry("a/b", prioriy=3)]))
    assert err.field == "prioriy" and "did you mean 'priority'" in err.message


def test_negative_price_is_refused(home, tmp_path):
    err = bad(home, tmp_path, json.dumps([entry("a/b", input_cost_per_mtok=-1)]))
    assert err.field == "input_cost_per_mtok" and "greater than or equal to 0" in err.message


def test_unknown_group_is_refused_with_hint(home, tmp_path):
    err = bad(home, tmp_path, json.dumps([entry("a/b", valid_groups=["writter"])]))
    assert "unknown group 'writter'" in err.message and "did you mean 'writer'" in err.message


def test_extra_groups_from_config_are_accepted(home, tmp_path):
    home.mkdir(parents=True)
    (home / "config.toml").write_text('extra_groups = ["poet"]\n')
    path = write_json(tmp_path / "c.json", [entry("a/b", valid_groups=["poet"])])
    assert load(home, catalog=path).get("a/b").valid_groups == ["poet"]


@pytest.mark.parametrize("value", [1.5, "3"])
def test_non_integer_priority_is_refused(home, tmp_path, value):
    err = bad(home, tmp_path, json.dumps([entry("a/b", priority=value)]))
    assert err.field == "priority"


@pytest.mark.parametrize(
    "fields",
    [
        {"api_key": "sk-live-123"},
        {"auth": {"api_key": "sk-live-123"}},
        {"auth": {"api_key_env": "sk-live-123"}},
    ],
)
def test_literal_api_key_is_refused_and_not_echoed(home, tmp_path, fields):
    err = bad(home, tmp_path, json.dumps([entry("a/b", **fields)]))
    assert "env" in err.message
    assert "sk-live-123" not in err.message


def test_empty_catalog_is_refused(home, tmp_path):
    err = bad(home, tmp_path, '{"llms": []}')
    assert "no entries" in err.message


def test_wrong_shape_points_to_import(home, tmp_path):
    err = bad(home, tmp_path, json.dumps({"data": [{"id": "x"}]}))
    assert "catalog import" in (err.hint or "")


def test_user_entry_without_provider_for_an_unknown_id_is_set_aside(home):
    """A new entry without provider, or a patch whose bundled entry is gone: not an error
    that locks the user out, but left out and reported (and `catalog validate` fails)."""
    write_json(home / "catalog.json", [{"id": "acme/new"}, {"id": "openai/gpt-4o", "priority": 3}])
    catalog = load(home)
    assert catalog.orphans == ["acme/new"] and "acme/new" not in catalog
    assert catalog.get("openai/gpt-4o").priority == 3
    from llmctl.catalog.checks import validate_files

    report = validate_files(Home.resolve(home), None, [])[-1]
    assert not report.ok and "needs `provider`" in report.problems[0] and ":3:" in report.problems[0]


def test_alias_clashing_with_an_id_is_refused(home, tmp_path):
    err = bad(home, tmp_path, json.dumps([entry("a/b"), entry("a/c", aliases=["a/b"])]))
    assert err.field == "aliases"


def test_unknown_replacement_is_refused(home, tmp_path):
    err = bad(home, tmp_path, json.dumps([entry("a/b", deprecated=True, replacement="a/bb")]))
    assert err.field == "replacement"


def test_all_problems_are_collected(home, tmp_path):
    err = bad(home, tmp_path, json.dumps([entry("a/b", priority=1.5), entry("a/c", input_cost_per_mtok=-2)]))
    assert len(err.more) == 1 and "a/c" in err.more[0]


# --- the validation cache ------------------------------------------------------------------------


def test_changed_file_is_revalidated(home, tmp_path):
    path = write_json(tmp_path / "c.json", [entry("a/b")])
    assert load(home, catalog=path).get("a/b").priority == 100
    time.sleep(0.01)
    write_json(path, [entry("a/b", priority=7)])
    assert load(home, catalog=path).get("a/b").priority == 7
    path.write_text(json.dumps([entry("a/b", priority=-0.5)]))
    with pytest.raises(FileError):
        load(home, catalog=path)


def test_cached_and_uncached_loads_agree(home, monkeypatch):
    first = [e.to_dict() for e in load(home)]
    cached = [e.to_dict() for e in load(home)]
    monkeypatch.setenv("LLMCTL_NO_CACHE", "1")
    fresh = [e.to_dict() for e in load(home)]
    assert first == cached == fresh


def test_bundled_path_points_at_the_repo_catalog():
    assert bundled_catalog_path().name == "llms.json" and bundled_catalog_path().is_file()
