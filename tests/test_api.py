"""The Python API of the seeds."""

from __future__ import annotations

import pytest

import llmctl
from conftest import entry
from llmctl.catalog.registry import DictRegistry, LLMRegistry
from llmctl.errors import NoMatchError, UnknownNameError, UsageError


class DraftChapter:
    allowed_llm_group = "writer"


class Broken:
    allowed_llm_group = "poets"


def test_select_llm_for_job_with_a_job_class(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    llm = llmctl.select_llm_for_job(DraftChapter, None, {})
    assert llm.provider == "openai" and "writer" in llm.valid_groups
    with pytest.warns(llmctl.LlmctlWarning, match="book 'moby' has no preferences file"):
        assert llmctl.select_llm_for_job(DraftChapter, "moby", {"llm_id": "gpt4o"}).id == "openai/gpt-4o"


def test_select_llm_for_job_by_name_and_book(home, cli):
    cli("book", "default", "set", "moby", "editor", "gpt4o")
    llm = llmctl.select_llm_for_job("copyedit", "moby", {}, assume_available=True)
    assert llm.id == "openai/gpt-4o"


def test_select_llm_for_job_errors(home):
    with pytest.raises(UnknownNameError):
        llmctl.select_llm_for_job(Broken)
    with pytest.raises(UnknownNameError):
        llmctl.select_llm_for_job("nope")
    with pytest.raises(NoMatchError):
        llmctl.select_llm_for_job("review_chapter")  # no key set, no local reviewer


def test_get_llm_default_and_by_id(home, cli):
    assert llmctl.get_llm(llm_id="haiku3").id == "anthropic/claude-3-haiku"
    cli("default", "set", "gpt4o")
    assert llmctl.get_llm(assume_available=True).id == "openai/gpt-4o"
    with pytest.raises(UnknownNameError):
        llmctl.get_llm(llm_id="nope/nope")
    with pytest.raises(llmctl.LlmctlError, match="disabled"):
        llmctl.get_llm(llm_id="anthropic/claude-3-opus")
    with pytest.warns(
        llmctl.LlmctlWarning, match="scope default openai/gpt-4o skipped: OPENAI_API_KEY is not set"
    ):
        assert llmctl.get_llm().provider == "ollama"  # no key set: the local model of lowest priority


def test_dict_registry_seed_001():
    registry = DictRegistry(
        [
            entry("openai/gpt-4o-mini", tier="standard", input_cost_per_mtok=0.15),
            entry("anthropic/sonnet", provider="anthropic", tier="standard", input_cost_per_mtok=3.0),
            entry("openai/gpt-4o", tier="premium", input_cost_per_mtok=2.5),
            entry("openai/off", tier="standard", input_cost_per_mtok=0.01, enabled=False),
        ]
    )
    assert isinstance(registry, LLMRegistry)
    assert registry.get_by_tier("standard").id == "openai/gpt-4o-mini"
    assert registry.get_by_tier("local") is None
    assert registry.get_by_id("openai/gpt-4o").tier == "premium"
    assert [e.id for e in registry.list_active()] == [
        "anthropic/sonnet",
        "openai/gpt-4o",
        "openai/gpt-4o-mini",
    ]


def test_dict_registry_refuses_bad_entries():
    with pytest.raises(llmctl.LlmctlError):
        DictRegistry([entry("a/b", input_cost_per_mtok=-1)])


def test_dict_registry_from_env(home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    registry = DictRegistry.from_env()
    assert {e.id for e in registry} == {"openai/gpt-3.5-turbo", "openai/gpt-4o-mini", "openai/gpt-4o"}
    assert registry.get_by_tier("economy").id == "openai/gpt-3.5-turbo"
    assert registry.get_by_tier("premium").id == "openai/gpt-4o"


def test_catalog_satisfies_the_registry_protocol(home):
    catalog = llmctl.load_catalog()
    registry = DictRegistry.from_catalog(catalog)
    assert registry.get_by_tier("local").provider == "ollama"


def test_from_env_only_gives_what_the_keys_reach(home, monkeypatch, cli):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    registry = DictRegistry.from_env()
    assert all(e.provider == "anthropic" for e in registry)  # Claude 3 Haiku goes through OpenRouter here
    assert "anthropic/claude-haiku-4.5" in {e.id for e in registry}
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    cli("disable", "gpt35")
    assert "openai/gpt-3.5-turbo" not in {e.id for e in DictRegistry.from_env()}


def test_catalog_init_explains_substitutions(home, monkeypatch, cli):
    import json

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    tiers = json.loads(cli("catalog", "init", "--from-env", "--json").stdout)["tiers"]
    economy = next(t for t in tiers if t["tier"] == "economy")
    assert economy["llm"] == "anthropic/claude-haiku-4.5"
    assert "served through openrouter here, which needs OPENROUTER_API_KEY" in economy["note"]


def test_from_env_and_catalog_init_map_the_tiers_by_one_rule(home, monkeypatch, cli):
    """With only an Anthropic key, the registry's economy model is the one `catalog init
    --from-env` names for economy (Claude 3 Haiku's stand-in), and so for every tier."""
    import json

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    registry = DictRegistry.from_env()
    assert registry.get_by_tier("economy").id == "anthropic/claude-haiku-4.5"
    tiers = json.loads(cli("catalog", "init", "--from-env", "--json").stdout)["tiers"]
    for row in tiers:
        assert registry.get_by_id(row["llm"]).tier == row["tier"]
        assert json.loads(cli("show", row["llm"], "--json").stdout)["tier"] == row["tier"]
    after = DictRegistry.from_env()
    assert {e.id: e.tier for e in after} == {e.id: e.tier for e in registry}


def test_a_stand_in_two_tiers_dearer_does_not_fill_the_row(home, monkeypatch, cli):
    import json

    from conftest import entry, write_json

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    old = entry("anthropic/claude-3-haiku", provider="openrouter", tier="economy")
    new = entry("anthropic/claude-big", provider="anthropic", tier="premium")
    old["replacement"] = new["id"]
    monkeypatch.setenv("LLMCTL_CATALOG", str(write_json(home.parent / "team.json", {"llms": [old, new]})))
    assert DictRegistry.from_env().get_by_tier("economy") is None
    tiers = json.loads(cli("catalog", "init", "--from-env", "--json").stdout)["tiers"]
    assert tiers[0]["note"] == "skipped: anthropic/claude-big stands in, but it is premium, not economy"
    assert json.loads(cli("show", "anthropic/claude-big", "--json").stdout)["tier"] == "premium"


def test_a_job_class_names_one_group_a_list_of_one_included(home):
    class Several:
        allowed_llm_group = ["writer", "editor"]

    class One:
        allowed_llm_group = ("writer",)

    with pytest.raises(UsageError) as raised:
        llmctl.select_llm_for_job(Several, None, assume_available=True)
    assert "allowed_llm_group must name one group (got ['writer', 'editor'])" in raised.value.message
    assert "neither" not in raised.value.message
    chosen = llmctl.select_llm_for_job(One, None, assume_available=True)
    assert "writer" in chosen.valid_groups
