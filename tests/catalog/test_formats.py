"""Importing LiteLLM and OpenRouter files (real excerpts in tests/data)."""

from __future__ import annotations

import json

import pytest

from conftest import DATA, entry, sample, write_json
from llmctl.catalog.edit import change_catalog
from llmctl.catalog.formats import detect_format, per_million, read_import
from llmctl.catalog.load import load_catalog
from llmctl.catalog.refresh import import_entries
from llmctl.errors import FileError, UnknownNameError
from llmctl.paths import Home

LITELLM = DATA / "litellm_prices.json"
OPENROUTER = DATA / "openrouter_models.json"


def by_id(imported):
    return {e["id"]: e for e in imported.entries}


def test_detects_formats():
    assert detect_format(json.loads(LITELLM.read_text())) == "litellm"
    assert detect_format(json.loads(OPENROUTER.read_text())) == "openrouter"
    assert detect_format({"llms": []}) == "llmctl"
    assert detect_format({"foo": 1}) is None


def test_per_token_prices_become_per_million():
    assert per_million("0.0000032") == 3.2
    assert per_million(2.5e-06) == 2.5
    assert per_million("-1") is None and per_million(None) is None


def test_litellm_chat_entries_are_converted():
    imported = read_import(LITELLM)
    raw = json.loads(LITELLM.read_text())
    gpt = by_id(imported)["openai/gpt-4o"]
    assert gpt["provider"] == "openai"
    assert gpt["input_cost_per_mtok"] == 2.5 and gpt["output_cost_per_mtok"] == 10.0
    assert gpt["context_length"] == raw["gpt-4o"]["max_input_tokens"]
    assert {"vision", "tools", "json", "streaming"} <= set(gpt["capabilities"])
    assert imported.skipped.get("sample_spec") == 1
    assert "sample_spec" not in str(list(by_id(imported)))


def test_litellm_skips_non_chat_modes_and_keeps_embeddings():
    data = {
        "text-embedding-3-small": {
            "litellm_provider": "openai",
            "mode": "embedding",
            "input_cost_per_token": 2e-08,
            "output_cost_per_token": 0.0,
        },
        "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation"},
        "groq/llama-3.3-70b-versatile": {
            "litellm_provider": "groq",
            "mode": "chat",
            "input_cost_per_token": 5.9e-07,
            "output_cost_per_token": 7.9e-07,
        },
        "together_ai/meta/llama": {"litellm_provider": "together_ai", "mode": "chat"},
    }
    from llmctl.catalog.formats import from_litellm

    imported = from_litellm(data)
    got = by_id(imported)
    assert got["openai/text-embedding-3-small"]["capabilities"] == ["embeddings"]
    assert got["openai/text-embedding-3-small"]["valid_groups"] == []
    assert got["groq/llama-3.3-70b-versatile"]["input_cost_per_mtok"] == 0.59
    assert got["together/meta/llama"]["provider"] == "together"
    from llmctl.catalog.entry import default_model

    together = got["together/meta/llama"]
    assert together.get("model", default_model(together["id"], together["provider"])) == "meta/llama"
    assert imported.skipped == {"mode image_generation": 1}


def test_openrouter_models_are_converted():
    data = json.loads(OPENROUTER.read_text())
    imported = read_import(OPENROUTER)
    assert len(imported.entries) + sum(imported.skipped.values()) == len(data["data"])
    # Two router pseudo-models (price -1) and one without a price; one model draws images.
    assert imported.skipped == {"router pseudo-model": 2, "no price": 1, "no text output": 1}
    got = by_id(imported)["acme/vision-pro"]
    assert got["provider"] == "openrouter" and got["company"] == "Acme"
    assert (got["input_cost_per_mtok"], got["output_cost_per_mtok"]) == (2.5, 10.0)
    assert (got["context_length"], got["max_output_tokens"]) == (128000, 16384)
    assert {"tools", "vision", "json"} <= set(got["capabilities"])
    assert got["description"] == "Vision Pro, a model for tests."  # the first line only
    assert by_id(imported)["acme/mini:free"]["input_cost_per_mtok"] == 0.0
    old = by_id(imported)["acme/old-model"]
    assert old["deprecated"] is True and old["deprecation_date"] == "2026-01-15"
    assert "max_output_tokens" not in by_id(imported)["acme/no-limit"]
    assert "reasoning" in by_id(imported)["acme/no-limit"]["capabilities"]


def test_the_whole_real_openrouter_list_is_converted():
    path = sample("openrouter_models.json")
    data = json.loads(path.read_text())
    imported = read_import(path)
    aliases = imported.fixed.get("~latest model made an alias of its target", 0)
    assert len(imported.entries) + sum(imported.skipped.values()) + aliases == len(data["data"])
    assert imported.skipped.get("router pseudo-model") == 6  # openrouter/auto, openrouter/free...
    first = data["data"][0]
    got = by_id(imported)[first["id"]]
    assert got["input_cost_per_mtok"] == round(float(first["pricing"]["prompt"]) * 1e6, 6)
    assert got["context_length"] == first["context_length"]


def test_imported_entries_validate(home):
    """Every converted entry passes the catalog's own validation."""
    from llmctl.catalog.files import validate_entry

    for path in (LITELLM, OPENROUTER):
        for e in read_import(path).entries:
            validate_entry(e)


@pytest.mark.parametrize(
    "fmt, path", [("openrouter", LITELLM), ("litellm", OPENROUTER), ("llmctl", OPENROUTER)]
)
def test_wrong_format_is_refused(fmt, path):
    with pytest.raises(FileError) as info:
        read_import(path, fmt)
    assert "this is not" in info.value.message and "looks like" in info.value.message


def test_unknown_format_name_is_a_usage_error():
    with pytest.raises(UnknownNameError):
        read_import(LITELLM, "litelm")


def test_unrecognised_file_is_refused(tmp_path):
    path = write_json(tmp_path / "x.json", {"hello": "world"})
    with pytest.raises(FileError):
        read_import(path)


def test_import_keeps_user_groups_priority_and_enabled(home):
    h = Home.resolve(home)
    write_json(
        home / "catalog.json",
        {"llms": [{"id": "openai/gpt-4o", "priority": 3, "enabled": False, "valid_groups": ["tagger"]}]},
    )
    new = dict(entry("openai/gpt-4o"), input_cost_per_mtok=9.0, valid_groups=["writer"], priority=50)
    fresh = entry("acme/new", valid_groups=[])
    result = change_catalog(h, None, "import", import_entries([new, fresh], ["editor"]))
    catalog = load_catalog(h)
    gpt = catalog.get("openai/gpt-4o")
    assert (gpt.priority, gpt.enabled, gpt.valid_groups) == (3, False, ["tagger"])
    assert gpt.input_cost_per_mtok == 9.0
    added = catalog.get("acme/new")
    assert added.enabled and added.valid_groups == ["editor"]
    assert {c.target for c in result.changes} == {"openai/gpt-4o", "acme/new"}


def test_litellm_collisions_and_invalid_entries_are_skipped_and_counted():
    from llmctl.catalog.formats import from_litellm, keep_valid

    data = {
        "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-06},
        "openai/gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 9e-06},
        "openrouter/openai/gpt-4o": {
            "litellm_provider": "openrouter",
            "mode": "chat",
            "input_cost_per_token": 3e-06,
        },
        "weird model name": {"litellm_provider": "openai", "mode": "chat"},
        "bad-date": {"litellm_provider": "openai", "mode": "chat", "deprecation_date": "soonish!!!"},
    }
    imported = keep_valid(from_litellm(data))
    got = by_id(imported)
    assert got["openai/gpt-4o"]["input_cost_per_mtok"] == 2.5  # the first, direct entry wins
    assert got["openrouter/openai/gpt-4o"]["model"] == "openai/gpt-4o"
    assert got["openrouter/openai/gpt-4o"]["provider"] == "openrouter"
    assert imported.skipped == {"duplicate id": 1, "invalid id": 1, "invalid deprecation_date": 1}
