"""Bring catalog/llms.json up to date from public references, by the rules in README.md.

    python catalog/derive.py --openrouter openrouter_models.json --modelsdev modelsdev_models.json

For every entry: prices, cache prices, the price above 200k tokens, context, max output
and expiry come from its reference (OpenRouter's model list for the same id; models.dev
for models served directly by a provider OpenRouter does not relay, such as Groq);
`quality_score` from the Artificial Analysis intelligence index in OpenRouter's data;
`tier` from the output price. `updated` and `source` say when and where from. Entries
with no reference keep their figures (README.md names them). Prints what changed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from llmctl.catalog.entry import PRICE_FIELDS
from llmctl.providers.table import is_local

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "llms.json"
OPENROUTER_DATE = "2026-08-19"  # the date of the OpenRouter list the figures were checked against
MODELSDEV_DATE = "2026-08-19"

# The rules (README.md): one each. A test checks the bundled file against them.


def tier_of(provider: str, output_cost: float | None) -> str:
    """The tier rule: llmctl's own derivation from the output price, with config.toml's
    default thresholds (local providers are `local`)."""
    from llmctl.catalog.load import derive_tier
    from llmctl.prefs.config import Config

    return derive_tier(provider, output_cost, Config())


def quality_of(intelligence_index: float) -> float:
    return round(min(10.0, 4.0 + intelligence_index / 10.5), 1)


# Where an entry's figures come from when its id is not OpenRouter's id for the same model.
REFERENCE = {
    # DeepSeek's API serves the current revisions: V4 Flash 0731 and V4 Pro 0813.
    "deepseek/deepseek-v4-flash": ("openrouter", "deepseek/deepseek-v4-flash-0731"),
    "deepseek/deepseek-v4-pro": ("openrouter", "deepseek/deepseek-v4-pro-0813"),
    "meta-llama/llama-3.1-8b-instant": ("modelsdev", ("groq", "llama-3.1-8b-instant")),
    "meta-llama/llama-3.3-70b-versatile": ("modelsdev", ("groq", "llama-3.3-70b-versatile")),
    "openai/gpt-oss-120b": ("modelsdev", ("groq", "openai/gpt-oss-120b")),
    "anthropic/claude-3-opus": ("modelsdev", ("anthropic", "claude-3-opus-20240229")),
    "anthropic/claude-3.5-sonnet": ("modelsdev", ("anthropic", "claude-3-5-sonnet-20241022")),
    "mistralai/magistral-medium": ("modelsdev", ("mistral", "magistral-medium-latest")),
    "openai/text-embedding-3-small": ("modelsdev", ("openai", "text-embedding-3-small")),
}
# Current models the catalog lacked, served through OpenRouter.
NEW = [
    "moonshotai/kimi-k3",
    "openai/gpt-5.6-terra",
    "google/gemini-3.6-flash",
    "meta/muse-spark-1.1",
    "meta/muse-spark-1.2",
    "qwen/qwen3.8-27b",
    "qwen/qwen3.8-2.4t-a95b",
    "x-ai/grok-4.5",
    "deepseek/deepseek-v4-flash-0731",
    "deepseek/deepseek-v4-pro-0813",
    "google/gemma-4-31b-it",
    "google/gemma-4-26b-a4b-it",
    "mistralai/ministral-14b-2512",
    "mistralai/ministral-8b-2512",
    "mistralai/ministral-3b-2512",
]
# The exceptions to the quality rule: models the index does not cover, scored by hand on
# the same scale next to indexed models (an older or smaller model never above a newer or
# larger one of its family). README.md lists them with their basis.
HAND_QUALITY = {
    "anthropic/claude-3-haiku": 4.8,  # below Claude Haiku 4.5 (6.8) and GPT-4o mini
    "anthropic/claude-3-opus": 5.6,  # below Claude Sonnet 4.5 (7.6)
    "anthropic/claude-3.5-sonnet": 5.8,  # below Claude Sonnet 4.5 (7.6)
    "google/gemini-2.5-flash": 6.0,  # below Gemini 2.5 Pro (6.5)
    "google/gemini-2.5-flash-lite": 5.3,  # below Gemini 2.5 Flash
    "google/gemini-3-flash-preview": 8.0,  # below Gemini 3.1 Pro (8.5) and 3.5 Flash (9.0)
    "google/gemini-3.1-flash-lite": 7.2,  # below Gemini 3 Flash
    "meta-llama/llama-3.1-8b-instant": 4.4,  # below Llama 4 Scout (5.0)
    "meta-llama/llama-3.3-70b-versatile": 5.2,  # below Llama 4 Maverick (5.4)
    "mistralai/magistral-medium": 6.2,  # below Mistral Medium 3.5 (6.9)
    "openai/gpt-3.5-turbo": 4.3,  # below GPT-4o mini
    "openai/gpt-4.1": 6.0,  # above GPT-4.1 mini (5.4), below GPT-5 mini (6.5)
    "openai/gpt-4o": 5.6,  # below GPT-4.1
    "openai/gpt-4o-mini": 5.0,  # below GPT-4.1 mini (5.4)
    "openai/gpt-5-nano": 5.9,  # below GPT-5 mini (6.5)
    "openai/o3": 7.0,  # below GPT-5 (7.4)
    "openai/o4-mini": 6.6,  # below o3
    "qwen/qwen3-235b-a22b-2507": 6.8,  # below Qwen3.7 Plus (7.8)
    "qwen/qwen3-coder": 6.6,  # below Qwen3 235B
    "qwen/qwen3.7-flash": 7.0,  # below Qwen3.7 Plus (7.8)
    "qwen/qwen3.8-27b": 7.9,  # a mid-size Qwen3.8: below Qwen3.8 Max (9.5), level with 3.7 Plus
    "x-ai/grok-4.20": 7.3,  # below Grok 4.3 (7.6)
    "ollama/qwen3:8b": 5.4,  # local models: near the indexed models of their size
    "ollama/gemma3:4b": 4.8,  # (Ministral 3 8B 4.9, Ministral 3 3B 4.7)
    "ollama/mistral:7b": 4.6,
    "ollama/llama3.2:3b": 4.5,
    "ollama/nomic-embed-text": 5.0,  # embedding models are never ranked against chat models
    "openai/text-embedding-3-small": 6.0,
}
# OpenRouter's company names that differ from the ones the catalog already uses.
COMPANY = {"MoonshotAI": "Moonshot AI", "SpaceXAI": "xAI"}
CAPABILITY_ORDER = ("vision", "tools", "json", "streaming", "embeddings", "reasoning")


# The figures an entry takes from its reference.
FIGURES = (
    *PRICE_FIELDS,
    "context_length",
    "max_output_tokens",
    "deprecated",
    "deprecation_date",
)


def imported(entry: dict) -> dict:
    """The reference figures of an entry as `llmctl catalog import` reads them (the same
    conversion, hygiene and price rules): every figure, None where the source gives none."""
    return {name: entry.get(name) for name in FIGURES}


def openrouter_figures(model: dict) -> dict:
    from llmctl.catalog.formats import from_openrouter

    [entry] = from_openrouter(Path("openrouter_models.json"), {"data": [model]}).entries
    figures = imported(entry)
    if not figures["deprecated"]:
        del figures["deprecated"], figures["deprecation_date"]  # no expiry: leave it as it is
    return {**figures, "updated": OPENROUTER_DATE, "source": f"openrouter {model['id']}"}


def modelsdev_figures(row: dict) -> dict:
    from llmctl.catalog.formats import from_modelsdev

    [entry] = from_modelsdev(Path("modelsdev_models.json"), {"models": [row]}).entries
    figures = imported(entry)
    del figures["deprecated"], figures["deprecation_date"]  # its status says no date
    figures["_capabilities"] = [("json", "json" in entry["capabilities"])]
    return {**figures, "updated": MODELSDEV_DATE, "source": f"models.dev {row['provider']}/{row['id']}"}


def intelligence_index(model: dict | None) -> float | None:
    """The Artificial Analysis intelligence index OpenRouter's data gives a model, if any."""
    index = (((model or {}).get("benchmarks") or {}).get("artificial_analysis") or {}).get(
        "intelligence_index"
    )
    return index if isinstance(index, int | float) and not isinstance(index, bool) else None


def new_entry(model: dict) -> dict:
    from llmctl.catalog.formats import openrouter_capabilities

    name = model.get("name") or model["id"]
    company, _, short = name.partition(": ")
    caps = openrouter_capabilities(model)
    description = (model.get("description") or "").strip().split("\n")[0]
    entry = {
        "id": model["id"],
        "name": short or name,
        "description": (description[:197] + "...") if len(description) > 200 else description,
        "company": COMPANY.get(company, company) if short else None,
        "provider": "openrouter",
        "model": model["id"],
        "capabilities": sorted(caps, key=CAPABILITY_ORDER.index),
        "enabled": True,
        "priority": 100,
    }
    return {k: v for k, v in entry.items() if v not in (None, "")}


def groups_for(quality: float | None) -> list[str]:
    """Groups of a newly added model, by its quality (README.md)."""
    if quality is None or quality < 6.0:
        return ["editor", "tagger"]
    groups = ["writer", "editor", "tagger", "thinker", "reviewer"]
    return groups + ["override"] if quality >= 9.3 else groups


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--openrouter", type=Path, required=True)
    parser.add_argument("--modelsdev", type=Path, required=True)
    args = parser.parse_args()
    openrouter = {m["id"]: m for m in json.loads(args.openrouter.read_text())["data"]}
    modelsdev = {(r["provider"], r["id"]): r for r in json.loads(args.modelsdev.read_text())["models"]}
    data = json.loads(CATALOG.read_text())
    entries = data["llms"]
    known = {e["id"] for e in entries}
    for llm_id in NEW:
        if llm_id not in known:
            entries.append(new_entry(openrouter[llm_id]))
    for entry in entries:
        kind, key = REFERENCE.get(entry["id"], ("openrouter", entry["id"]))
        if kind == "openrouter" and key in openrouter:
            figures = openrouter_figures(openrouter[key])
        elif kind == "modelsdev" and key in modelsdev:
            figures = modelsdev_figures(modelsdev[key])
        elif is_local(entry["provider"]):
            # Local models: free; context and output limits from the Ollama library's model cards.
            figures = {
                "updated": OPENROUTER_DATE,
                "source": f"ollama library {entry.get('model', entry['id'])}",
            }
        else:
            raise SystemExit(f"{entry['id']}: no reference found; add it to REFERENCE")
        if "embeddings" in entry.get("capabilities", []):
            figures.pop("max_output_tokens", None)  # an embedding's `limit.output` is its size
        for name, flag in figures.pop("_capabilities", []):
            if not flag and name in entry.get("capabilities", []):
                entry["capabilities"].remove(name)
                print(f"{entry['id']}: capability {name} removed ({figures['source']})")
        for name, value in figures.items():
            old = entry.get(name)
            if value is None and name == "max_output_tokens" and kind == "openrouter" and old is not None:
                # No source gives this limit: unknown rather than a figure without a source.
                del entry[name]
                print(f"{entry['id']}: max_output_tokens {old} removed (no source gives it)")
                continue
            if value is None or old == value:
                continue
            entry[name] = value
            if name not in ("updated", "source"):
                print(f"{entry['id']}: {name} {old} -> {value}")
        index = intelligence_index(openrouter.get(key if kind == "openrouter" else entry["id"]))
        quality = quality_of(index) if index is not None else HAND_QUALITY.get(entry["id"])
        if quality != entry.get("quality_score"):
            print(f"{entry['id']}: quality_score {entry.get('quality_score')} -> {quality}")
            entry["quality_score"] = quality
        if "valid_groups" not in entry:
            entry["valid_groups"] = groups_for(entry.get("quality_score"))
        tier = tier_of(entry["provider"], entry.get("output_cost_per_mtok"))
        if entry.get("tier") != tier:
            print(f"{entry['id']}: tier {entry.get('tier')} -> {tier}")
            entry["tier"] = tier
    entries.sort(key=lambda e: e["id"])
    CATALOG.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
