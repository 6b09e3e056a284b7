"""models.dev's `api.json` (an object of providers, or `{"providers": ...}`) and its
flattened form (`{"models": [row, ...]}`). Prices there are per million tokens already.

A provider that is not built into llmctl but whose `api` is OpenAI-compatible is sent to
at that address with its first `env`; models without text output are skipped; a model whose
output is an embedding, or whose family or id say so, comes in as an embedding model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import CAPABILITIES
from llmctl.catalog.formats.common import (
    Imported,
    capabilities,
    embedding,
    number,
    sendable_names,
    set_limit,
    set_model,
    set_prices,
    stated,
    structure_error,
    unsendable,
)
from llmctl.errors import FileError

# models.dev's provider names that differ from llmctl's (the rest are the same name).
PROVIDERS = {"google": "gemini", "togetherai": "together", "fireworks-ai": "fireworks"}
_PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
_PRICES = (
    ("input_cost_per_mtok", "input"),
    ("output_cost_per_mtok", "output"),
    ("cache_read_cost_per_mtok", "cache_read"),
    ("cache_write_cost_per_mtok", "cache_write"),
)
_ABOVE_200K_PRICES = (
    ("input_cost_per_mtok_above_200k", "input"),
    ("output_cost_per_mtok_above_200k", "output"),
)
_CAPABILITIES = {"tool_call": "tools", "structured_output": "json", "reasoning": "reasoning"}
_EMBED = re.compile(r"embed", re.IGNORECASE)  # `text-embedding-3-small`, `mistral-embed`
# An embedding row says what the model can do, all of it: it chats in no way.
_EMBEDDING_STATES = frozenset(c for c in CAPABILITIES if c != "streaming")


def detect(data: Any) -> bool:
    """Whether parsed `data` looks like models.dev's `api.json` or its flattened rows."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("providers"), dict) or rows_of(data) is not None:
        return True
    return bool(data) and any(isinstance(v, dict) and "models" in v for v in data.values())


def from_modelsdev(path: Path | str, data: dict[str, Any], sendable: Iterable[str] | None = None) -> Imported:
    """Convert models.dev's `api.json`; returns the entries and the count of what was
    skipped or fixed. Raises FileError when no provider has models, or naming the place
    where the structure is wrong (a provider, or its `models`, that is not an object)."""
    if not isinstance(data, dict):
        raise structure_error(path, "the file", f"is {type(data).__name__}, not an object of providers")
    names = sendable_names(sendable)
    out = Imported("modelsdev", [])
    rows = rows_of(data)
    if rows is not None:
        providers = _providers_of_rows(rows)
    else:
        providers = data["providers"] if isinstance(data.get("providers"), dict) else data
    _check_structure(path, providers, "providers." if providers is data.get("providers") else "")
    for pid, provider in providers.items():
        ours = PROVIDERS.get(pid, pid)
        compat = _compat_endpoint(provider) if ours not in names else None
        for mid, model in provider["models"].items():
            entry = _entry(ours, mid, model, out)
            if entry is None:
                continue
            if compat is not None:
                entry["api_base"], entry["auth"] = compat
            elif ours not in names:
                unsendable(entry, ours, "models.dev", out)
            out.entries.append(entry)
    if not out.entries and not out.skipped:
        raise FileError(path, "no providers with models")
    return out


def _check_structure(path: Path | str, providers: dict[str, Any], prefix: str) -> None:
    """Raise FileError (exit 3) naming the first provider that is not an object or whose
    `models` is not one: a damaged file is refused whole, not imported in part."""
    for pid, provider in providers.items():
        if not isinstance(provider, dict):
            raise structure_error(
                path, f"{prefix}{pid}", f"is {type(provider).__name__}, not a provider object"
            )
        if not isinstance(provider.get("models"), dict):
            kind = type(provider.get("models")).__name__ if "models" in provider else "missing"
            raise structure_error(path, f"{prefix}{pid}.models", f"is {kind}, not an object of models")


def rows_of(data: dict[str, Any]) -> list[Any] | None:
    """models.dev flattened to one row per provider and model (`{"models": [row, ...]}`),
    or None when `data` is not that."""
    rows = data.get("models")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "cost_input_per_million" in rows[0]:
        return rows
    return None


def _providers_of_rows(rows: list[Any]) -> dict[str, Any]:
    """The flattened rows in `api.json`'s shape: providers, each with its models."""
    providers: dict[str, Any] = {}
    for row in rows:
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("provider"), str)
            or not isinstance(row.get("id"), str)
        ):
            continue
        provider = providers.setdefault(
            row["provider"],
            {
                "id": row["provider"],
                "api": row.get("provider_api"),
                "npm": row.get("provider_npm"),
                "models": {},
            },
        )
        provider["models"][row["id"]] = {
            "name": row.get("name"),
            "family": row.get("family"),
            "cost": {
                key: row.get(f"cost_{key}_per_million")
                for key in _PRICE_KEYS
                if row.get(f"cost_{key}_per_million") is not None
            },
            "limit": {
                "context": row.get("limit_context"),
                "input": row.get("limit_input"),
                "output": row.get("limit_output"),
            },
            "modalities": {"input": row.get("input_modalities"), "output": row.get("output_modalities")},
            **{k: row.get(k) for k in ("tool_call", "reasoning", "structured_output", "status")},
        }
    return providers


def _compat_endpoint(provider: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """(api_base, auth) of a provider models.dev says speaks OpenAI's API, with a key variable."""
    api, env = provider.get("api"), provider.get("env")
    if provider.get("npm") != "@ai-sdk/openai-compatible" or not isinstance(api, str):
        return None
    if not api.startswith("https://") or not isinstance(env, list) or not env or not isinstance(env[0], str):
        return None
    return api.rstrip("/"), {"api_key_env": env[0]}


def _unusable(model: Any) -> str | None:
    """Why `model` is not imported (malformed, no text output, unreadable price), or None."""
    if not isinstance(model, dict):
        return "malformed model"
    outputs = (model.get("modalities") or {}).get("output") or ["text"]
    if "text" not in outputs and "embedding" not in outputs:
        return "no text output"
    cost = model.get("cost") or {}
    if not isinstance(cost, dict) or any(
        cost.get(key) is not None and number(cost.get(key)) is None for key in _PRICE_KEYS
    ):
        return "unreadable price"
    return None


def _capabilities(entry: dict[str, Any], mid: str, model: dict[str, Any], out: Imported) -> None:
    """Set what the model can do, and record in `out.stated` what the row says (a flag it
    leaves out says nothing: Anthropic's rows have no `structured_output`)."""
    modalities = model.get("modalities") or {}
    family = model.get("family") if isinstance(model.get("family"), str) else ""
    if "embedding" in (modalities.get("output") or []) or _EMBED.search(f"{family} {mid}"):
        embedding(entry, out, "embedding model (output, family or id) imported as one")
        out.stated[entry["id"]] = _EMBEDDING_STATES
        return
    caps = ["streaming"]
    inputs = modalities.get("input")
    if "image" in (inputs or []):
        caps.append("vision")
    entry["capabilities"] = caps + capabilities(model, _CAPABILITIES)
    out.stated[entry["id"]] = frozenset(stated(model, _CAPABILITIES) | ({"vision"} if inputs else set()))


def _entry(provider: str, mid: str, model: Any, out: Imported) -> dict[str, Any] | None:
    """The entry of model `mid`, or None when it is skipped (counted)."""
    reason = _unusable(model)
    if reason is not None:
        out.skip(reason)
        return None
    llm_id = mid if provider == "openrouter" else f"{provider}/{mid}"
    if not out.first(llm_id):
        return None
    entry: dict[str, Any] = {"id": llm_id, "provider": provider, "name": model.get("name") or mid}
    set_model(entry, mid)
    cost = model.get("cost") or {}
    set_prices(entry, cost, _PRICES, number)
    above = cost.get("context_over_200k")
    if isinstance(above, dict):
        set_prices(entry, above, _ABOVE_200K_PRICES, number)
    limit = model.get("limit") or {}
    if isinstance(limit, dict):
        set_limit(entry, "context_length", limit.get("context"), out)
        if set_limit(entry, "max_input_tokens", limit.get("input"), out) and entry[
            "max_input_tokens"
        ] > entry.get("context_length", entry["max_input_tokens"]):
            del entry["max_input_tokens"]
            out.fix("input limit above the context window not believed")
        set_limit(entry, "max_output_tokens", limit.get("output"), out)
    _capabilities(entry, mid, model, out)
    if model.get("status") == "deprecated":
        entry["deprecated"] = True
        out.fix("deprecated on models.dev")
    return entry
