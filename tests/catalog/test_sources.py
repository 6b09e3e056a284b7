"""Catalog sources: models.dev and the seeds' records, the import hygiene rules (each
counted), freshness (`--as-of`, `--force`, kept newer), against small files written here
and the real ones in ../shared/samples."""

from __future__ import annotations

import json

import pytest

from conftest import sample, write_json
from llmctl.catalog.formats import detect_format, from_litellm, from_openrouter, keep_valid, read_import


def by_id(imported):
    return {e["id"]: e for e in imported.entries}


MODELSDEV = {
    "anthropic": {
        "id": "anthropic",
        "env": ["ANTHROPIC_API_KEY"],
        "npm": "@ai-sdk/anthropic",
        "models": {
            "claude-x": {
                "name": "Claude X",
                "tool_call": True,
                "reasoning": True,
                "structured_output": True,
                "modalities": {"input": ["text", "image"], "output": ["text"]},
                "cost": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75},
                "limit": {"context": 200000.0, "output": 64000},
            },
            "claude-old": {"cost": {"input": "0.25", "output": "1.25"}, "status": "deprecated"},
            "claude-bad": {"cost": {"input": "cheap", "output": 1}},
            "voice": {"modalities": {"output": ["audio"]}, "cost": {"input": 1, "output": 1}},
        },
    },
    "newcloud": {
        "id": "newcloud",
        "env": ["NEWCLOUD_API_KEY"],
        "npm": "@ai-sdk/openai-compatible",
        "api": "https://api.newcloud.example/v1",
        "models": {"m1": {"cost": {"input": 1, "output": 2}}},
    },
    "closedcloud": {"id": "closedcloud", "env": ["X"], "npm": "@ai-sdk/closed", "models": {"m2": {}}},
}


def test_models_dev_api_json_is_imported_with_every_rule_counted(tmp_path):
    path = write_json(tmp_path / "api.json", MODELSDEV)
    assert detect_format(MODELSDEV) == "modelsdev" and detect_format({"providers": MODELSDEV}) == "modelsdev"
    imported = read_import(path)
    got = by_id(imported)
    x = got["anthropic/claude-x"]
    assert (x["input_cost_per_mtok"], x["output_cost_per_mtok"]) == (3.0, 15.0)  # per million already
    assert (x["cache_read_cost_per_mtok"], x["cache_write_cost_per_mtok"]) == (0.3, 3.75)
    assert (x["context_length"], x["max_output_tokens"]) == (200000, 64000)
    assert set(x["capabilities"]) == {"streaming", "vision", "tools", "reasoning", "json"}
    assert got["anthropic/claude-old"]["deprecated"] is True
    assert got["anthropic/claude-old"]["input_cost_per_mtok"] == 0.25  # a numeric string is a number
    # an OpenAI-compatible provider llmctl does not know is sent to at its own address
    assert got["newcloud/m1"]["api_base"] == "https://api.newcloud.example/v1"
    assert got["newcloud/m1"]["auth"] == {"api_key_env": "NEWCLOUD_API_KEY"}
    closed = got["closedcloud/m2"]
    assert closed["enabled"] is False and "cannot send to provider 'closedcloud'" in closed["description"]
    assert "auth" not in closed
    assert imported.skipped == {"unreadable price": 1, "no text output": 1}
    assert imported.fixed == {
        "whole-number float limit read as an integer": 1,
        "deprecated on models.dev": 1,
        "imported disabled: a provider llmctl cannot send to": 1,
    }


def test_the_real_models_dev_files(tmp_path):
    excerpt = read_import(sample("modelsdev_api_excerpt.json"))
    data = json.loads(sample("modelsdev_api_excerpt.json").read_text())
    total = sum(len(p["models"]) for p in data.values())
    assert len(excerpt.entries) + sum(excerpt.skipped.values()) == total
    sonnet = by_id(excerpt)["anthropic/claude-3-5-sonnet-20240620"]
    assert sonnet["deprecated"] and sonnet["cache_read_cost_per_mtok"] == 0.3
    rows = read_import(sample("modelsdev_models.json"))
    assert len(rows.entries) > 4500 and rows.format == "modelsdev"


SEED = [
    {
        "id": 1,
        "name": "GPT-4o mini",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "tier": "economy",
        "api_key": None,
        "api_endpoint": "https://proxy.example/v1",
        "max_tokens": 4096,
        "temperature": 0.7,
        "cost_per_1k_input": 0.00015,
        "cost_per_1k_output": 0.0006,
        "is_active": True,
    },
    {"llm_name": "Haiku", "router": "anthropic", "model_name": "claude-3-haiku", "is_active": False},
    {"id": "acme/both", "provider": "openai", "is_active": True, "enabled": False},
    {"name": "nameless"},
    {"id": 2, "provider": "openai", "model": "gpt-x", "cost_per_1k_input": "free"},
]


def test_the_seeds_records_are_imported(tmp_path):
    path = write_json(tmp_path / "seed.json", SEED)
    assert detect_format(SEED) == "seed"
    imported = read_import(path)
    got = by_id(imported)
    mini = got["openai/gpt-4o-mini"]
    assert (mini["input_cost_per_mtok"], mini["output_cost_per_mtok"]) == (0.15, 0.6)  # per 1k x 1000
    assert mini["params"] == {"max_tokens": 4096, "temperature": 0.7}
    assert mini["api_base"] == "https://proxy.example/v1" and mini["enabled"] is True
    assert mini["name"] == "GPT-4o mini" and mini["tier"] == "economy" and "model" not in mini
    haiku = got["anthropic/claude-3-haiku"]
    assert haiku["enabled"] is False and haiku["name"] == "Haiku" and haiku["provider"] == "anthropic"
    assert imported.skipped == {
        "both is_active and enabled": 1,
        "no id (and no provider and model to make one)": 1,
        "invalid input_cost_per_mtok": 1,
    }


def test_a_seed_records_key_is_never_imported(tmp_path, cli, home):
    records = [
        {"id": "acme/k", "provider": "openai", "is_active": True, "api_key": "sk-live-0123456789abcdef"}
    ]
    path = write_json(tmp_path / "seed.json", records)
    result = cli("catalog", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["fixed"] == {"api_key left out (keys live in environment variables)": 1}
    assert "sk-live" not in (home / "catalog.toml").read_text()


def test_litellm_hygiene():
    data = {
        "fireworks-ai-up-to-4b": {"input_cost_per_token": 1e-07, "output_cost_per_token": 1e-07},
        "together-ai-21.1b-41b": {"litellm_provider": "together_ai", "mode": "chat"},
        "no-mode": {"litellm_provider": "openai", "input_cost_per_token": 1e-06},
        "xai/grok-4-fast": {
            "litellm_provider": "xai",
            "mode": "chat",
            "max_input_tokens": 2000000.0,
            "max_output_tokens": 30000.0,
        },
        "legacy": {"litellm_provider": "openai", "mode": "chat", "max_tokens": 512},
        "azure_ai/deepseek-r1": {"litellm_provider": "azure_ai", "mode": "chat"},
        "azure/gpt-4o": {"litellm_provider": "azure", "mode": "chat"},
        "claude-opus": {
            "litellm_provider": "anthropic",
            "mode": "chat",
            "input_cost_per_token": 5e-06,
            "output_cost_per_token": 2.5e-05,
            "cache_read_input_token_cost": 5e-07,
            "input_cost_per_token_above_200k_tokens": 1e-05,
            "output_cost_per_token_above_200k_tokens": 3.75e-05,
            "deprecation_date": "2099-12-31",
        },
        "old": {"litellm_provider": "openai", "mode": "chat", "deprecation_date": "2025-01-01"},
    }
    imported = keep_valid(from_litellm(data))
    got = by_id(imported)
    grok = got["xai/grok-4-fast"]
    assert (grok["context_length"], grok["max_output_tokens"]) == (2000000, 30000)
    assert "context_length" not in got["openai/legacy"]  # never from the legacy max_tokens
    assert (
        got["azure_ai/deepseek-r1"]["provider"] == "azure_ai" and got["azure/gpt-4o"]["provider"] == "azure"
    )
    assert got["azure_ai/deepseek-r1"]["enabled"] is False and "enabled" not in got["azure/gpt-4o"]
    opus = got["anthropic/claude-opus"]
    assert (opus["cache_read_cost_per_mtok"], opus["input_cost_per_mtok_above_200k"]) == (0.5, 10.0)
    assert opus["output_cost_per_mtok_above_200k"] == 37.5 and "deprecated" not in opus
    assert got["openai/old"]["deprecation_date"] == "2025-01-01" and got["openai/old"]["deprecated"]
    assert imported.skipped == {"price bucket, not a model": 2, "no mode": 1}
    assert imported.fixed == {
        "whole-number float limit read as an integer": 2,
        "legacy max_tokens not taken as the context": 1,
        "imported disabled: a provider llmctl cannot send to": 1,
        "placeholder expiry (after 2090) ignored": 1,
    }


def test_openrouter_hygiene(tmp_path):
    def model(model_id, prompt="0.000001", completion="0.000002", **more):
        return {
            "id": model_id,
            "name": model_id,
            "pricing": {"prompt": prompt, "completion": completion},
            **more,
        }

    data = {
        "data": [
            model("openrouter/free", "0", "0"),
            model("openrouter/auto", "-1", "-1"),
            model("acme/opus-4", created=1),
            model("acme/opus-5", created=2, expiration_date="2098-12-31"),
            model("acme/opus-5:free", "0", "0"),
            model("~acme/opus-latest"),
            model("~acme/nothing-latest"),
            model("acme/song", "0", "0", architecture={"output_modalities": ["text", "audio"]}),
            model(
                "acme/long",
                pricing={
                    "prompt": "0.000001",
                    "completion": "0.000002",
                    "input_cache_read": "0.0000001",
                    "overrides": [
                        {"min_prompt_tokens": 200000, "prompt": "0.000002", "completion": "0.000004"},
                        {"utc_start": 1000, "utc_end": 100, "prompt": "0.0000005"},
                    ],
                },
            ),
        ]
    }
    imported = from_openrouter(tmp_path / "x.json", data)
    got = by_id(imported)
    assert set(got) == {"acme/opus-4", "acme/opus-5", "acme/opus-5:free", "acme/long"}
    assert got["acme/opus-5"]["aliases"] == ["~acme/opus-latest"] and "deprecated" not in got["acme/opus-5"]
    long = got["acme/long"]
    assert (long["input_cost_per_mtok_above_200k"], long["output_cost_per_mtok_above_200k"]) == (2.0, 4.0)
    assert long["cache_read_cost_per_mtok"] == 0.1
    assert imported.skipped == {
        "router pseudo-model": 2,
        "image or music model priced per output, not per token": 1,
        "~latest alias with no model of its family at its prices and context": 1,
    }
    assert imported.fixed == {
        "placeholder expiry (after 2090) ignored": 1,
        "price above 200k tokens kept": 1,
        "time-of-day price not kept": 1,
        "~latest model made an alias of its target": 1,
    }


def test_an_older_source_does_not_overwrite_newer_figures(cli, home, tmp_path):
    write_json(
        home / "catalog.json",
        {"llms": [{"id": "openai/gpt-4o", "context_length": 400000, "updated": "2026-08-01"}]},
    )
    old = write_json(
        tmp_path / "litellm.json",
        {"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 272000}},
    )
    result = cli("catalog", "import", str(old), "--as-of", "2026-03-01", "--json")
    summary = json.loads(result.stdout)
    # the input limit only: LiteLLM's row states no capability, and the context is the entry's
    assert summary["kept_newer"] == 1 and summary["as_of"] == "2026-03-01"
    assert json.loads(cli("show", "gpt-4o", "--json").stdout)["max_input_tokens"] is None
    forced = json.loads(
        cli("catalog", "import", str(old), "--as-of", "2026-03-01", "--force", "--json").stdout
    )
    assert forced["updated"] == 1 and forced["kept_newer"] == 0
    shown = json.loads(cli("show", "gpt-4o", "--json").stdout)
    assert (shown["context_length"], shown["max_input_tokens"], shown["updated"], shown["source"]) == (
        400000,
        272000,
        "2026-03-01",
        "litellm import",
    )


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "01/02/2026"])
def test_as_of_must_be_a_date(cli, bad):
    from conftest import DATA

    result = cli("catalog", "import", str(DATA / "litellm_prices.json"), "--as-of", bad)
    assert result.exit_code == 2 and "--as-of takes a date written YYYY-MM-DD" in result.stderr


def test_the_real_files_import_into_a_catalog_that_validates(cli, home):
    for name in ("litellm_excerpt.json", "openrouter_models.json", "modelsdev_api_excerpt.json"):
        result = cli("catalog", "import", str(sample(name)), "--group", "writer", "--json")
        assert result.exit_code == 0, result.stderr
    assert cli("catalog", "validate").exit_code == 0
    economy = cli("pick", "--tier", "economy", "--assume-available").stdout.strip()
    assert economy and not economy.startswith("openrouter/")


def test_seed_records_spelling_a_field_two_ways_and_seed_002_defaults(tmp_path):
    records = [
        {"router": "openrouter", "provider": "anthropic", "model": "claude-x"},
        {"router": "openai", "provider": "openai", "model_name": "gpt-y", "is_default": True, "scope": "ci"},
    ]
    imported = read_import(write_json(tmp_path / "seed.json", records))
    assert [e["id"] for e in imported.entries] == ["openai/gpt-y"]
    assert imported.skipped == {"both router and provider disagree": 1}
    assert imported.fixed == {
        "is_default left out (use `llmctl default set`)": 1,
        "scope left out (use `llmctl default set`)": 1,
    }


def test_litellm_bedrock_rows_other_than_openai_models_come_in_disabled():
    data = {
        "bedrock/anthropic.claude-3-haiku": {"litellm_provider": "bedrock", "mode": "chat"},
        "bedrock/openai.gpt-oss-120b-1:0": {"litellm_provider": "bedrock", "mode": "chat"},
    }
    got = by_id(keep_valid(from_litellm(data)))
    assert got["bedrock/anthropic.claude-3-haiku"]["enabled"] is False
    assert "serves openai.* models only" in got["bedrock/anthropic.claude-3-haiku"]["description"]
    assert "enabled" not in got["bedrock/openai.gpt-oss-120b-1:0"]


def test_a_latest_alias_moves_to_the_newer_model_on_the_next_import(cli, home, tmp_path):
    def model(model_id, created):
        return {
            "id": model_id,
            "name": model_id,
            "created": created,
            "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        }

    first = write_json(
        tmp_path / "v1.json", {"data": [model("acme/opus-4", 1), model("~acme/opus-latest", 0)]}
    )
    assert cli("catalog", "import", str(first), "--group", "writer").exit_code == 0
    assert json.loads(cli("show", "~acme/opus-latest", "--json").stdout)["id"] == "acme/opus-4"
    later = [model("acme/opus-4", 1), model("acme/opus-5", 2), model("~acme/opus-latest", 0)]
    result = cli("catalog", "import", str(write_json(tmp_path / "v2.json", {"data": later})), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["fixed"]["alias moved to the model it names now"] == 1
    assert json.loads(cli("show", "~acme/opus-latest", "--json").stdout)["id"] == "acme/opus-5"
    assert json.loads(cli("show", "acme/opus-4", "--json").stdout)["aliases"] == []
    assert cli("catalog", "validate").exit_code == 0


def test_null_seed_fields_are_absent_fields(tmp_path, cli, home):
    """Seed 001's `Optional` fields come as null: each is left out, never a traceback."""
    fields = ["api_key", "api_endpoint", "name", "tier", "max_tokens", "temperature", "is_active"]
    fields += ["cost_per_1k_input", "cost_per_1k_output", "llm_name", "params", "description"]
    record = {"id": 7, "provider": "openai", "model": "gpt-new-seed", **dict.fromkeys(fields)}
    path = write_json(tmp_path / "seed.json", [record])
    result = cli("catalog", "import", str(path), "--group", "writer", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["skipped"] == {}
    shown = json.loads(cli("show", "openai/gpt-new-seed", "--json").stdout)
    assert shown["api_base"] is None and shown["enabled"] is True and shown["valid_groups"] == ["writer"]
    own = write_json(
        tmp_path / "own.json", {"llms": [{"id": "openai/own", "provider": "openai", "api_base": None}]}
    )
    assert cli("catalog", "import", str(own)).exit_code == 0
    assert (
        cli(
            "add",
            "--from-file",
            str(write_json(tmp_path / "b.json", [{"id": "openai/b", "provider": "openai", "model": None}])),
        ).exit_code
        == 0
    )
    assert "null" not in (home / "catalog.toml").read_text()


def test_imported_records_of_an_unknown_provider_are_skipped_and_counted(tmp_path, cli, home):
    records = [
        {"id": 1, "provider": "opnai", "model": "gpt-x"},
        {"id": 2, "provider": "openai", "model": "gpt-y"},
    ]
    result = cli("catalog", "import", str(write_json(tmp_path / "seed.json", records)), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] == {"unknown provider": 1}
    own = write_json(tmp_path / "own.json", {"llms": [{"id": "opnai/z", "provider": "opnai"}]})
    assert json.loads(cli("catalog", "import", str(own), "--json").stdout)["skipped"] == {
        "unknown provider": 1
    }
    assert cli("catalog", "validate").exit_code == 0
