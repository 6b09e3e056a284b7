"""The sharpened import rules (PRODUCT.md "Import rules, sharpened"), each counted in the
summary, each on the real reference files of ../shared/samples."""

from __future__ import annotations

import json

import pytest

from conftest import sample, write_json
from llmctl.catalog.formats import from_litellm, read_import
from llmctl.errors import FileError


def by_id(imported):
    return {e["id"]: e for e in imported.entries}


def show(cli, llm_id):
    return json.loads(cli("show", llm_id, "--json").stdout)


def test_models_dev_embedding_rows_come_in_as_embedding_models():
    imported = read_import(sample("modelsdev_api_excerpt.json"))
    got = by_id(imported)
    for llm_id in ("openai/text-embedding-3-small", "mistral/mistral-embed"):  # id, then family
        assert got[llm_id]["capabilities"] == ["embeddings"] and got[llm_id]["valid_groups"] == []
        assert "max_output_tokens" not in got[llm_id]
    assert imported.fixed["embedding model (output, family or id) imported as one"] == 4
    rows = read_import(sample("modelsdev_models.json"))
    assert rows.fixed["embedding model (output, family or id) imported as one"] == 55


def test_a_source_changes_only_the_capabilities_it_states(cli, home):
    """models.dev's Anthropic rows say nothing of structured output: `json` stays; its
    embedding row keeps the catalog's embedding model one; `streaming` is never dropped."""
    before = {
        i: show(cli, i)["capabilities"]
        for i in ("openai/text-embedding-3-small", "anthropic/claude-sonnet-4.5")
    }
    result = cli("catalog", "import", str(sample("modelsdev_api_excerpt.json")), "--json")
    assert result.exit_code == 0, result.stderr
    embed = show(cli, "openai/text-embedding-3-small")
    assert embed["capabilities"] == before["openai/text-embedding-3-small"] == ["embeddings"]
    assert set(show(cli, "anthropic/claude-sonnet-4.5")["capabilities"]) >= {"json", "streaming"}
    # a new embedding model gets no chat group (pick --tier economy cannot choose it)
    mistral = show(cli, "mistral/mistral-embed")
    assert mistral["capabilities"] == ["embeddings"] and mistral["valid_groups"] == []


def test_litellm_input_limit_is_max_input_tokens_and_keeps_the_window(cli, home):
    imported = read_import(sample("litellm_1.110.2_models.json"))
    gpt5 = by_id(imported)["openai/gpt-5"]
    assert gpt5["max_input_tokens"] == 272000 and gpt5["deprecation_date"] == "2026-12-11"
    cli("catalog", "import", str(sample("litellm_1.110.2_models.json")), "--as-of", "2026-12-01")
    shown = show(cli, "openai/gpt-5")
    assert (shown["context_length"], shown["max_input_tokens"]) == (400000, 272000)  # was cut to 272k


def test_a_max_output_equal_to_the_window_is_not_believed():
    data = json.loads(sample("litellm_1.110.2_models.json").read_text())
    imported = from_litellm(data)
    copies = [
        k for k, v in data.items()
        if isinstance(v, dict) and v.get("mode") in ("chat", "responses", "embedding")
        and v.get("max_output_tokens") and v.get("max_output_tokens") == v.get("max_input_tokens")
    ]  # fmt: skip
    assert (
        imported.fixed["max output equal to the context window not believed"] == 1085 <= len(copies)
    )  # one is a duplicate id
    grok = by_id(imported)["xai/grok-4.6"]
    assert (
        "max_output_tokens" not in grok
        and data["xai/grok-4.6"]["max_output_tokens"] == grok["max_input_tokens"]
    )


def test_latest_aliases_land_on_the_newest_of_their_family():
    imported = read_import(sample("openrouter_models.json"))
    aliases = {a: e["id"] for e in imported.entries for a in e.get("aliases", [])}
    assert aliases == {
        "~anthropic/claude-opus-latest": "anthropic/claude-opus-5",
        "~anthropic/claude-sonnet-latest": "anthropic/claude-sonnet-5",
        "~anthropic/claude-haiku-latest": "anthropic/claude-haiku-4.5",
        "~anthropic/claude-fable-latest": "anthropic/claude-fable-5",
        "~openai/gpt-latest": "openai/gpt-5.6-sol-pro",
        "~openai/gpt-mini-latest": "openai/gpt-5.4-mini",
        "~google/gemini-flash-latest": "google/gemini-3.7-flash",
        "~google/gemini-pro-latest": "google/gemini-3.1-pro-preview-customtools",
        "~x-ai/grok-latest": "x-ai/grok-4.6",
    }
    # Kimi's and DeepSeek's rows match no model at their prices and context
    assert imported.skipped["~latest alias with no model of its family at its prices and context"] == 2


def test_latest_aliases_land_in_the_catalog_even_on_a_model_served_directly(cli, home):
    cli("catalog", "import", str(sample("openrouter_models.json")), "--only-known")
    assert show(cli, "~anthropic/claude-opus-latest")["id"] == "anthropic/claude-opus-5"
    assert show(cli, "~openai/gpt-mini-latest")["id"] == "openai/gpt-5.4-mini"


def test_router_pseudo_models_are_skipped_from_litellm_too():
    rows = {
        "openrouter/openrouter/auto": {
            "litellm_provider": "openrouter",
            "mode": "chat",
            "input_cost_per_token": 0,
        },
        "openrouter/anthropic/claude-3-haiku": json.loads(sample("litellm_excerpt.json").read_text())[
            "openrouter/anthropic/claude-3-haiku"
        ],
    }
    imported = from_litellm(rows)
    assert [e["id"] for e in imported.entries] == ["openrouter/anthropic/claude-3-haiku"]
    assert imported.skipped == {"router pseudo-model": 1}
    assert read_import(sample("openrouter_models.json")).skipped["router pseudo-model"] == 6


def test_seed_000_records_import_with_format_seed(cli, home, tmp_path):
    records = [
        {
            "id": "anthropic/claude-3-haiku",
            "input_cost_per_mtok": 0.25,
            "output_cost_per_mtok": 1.25,
            "seconds_per_output_mtok": 30,
            "router": "openrouter",
            "name": "Claude 3 Haiku",
            "description": "Fast and compact model for everyday tasks",
            "company": "Anthropic",
            "context_length": 200000,
            "valid_groups": ["writer", "editor", "tagger", "thinker", "reviewer"],
            "quality_score": 8,
        },
        {"id": "acme/x", "router": "openrouter", "input_cost_per_mtok": 1, "output_cost_per_mtok": 2},
    ]
    path = write_json(tmp_path / "llms.json", records)  # seed 000's own file
    imported = read_import(path, "seed")
    assert imported.format == "seed" and [e["id"] for e in imported.entries] == [
        "anthropic/claude-3-haiku",
        "acme/x",
    ]
    assert imported.entries[0]["provider"] == "openrouter"
    seed001 = write_json(
        tmp_path / "s001.json",
        [{"id": 1, "name": "m", "provider": "openai", "model": "gpt-x", "tier": "economy", "api_key": None,
          "api_endpoint": None, "cost_per_1k_input": 0.001, "cost_per_1k_output": 0.002, "is_active": True}],
    )  # fmt: skip
    result = cli("catalog", "import", str(seed001), "--format", "seed", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["added"] == 1
    assert show(cli, "openai/gpt-x")["api_base"] is None  # seed 001's `"api_endpoint": null`


@pytest.mark.parametrize(
    ("data", "place"),
    [
        (
            {"anthropic": {"id": "anthropic", "models": {}}, "broken": {"id": "b", "models": ["x"]}},
            "broken.models",
        ),
        ({"providers": {"acme": {"id": "acme", "models": None}}}, "providers.acme.models"),
        ({"acme": "not a provider", "b": {"models": {}}}, "acme:"),
    ],
)
def test_a_models_dev_file_of_wrong_structure_is_refused_whole(cli, home, tmp_path, data, place):
    path = write_json(tmp_path / "api.json", data)
    with pytest.raises(FileError, match=place):
        read_import(path, "modelsdev")
    result = cli("catalog", "import", str(path), "--format", "modelsdev")
    assert result.exit_code == 3 and place in result.stderr and "nothing was imported" in result.stderr
    assert not list(home.glob("catalog.*"))  # no user catalog written


def test_an_openrouter_file_without_data_is_refused_naming_it(cli, home, tmp_path):
    path = write_json(tmp_path / "or.json", {"models": []})
    result = cli("catalog", "import", str(path), "--format", "openrouter")
    assert result.exit_code == 3 and "data: missing" in result.stderr
    bad_row = write_json(tmp_path / "or2.json", {"data": [{"id": "a/b", "pricing": {}}, 7]})
    result = cli("catalog", "import", str(bad_row))
    assert result.exit_code == 3 and "data[1]: is int" in result.stderr


def test_only_known_updates_and_adds_nothing(cli, home):
    result = json.loads(
        cli("catalog", "import", str(sample("openrouter_models.json")), "--only-known", "--json").stdout
    )
    assert result["added"] == 0 and result["skipped"]["not in the catalog (--only-known)"] == 328
    dry = json.loads(
        cli(
            "catalog", "import", str(sample("litellm_excerpt.json")), "--only-known", "--dry-run", "--json"
        ).stdout
    )
    assert dry["new"] == 0 and dry["skipped"]["not in the catalog (--only-known)"] >= 1


def test_max_input_tokens_is_validated(cli, home):
    write_json(
        home / "catalog.json",
        {"llms": [{"id": "openai/gpt-4o", "context_length": 1000, "max_input_tokens": 2000}]},
    )
    result = cli("catalog", "validate")
    assert result.exit_code == 3 and "max_input_tokens 2000 is more than the context window" in result.stderr
