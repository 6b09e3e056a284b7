"""The bundled catalog against its stated rules (catalog/README.md): one rule for `tier`,
one for `quality_score` (named exceptions), every entry dated and sourced, and every
figure equal to its source in ../shared/samples when those files are here."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from conftest import sample
from llmctl.catalog.load import derive_tier
from llmctl.prefs.config import Config

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = json.loads((ROOT / "catalog" / "llms.json").read_text())["llms"]
README = (ROOT / "catalog" / "README.md").read_text()


def derive_module():
    spec = importlib.util.spec_from_file_location("derive", ROOT / "catalog" / "derive.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_tier_follows_the_one_price_rule():
    derive = derive_module()
    for e in BUNDLED:
        expected = derive_tier(e["provider"], e.get("output_cost_per_mtok"), Config())
        assert e["tier"] == expected == derive.tier_of(e["provider"], e.get("output_cost_per_mtok")), e["id"]


def test_every_entry_says_when_and_where_its_figures_come_from():
    for e in BUNDLED:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", e.get("updated") or ""), e["id"]
        assert e.get("source"), e["id"]


def test_the_exceptions_to_the_quality_rule_are_named_in_the_readme():
    derive = derive_module()
    for llm_id, score in derive.HAND_QUALITY.items():
        assert f"`{llm_id}`" in README, llm_id
        assert next(e for e in BUNDLED if e["id"] == llm_id)["quality_score"] == score


def test_quality_comes_from_the_intelligence_index_wherever_one_exists():
    derive = derive_module()
    listed = {m["id"]: m for m in json.loads(sample("openrouter_models.json").read_text())["data"]}
    indexed = 0
    for e in BUNDLED:
        kind, key = derive.REFERENCE.get(e["id"], ("openrouter", e["id"]))
        index = derive.intelligence_index(listed.get(key if kind == "openrouter" else e["id"]))
        if index is None:
            assert e["id"] in derive.HAND_QUALITY, f"{e['id']} has no index and is not a named exception"
            continue
        indexed += 1
        assert e["quality_score"] == derive.quality_of(index), e["id"]
        assert e["id"] not in derive.HAND_QUALITY, e["id"]
    assert indexed >= 45


def test_every_figure_equals_its_source():
    """Prices (per token in OpenRouter's list, per million in models.dev's), cache and
    long-context prices, context and max output: exactly what the source says, or absent
    where it says nothing."""
    listed = {m["id"]: m for m in json.loads(sample("openrouter_models.json").read_text())["data"]}
    rows = json.loads(sample("modelsdev_models.json").read_text())["models"]
    direct = {f"{r['provider']}/{r['id']}": r for r in rows}
    checked = 0
    for e in BUNDLED:
        kind, _, ref = e["source"].partition(" ")
        if kind == "openrouter":
            model = listed[ref]
            pricing = model["pricing"]
            tier = next((o for o in pricing.get("overrides", []) if o.get("min_prompt_tokens") == 200000), {})
            source = {
                "input_cost_per_mtok": pricing.get("prompt"),
                "output_cost_per_mtok": pricing.get("completion"),
                "cache_read_cost_per_mtok": pricing.get("input_cache_read"),
                "cache_write_cost_per_mtok": pricing.get("input_cache_write"),
                "input_cost_per_mtok_above_200k": tier.get("prompt"),
                "output_cost_per_mtok_above_200k": tier.get("completion"),
            }
            source = {k: None if v is None else round(float(v) * 1e6, 6) for k, v in source.items()}
            source["context_length"] = model["context_length"]
            source["max_output_tokens"] = (model.get("top_provider") or {}).get("max_completion_tokens")
        elif kind == "models.dev":
            row = direct[ref]
            source = {
                "input_cost_per_mtok": row["cost_input_per_million"],
                "output_cost_per_mtok": row["cost_output_per_million"],
                "cache_read_cost_per_mtok": row["cost_cache_read_per_million"],
                "cache_write_cost_per_mtok": row["cost_cache_write_per_million"],
                "context_length": row["limit_context"],
                "max_output_tokens": None if "embeddings" in e["capabilities"] else row["limit_output"],
            }
        else:
            continue
        for name, value in source.items():
            assert e.get(name) == value, (e["id"], name, e.get(name), value)
        checked += 1
    assert checked == sum(1 for e in BUNDLED if e["provider"] != "ollama")


@pytest.mark.parametrize(
    "llm_id",
    [
        "moonshotai/kimi-k3",
        "openai/gpt-5.6-terra",
        "google/gemini-3.6-flash",
        "meta/muse-spark-1.2",
        "qwen/qwen3.8-2.4t-a95b",
        "x-ai/grok-4.5",
        "deepseek/deepseek-v4-pro-0813",
        "google/gemma-4-31b-it",
        "mistralai/ministral-14b-2512",
    ],
)
def test_current_models_are_listed(llm_id):
    assert llm_id in {e["id"] for e in BUNDLED}
