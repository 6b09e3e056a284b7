"""LiteLLM's `model_prices_and_context_window.json`: an object of rows keyed by model.

Rows that are not models are skipped: no `mode` or another mode than chat, responses or
embedding, and its price buckets (`fireworks-ai-*`, `together-ai-*`). Context comes only
from `max_input_tokens`, never from the legacy `max_tokens`. Provider names map one to one
(`azure_ai` is not `azure`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from llmctl.catalog.formats.common import (
    Imported,
    capabilities,
    deprecate,
    per_million,
    sendable_names,
    set_limit,
    set_model,
    set_prices,
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
    out = Imported("litellm", [])
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
    if not set_limit(entry, "context_length", spec.get("max_input_tokens"), out) and (
        spec.get("max_tokens") is not None
    ):
        out.fix("legacy max_tokens not taken as the context")
    set_limit(entry, "max_output_tokens", spec.get("max_output_tokens"), out)
    if spec["mode"] == "embedding":
        entry.pop("max_output_tokens", None)  # an embedding answers with a vector: no output cap
        entry["capabilities"] = ["embeddings"]
        entry["valid_groups"] = []
    else:
        entry["capabilities"] = ["streaming"] + capabilities(spec, _CAPABILITIES)
    deprecate(entry, spec.get("deprecation_date"), out)
    return entry
