"""LiteLLM's `model_prices_and_context_window.json`: an object of rows keyed by model.

Rows that are not models are skipped: no `mode` or another mode than chat, responses or
embedding, its price buckets (`fireworks-ai-*`, `together-ai-*`) and router pseudo-models
(`openrouter/openrouter/auto`). `max_input_tokens` is an input limit (GPT-5: 272k of a 400k
window): it is the entry's `max_input_tokens`, and its context only where the entry has
none; never the legacy `max_tokens`. A max output equal to the input limit is a copy, not a
figure: left unknown. Provider names map one to one (`azure_ai` is not `azure`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from llmctl.catalog.formats.common import (
    Imported,
    capabilities,
    deprecate,
    embedding,
    is_router,
    per_million,
    sendable_names,
    set_limit,
    set_model,
    set_prices,
    stated,
    unsendable,
)

# LiteLLM's provider names that differ from llmctl's (the rest are the same name).
PROVIDERS = {
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "text-completion-openai": "openai",
    "ollama_chat": "ollama",
}
_BUCKET = re.compile(r"^(fireworks-ai|together-ai)-")
_CHAT_MODES = {"chat", "responses"}
_PRICES = (
    ("input_cost_per_mtok", "input_cost_per_token"),
    ("output_cost_per_mtok", "output_cost_per_token"),
    ("cache_read_cost_per_mtok", "cache_read_input_token_cost"),
    ("cache_write_cost_per_mtok", "cache_creation_input_token_cost"),
    ("input_cost_per_mtok_above_200k", "input_cost_per_token_above_200k_tokens"),
    ("output_cost_per_mtok_above_200k", "output_cost_per_token_above_200k_tokens"),
)
_CAPABILITIES = {
    "supports_vision": "vision",
    "supports_function_calling": "tools",
    "supports_response_schema": "json",
    "supports_reasoning": "reasoning",
}


def detect(data: Any) -> bool:
    """Whether parsed `data` looks like LiteLLM's price map."""
    return isinstance(data, dict) and any(
        isinstance(v, dict) and ("litellm_provider" in v or "input_cost_per_token" in v)
        for v in data.values()
    )


def from_litellm(data: dict[str, Any], sendable: Iterable[str] | None = None) -> Imported:
    """Convert LiteLLM's `model_prices_and_context_window.json`; returns the entries and
    the count of what was skipped or fixed."""
    names = sendable_names(sendable)
    out = Imported("litellm", [], fill_only=frozenset({"context_length"}))
    for key, spec in data.items():
        reason = _not_a_model(key, spec)
        if reason is not None:
            out.skip(reason)
            continue
        provider = spec["litellm_provider"]
        ours = PROVIDERS.get(provider, provider)
        model = key[len(provider) + 1 :] if key.startswith(provider + "/") else key
        # LiteLLM's OpenRouter keys keep their prefix, so `openrouter/openai/gpt-4o` does not
        # overwrite the direct `openai/gpt-4o`.
        llm_id = f"{ours}/{model}"
        if is_router(ours, model):
            out.skip("router pseudo-model")
            continue
        if not out.first(llm_id):
            continue
        entry = _entry(llm_id, ours, model, key, spec, out)
        if ours not in names:
            unsendable(entry, ours, "LiteLLM", out)
        elif ours == "bedrock" and not model.startswith("openai."):
            # Bedrock's OpenAI-compatible endpoint (the one llmctl sends to) serves OpenAI's
            # open-weight models only; its other models need Bedrock's own API.
            why = "Bedrock's OpenAI-compatible endpoint, which llmctl sends to, serves openai.* models only"
            unsendable(entry, ours, "LiteLLM", out, why)
        out.entries.append(entry)
    return out


def _not_a_model(key: str, spec: Any) -> str | None:
    """Why the row `key` is not a model llmctl imports, or None when it is one."""
    if key == "sample_spec" or not isinstance(spec, dict):
        return "sample_spec"
    if _BUCKET.match(key):
        return "price bucket, not a model"
    mode = spec.get("mode")
    if mode is None:
        return "no mode"
    if mode not in _CHAT_MODES and mode != "embedding":
        return f"mode {mode}"
    provider = spec.get("litellm_provider")
    if not isinstance(provider, str) or not provider:
        return "no provider"
    return None


def _entry(
    llm_id: str, provider: str, model: str, key: str, spec: dict[str, Any], out: Imported
) -> dict[str, Any]:
    """The entry of the model row `key`, its fixes counted in `out`."""
    entry: dict[str, Any] = {"id": llm_id, "provider": provider, "name": key}
    set_model(entry, model)
    set_prices(entry, spec, _PRICES, per_million)
    _limits(entry, spec, out)
    if spec["mode"] == "embedding":
        embedding(entry, out, "embedding model imported as one")
        out.stated[llm_id] = frozenset({"embeddings"})
    else:
        entry["capabilities"] = ["streaming"] + capabilities(spec, _CAPABILITIES)
        out.stated[llm_id] = frozenset(stated(spec, _CAPABILITIES))
    deprecate(entry, spec.get("deprecation_date"), out)
    return entry


def _limits(entry: dict[str, Any], spec: dict[str, Any], out: Imported) -> None:
    """The input limit (also the context, which `fill_only` keeps from overwriting a known
    window) and the max output, unless it only copies the input limit."""
    if set_limit(entry, "max_input_tokens", spec.get("max_input_tokens"), out):
        entry["context_length"] = entry["max_input_tokens"]
    elif spec.get("max_tokens") is not None:
        out.fix("legacy max_tokens not taken as the context")
    if set_limit(entry, "max_output_tokens", spec.get("max_output_tokens"), out) and (
        entry["max_output_tokens"] == entry.get("max_input_tokens")
    ):
        del entry["max_output_tokens"]
        out.fix("max output equal to the context window not believed")
