"""Read other catalogs into llmctl entries: LiteLLM's price map, OpenRouter's model list,
models.dev's `api.json`, the seeds' own records, and llmctl's format (JSON, TOML or YAML).

Every hygiene rule an import applies is counted, by rule, in `Imported.skipped` (rows not
imported) or `Imported.fixed` (rows imported after a correction), so the summary says
what happened to every row:
- rows that are not models are skipped: LiteLLM rows with no `mode` or another mode than
  chat, responses or embedding, its price buckets (`fireworks-ai-*`, `together-ai-*`),
  OpenRouter's router pseudo-models, anything without text output;
- a limit written as a whole-number float is an integer; context comes only from
  `max_input_tokens` / `context_length` / `limit.context`, never from a legacy `max_tokens`;
- provider names map one to one (`azure_ai` is not `azure`); a provider llmctl cannot
  send to is imported disabled, the reason in its description, never with an invented key;
- an expiry after 2090 is a placeholder, not a deprecation;
- OpenRouter's `~...-latest` models become aliases of the model they point to;
- cache and above-200k prices are kept where the source gives them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import default_model
from llmctl.catalog.files import EntryInvalid, entries_of, read_catalog_file, validate_entry
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.files.io import load

FORMATS = ("litellm", "openrouter", "modelsdev", "seed", "llmctl")
# Formats that describe models from outside: new entries get the import's groups.
FOREIGN = ("litellm", "openrouter", "modelsdev")
DESCRIBED = {
    "litellm": "a LiteLLM price file",
    "openrouter": "an OpenRouter model list",
    "modelsdev": "a models.dev api.json",
    "seed": "a file of the seeds' LLM records",
    "llmctl": "an llmctl catalog",
}
PLACEHOLDER_YEAR = "2090"  # an expiry after this is a placeholder ("2098-12-31")

# Provider names of each source that differ from llmctl's (the rest are the same name).
_LITELLM_PROVIDERS = {
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "text-completion-openai": "openai",
    "ollama_chat": "ollama",
}
_MODELSDEV_PROVIDERS = {"google": "gemini", "togetherai": "together", "fireworks-ai": "fireworks"}
_LITELLM_BUCKET = re.compile(r"^(fireworks-ai|together-ai)-")
_CHAT_MODES = {"chat", "responses"}
# Fields the seeds spell two ways: (seed's name, llmctl's name).
_SEED_SYNONYMS = (("router", "provider"), ("model_name", "model"), ("llm_name", "name"))
# Fields only the seeds' records have (seed 001's LLMEntry, seed 002's config); `router` is
# seed 000's name, which llmctl's own format accepts too.
_SEED_ONLY = {"is_active", "cost_per_1k_input", "cost_per_1k_output", "api_endpoint"} | {
    seed for seed, _name in _SEED_SYNONYMS if seed != "router"
}


@dataclass
class Imported:
    """Entries read from a file, what was skipped and what was corrected (rule -> count)."""

    format: str
    entries: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set, repr=False)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def fix(self, rule: str) -> None:
        self.fixed[rule] = self.fixed.get(rule, 0) + 1

    def first(self, llm_id: str) -> bool:
        """True the first time an id is seen; a repeat is skipped and counted."""
        if llm_id in self.seen:
            self.skip("duplicate id")
            return False
        self.seen.add(llm_id)
        return True


def detect_format(data: Any) -> str | None:
    """Guess the format of a parsed file, or None."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return "openrouter"
    if isinstance(data, dict) and isinstance(data.get("providers"), dict):
        return "modelsdev"
    if isinstance(data, dict) and _modelsdev_rows(data) is not None:
        return "modelsdev"
    if isinstance(data, dict) and data and any(isinstance(v, dict) and "models" in v for v in data.values()):
        return "modelsdev"
    records = data if isinstance(data, list) else data.get("llms") if isinstance(data, dict) else None
    if isinstance(records, list):
        if any(
            isinstance(r, dict) and (_SEED_ONLY & r.keys() or isinstance(r.get("id"), int)) for r in records
        ):
            return "seed"
        return "llmctl"
    if isinstance(data, dict) and any(
        isinstance(v, dict) and ("litellm_provider" in v or "input_cost_per_token" in v)
        for v in data.values()
    ):
        return "litellm"
    return None


def read_import(
    path: Path,
    fmt: str | None = None,
    *,
    cache_dir: Path | None = None,
    sendable: Iterable[str] | None = None,
) -> Imported:
    """Read `path` as `fmt` (detected when None). Raises FileError for a file in another
    format. An llmctl catalog's validated content is cached in `cache_dir` when given;
    `sendable` names the providers llmctl can send to (default: the built-in ones)."""
    if fmt is not None and fmt not in FORMATS:
        raise UnknownNameError("format", fmt, FORMATS)
    data, _text = load(path)
    found = detect_format(data)
    fmt = fmt or found
    if fmt is None:
        raise FileError(
            path,
            "not a catalog in a format llmctl can import",
            hint="formats: LiteLLM's model_prices_and_context_window.json, OpenRouter's "
            "/api/v1/models response, models.dev's api.json, the seeds' LLM records, or an llmctl catalog",
        )
    if found != fmt:
        actual = f" (it looks like {DESCRIBED[found]})" if found else ""
        raise FileError(path, f"this is not {DESCRIBED[fmt]}{actual}", hint="check --format")
    if fmt == "llmctl":
        imported = Imported("llmctl", read_catalog_file(path, cache_dir=cache_dir).entries)
        return known_providers(imported, sendable)
    if fmt == "litellm":
        imported = from_litellm(data, sendable)
    elif fmt == "openrouter":
        imported = from_openrouter(path, data)
    elif fmt == "modelsdev":
        imported = from_modelsdev(path, data, sendable)
    else:
        imported = known_providers(from_seed(path, data), sendable)
    return keep_valid(imported)


def known_providers(imported: Imported, sendable: Iterable[str] | None) -> Imported:
    """Drop the entries naming a provider llmctl cannot send to (neither built in nor
    declared in config.toml), counting them: no entry is written that `catalog validate`
    would refuse."""
    names = _sendable(sendable)
    kept = []
    for entry in imported.entries:
        if entry.get("provider", entry.get("router")) in (None, *names):
            kept.append(entry)
        else:
            imported.skip("unknown provider")
    imported.entries = kept
    return imported


def keep_valid(imported: Imported) -> Imported:
    """Drop the entries that would not pass the catalog's validation, counting why."""

    kept = []
    for entry in imported.entries:
        try:
            validate_entry(entry)
        except EntryInvalid as exc:
            imported.skip(f"invalid {exc.problems[0][0] or 'entry'}")
            continue
        kept.append(entry)
    imported.entries = kept
    return imported


# --- shared rules ---------------------------------------------------------------------------------


def per_million(value: Any) -> float | None:
    """Price per token (number or string) to USD per million tokens; None when unknown."""
    price = _number(value)
    return None if price is None or price < 0 else round(price * 1_000_000, 6)


def _number(value: Any) -> float | None:
    """A number, or a string holding one; None otherwise (booleans are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def whole(value: Any, out: Imported) -> int | None:
    """A positive limit as an integer: `2000000.0` is 2,000,000 (counted); anything else unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and value > 0:
        out.fix("whole-number float limit read as an integer")
        return int(value)
    return value if isinstance(value, int) and value > 0 else None


def deprecate(entry: dict[str, Any], date: Any, out: Imported) -> None:
    """An expiry or deprecation date: a deprecation with that date, unless it is a
    placeholder (after 2090, counted)."""
    if not isinstance(date, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", date):
        if date not in (None, ""):
            entry["deprecation_date"] = date  # left for validation to name
            entry["deprecated"] = True
        return
    if date[:4] > PLACEHOLDER_YEAR:
        out.fix("placeholder expiry (after 2090) ignored")
        return
    entry["deprecated"] = True
    entry["deprecation_date"] = date[:10]


def unsendable(
    entry: dict[str, Any], provider: str, source: str, out: Imported, reason: str | None = None
) -> None:
    """A provider llmctl cannot send to: imported disabled, saying why (no invented key)."""
    entry["enabled"] = False
    reason = reason or (
        f"llmctl cannot send to provider {provider!r} (from {source}); declare "
        f"[providers.{provider}] in config.toml, then enable this entry"
    )
    entry["description"] = reason if "description" not in entry else f"{reason}. {entry['description']}"
    out.fix("imported disabled: a provider llmctl cannot send to")


def _caps(flags: dict[str, Any], mapping: dict[str, str]) -> list[str]:
    return [cap for key, cap in mapping.items() if flags.get(key)]


def _set_price(entry: dict[str, Any], name: str, value: float | None) -> None:
    if value is not None:
        entry[name] = value


# --- LiteLLM ---------------------------------------------------------------------------------------


def _sendable(names: Iterable[str] | None) -> set[str]:
    """The providers llmctl can send to: those given, else the built-in ones."""
    if names is None:
        from llmctl.providers.table import provider_names

        names = provider_names()
    return set(names)


def from_litellm(data: dict[str, Any], sendable: Iterable[str] | None = None) -> Imported:
    """Convert LiteLLM's `model_prices_and_context_window.json`."""
    sendable = _sendable(sendable)
    out = Imported("litellm", [])
    for key, spec in data.items():
        if key == "sample_spec" or not isinstance(spec, dict):
            out.skip("sample_spec")
            continue
        if _LITELLM_BUCKET.match(key):
            out.skip("price bucket, not a model")
            continue
        mode = spec.get("mode")
        if mode is None:
            out.skip("no mode")
            continue
        if mode not in _CHAT_MODES and mode != "embedding":
            out.skip(f"mode {mode}")
            continue
        provider = spec.get("litellm_provider")
        if not isinstance(provider, str) or not provider:
            out.skip("no provider")
            continue
        ours = _LITELLM_PROVIDERS.get(provider, provider)
        model = key[len(provider) + 1 :] if key.startswith(provider + "/") else key
        # LiteLLM's OpenRouter keys keep their prefix, so `openrouter/openai/gpt-4o` does not
        # overwrite the direct `openai/gpt-4o`.
        llm_id = f"{ours}/{model}"
        if not out.first(llm_id):
            continue
        entry: dict[str, Any] = {"id": llm_id, "provider": ours, "name": key}
        if default_model(llm_id, ours) != model:
            entry["model"] = model
        for name, src in (
            ("input_cost_per_mtok", "input_cost_per_token"),
            ("output_cost_per_mtok", "output_cost_per_token"),
            ("cache_read_cost_per_mtok", "cache_read_input_token_cost"),
            ("cache_write_cost_per_mtok", "cache_creation_input_token_cost"),
            ("input_cost_per_mtok_above_200k", "input_cost_per_token_above_200k_tokens"),
            ("output_cost_per_mtok_above_200k", "output_cost_per_token_above_200k_tokens"),
        ):
            _set_price(entry, name, per_million(spec.get(src)))
        context = whole(spec.get("max_input_tokens"), out)
        if context is not None:
            entry["context_length"] = context
        elif spec.get("max_tokens") is not None:
            out.fix("legacy max_tokens not taken as the context")
        max_out = whole(spec.get("max_output_tokens"), out)
        if max_out is not None and mode != "embedding":
            entry["max_output_tokens"] = max_out
        if mode == "embedding":
            entry["capabilities"] = ["embeddings"]
            entry["valid_groups"] = []
        else:
            entry["capabilities"] = ["streaming"] + _caps(
                spec,
                {
                    "supports_vision": "vision",
                    "supports_function_calling": "tools",
                    "supports_response_schema": "json",
                    "supports_reasoning": "reasoning",
                },
            )
        deprecate(entry, spec.get("deprecation_date"), out)
        if ours not in sendable:
            unsendable(entry, ours, "LiteLLM", out)
        elif ours == "bedrock" and not model.startswith("openai."):
            # Bedrock's OpenAI-compatible endpoint (the one llmctl sends to) serves OpenAI's
            # open-weight models only; its other models need Bedrock's own API.
            why = "Bedrock's OpenAI-compatible endpoint, which llmctl sends to, serves openai.* models only"
            unsendable(entry, ours, "LiteLLM", out, why)
        out.entries.append(entry)
    return out


# --- OpenRouter ------------------------------------------------------------------------------------


def from_openrouter(path: Path, data: dict[str, Any]) -> Imported:
    """Convert OpenRouter's `GET /api/v1/models` response."""
    out = Imported("openrouter", [])
    latest: list[dict[str, Any]] = []
    for model in data["data"]:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            out.skip("malformed")
            continue
        pricing = model.get("pricing") or {}
        raw = [_number(pricing.get("prompt")), _number(pricing.get("completion"))]
        if model["id"].startswith("openrouter/") or any(p is not None and p < 0 for p in raw):
            out.skip("router pseudo-model")
            continue
        prompt, completion = per_million(pricing.get("prompt")), per_million(pricing.get("completion"))
        if prompt is None or completion is None:
            out.skip("no price")
            continue
        arch = model.get("architecture") or {}
        outputs = arch.get("output_modalities") or ["text"]
        if "text" not in outputs:
            out.skip("no text output")
            continue
        if set(outputs) - {"text"} and prompt == completion == 0 and not model["id"].endswith(":free"):
            out.skip("image or music model priced per output, not per token")
            continue
        if model["id"].startswith("~"):
            latest.append(model)  # an alias: resolved once every model is known
            continue
        if not out.first(model["id"]):
            continue
        entry: dict[str, Any] = {
            "id": model["id"],
            "provider": "openrouter",
            "name": model.get("name") or model["id"],
            "input_cost_per_mtok": prompt,
            "output_cost_per_mtok": completion,
            "capabilities": openrouter_capabilities(model),
        }
        _set_price(entry, "cache_read_cost_per_mtok", per_million(pricing.get("input_cache_read")))
        _set_price(entry, "cache_write_cost_per_mtok", per_million(pricing.get("input_cache_write")))
        _openrouter_tiers(entry, pricing.get("overrides"), out)
        description = (model.get("description") or "").strip()
        if description:
            entry["description"] = description.split("\n")[0][:300]
        if ":" in (entry["name"] or ""):
            entry["company"] = entry["name"].split(":", 1)[0].strip()
        context = whole(model.get("context_length"), out)
        if context is not None:
            entry["context_length"] = context
        max_out = whole((model.get("top_provider") or {}).get("max_completion_tokens"), out)
        if max_out is not None:
            entry["max_output_tokens"] = max_out
        deprecate(entry, model.get("expiration_date"), out)
        entry["_created"] = model.get("created") or 0
        out.entries.append(entry)
    _aliases(out, latest)
    for entry in out.entries:
        entry.pop("_created", None)
    if not out.entries and not out.skipped:
        raise FileError(path, "the model list is empty")
    return out


def openrouter_capabilities(model: dict[str, Any]) -> list[str]:
    """What an OpenRouter model can do, from its input modalities and supported parameters."""
    params = set(model.get("supported_parameters") or [])
    caps = ["streaming"]
    if "image" in ((model.get("architecture") or {}).get("input_modalities") or []):
        caps.append("vision")
    if "tools" in params:
        caps.append("tools")
    if params & {"response_format", "structured_outputs"}:
        caps.append("json")
    if params & {"reasoning", "include_reasoning"}:
        caps.append("reasoning")
    return caps


def _openrouter_tiers(entry: dict[str, Any], overrides: Any, out: Imported) -> None:
    """OpenRouter's price overrides: the tier above 200k prompt tokens is kept; other
    thresholds and time-of-day prices are counted, not kept."""
    for item in overrides if isinstance(overrides, list) else []:
        if not isinstance(item, dict):
            continue
        threshold = item.get("min_prompt_tokens")
        if threshold == 200_000:
            _set_price(entry, "input_cost_per_mtok_above_200k", per_million(item.get("prompt")))
            _set_price(entry, "output_cost_per_mtok_above_200k", per_million(item.get("completion")))
            out.fix("price above 200k tokens kept")
        elif threshold is not None:
            out.fix("tiered price at another threshold than 200k not kept")
        else:
            out.fix("time-of-day price not kept")


def _aliases(out: Imported, latest: list[dict[str, Any]]) -> None:
    """`~anthropic/claude-opus-latest` is an alias of the newest model of that family with
    the same prices (no `:variant`), added to that entry's `aliases`."""
    for model in latest:
        stem = model["id"][1:].removesuffix("-latest")
        pricing = model.get("pricing") or {}
        price = (per_million(pricing.get("prompt")), per_million(pricing.get("completion")))
        family = [
            e
            for e in out.entries
            if e["id"].startswith(stem + "-")
            and ":" not in e["id"]
            and (e["input_cost_per_mtok"], e["output_cost_per_mtok"]) == price
        ]
        if not family:
            out.skip("~latest alias whose target is not listed")
            continue
        target = max(family, key=lambda e: (e["_created"], e["id"]))
        target.setdefault("aliases", []).append(model["id"])
        out.fix("~latest model made an alias of its target")


# --- models.dev -----------------------------------------------------------------------------------


def from_modelsdev(path: Path, data: dict[str, Any], sendable: Iterable[str] | None = None) -> Imported:
    """Convert models.dev's `api.json` (an object of providers, or `{"providers": ...}`).
    Prices there are per million tokens already. A provider that is not built into llmctl
    but whose `api` is OpenAI-compatible is sent to at that address with its first `env`."""
    sendable = _sendable(sendable)
    out = Imported("modelsdev", [])
    rows = _modelsdev_rows(data)
    if rows is not None:
        providers = _providers_of_rows(rows)
    else:
        providers = data["providers"] if isinstance(data.get("providers"), dict) else data
    for pid, provider in providers.items():
        if not isinstance(provider, dict) or not isinstance(provider.get("models"), dict):
            out.skip("provider whose models is not an object")
            continue
        ours = _MODELSDEV_PROVIDERS.get(pid, pid)
        compat = _compat_endpoint(provider) if ours not in sendable else None
        for mid, model in provider["models"].items():
            entry = _modelsdev_entry(ours, mid, model, out)
            if entry is None:
                continue
            if compat is not None:
                entry["api_base"], entry["auth"] = compat
            elif ours not in sendable:
                unsendable(entry, ours, "models.dev", out)
            out.entries.append(entry)
    if not out.entries and not out.skipped:
        raise FileError(path, "no providers with models")
    return out


def _modelsdev_rows(data: dict[str, Any]) -> list[Any] | None:
    """models.dev flattened to one row per provider and model (`{"models": [row, ...]}`)."""
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
            "cost": {
                key: row.get(f"cost_{key}_per_million")
                for key in ("input", "output", "cache_read", "cache_write")
                if row.get(f"cost_{key}_per_million") is not None
            },
            "limit": {"context": row.get("limit_context"), "output": row.get("limit_output")},
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


def _modelsdev_entry(provider: str, mid: str, model: Any, out: Imported) -> dict[str, Any] | None:
    if not isinstance(model, dict):
        out.skip("malformed model")
        return None
    modalities = model.get("modalities") or {}
    if "text" not in (modalities.get("output") or ["text"]):
        out.skip("no text output")
        return None
    cost = model.get("cost") or {}
    if not isinstance(cost, dict):
        out.skip("unreadable price")
        return None
    prices = {key: _number(cost.get(key)) for key in ("input", "output", "cache_read", "cache_write")}
    if any(cost.get(key) is not None and prices[key] is None for key in prices):
        out.skip("unreadable price")
        return None
    llm_id = mid if provider == "openrouter" else f"{provider}/{mid}"
    if not out.first(llm_id):
        return None
    entry: dict[str, Any] = {"id": llm_id, "provider": provider, "name": model.get("name") or mid}
    if default_model(llm_id, provider) != mid:
        entry["model"] = mid
    for name, key in (
        ("input_cost_per_mtok", "input"),
        ("output_cost_per_mtok", "output"),
        ("cache_read_cost_per_mtok", "cache_read"),
        ("cache_write_cost_per_mtok", "cache_write"),
    ):
        _set_price(entry, name, prices[key])
    above = cost.get("context_over_200k")
    if isinstance(above, dict):
        _set_price(entry, "input_cost_per_mtok_above_200k", _number(above.get("input")))
        _set_price(entry, "output_cost_per_mtok_above_200k", _number(above.get("output")))
    limit = model.get("limit") or {}
    context = whole(limit.get("context"), out) if isinstance(limit, dict) else None
    if context is not None:
        entry["context_length"] = context
    max_out = whole(limit.get("output"), out) if isinstance(limit, dict) else None
    if max_out is not None:
        entry["max_output_tokens"] = max_out
    caps = ["streaming"]
    if "image" in (modalities.get("input") or []):
        caps.append("vision")
    caps += _caps(model, {"tool_call": "tools", "structured_output": "json", "reasoning": "reasoning"})
    entry["capabilities"] = caps
    if model.get("status") == "deprecated":
        entry["deprecated"] = True
        out.fix("deprecated on models.dev")
    return entry


# --- the seeds' records ----------------------------------------------------------------------------


def from_seed(path: Path, data: Any) -> Imported:
    """Convert the seeds' LLM records: `router` is the provider, `is_active` the enabled
    flag, `cost_per_1k_*` x 1000 the price per million, `max_tokens` and `temperature`
    go to `params`, `api_endpoint` is `api_base`, `llm_name`/`name` the name. A record's
    `api_key` is left out: keys live in environment variables. A null value is an absent
    one (seed 001's `Optional` fields)."""
    out = Imported("seed", [])
    for record in entries_of(path, data):
        if not isinstance(record, dict):
            out.skip("not a record")
            continue
        record = {key: value for key, value in record.items() if value is not None}
        if "is_active" in record and "enabled" in record:
            out.skip("both is_active and enabled")
            continue
        entry = _seed_entry(record, out)
        if entry is None:
            out.skip("no id (and no provider and model to make one)")
            continue
        if "_conflict" in entry:
            out.skip(f"{entry['_conflict']} disagree")
            continue
        if out.first(entry["id"]):
            out.entries.append(entry)
    return out


def _seed_entry(record: dict[str, Any], out: Imported) -> dict[str, Any] | None:
    rec = dict(record)
    if rec.pop("api_key", None) is not None:
        out.fix("api_key left out (keys live in environment variables)")
    for seed_name, name in _SEED_SYNONYMS:
        if seed_name in rec:
            value = rec.pop(seed_name)
            if name in rec and rec[name] != value:
                return {"id": "", "_conflict": f"both {seed_name} and {name}"}
            rec[name] = value
    for name in ("is_default", "scope"):  # seed 002's default LLM: `llmctl default set` says it
        if rec.pop(name, None) is not None:
            out.fix(f"{name} left out (use `llmctl default set`)")
    provider = rec.pop("provider", None)
    model = rec.pop("model", None)
    llm_id = rec.pop("id", None)
    if not isinstance(llm_id, str):
        if not (isinstance(provider, str) and isinstance(model, str)):
            return None
        llm_id = f"{provider}/{model}"
    entry: dict[str, Any] = {"id": llm_id}
    if provider is not None:
        entry["provider"] = provider
    if model is not None and (not isinstance(provider, str) or default_model(llm_id, provider) != model):
        entry["model"] = model
    name = rec.pop("name", None)
    if name is not None:
        entry["name"] = name
    if "is_active" in rec:
        entry["enabled"] = rec.pop("is_active")
    for old, new in (
        ("cost_per_1k_input", "input_cost_per_mtok"),
        ("cost_per_1k_output", "output_cost_per_mtok"),
    ):
        if old in rec:
            value = _number(rec.pop(old))
            entry[new] = round(value * 1000, 6) if value is not None else "unreadable"
    params = dict(rec.pop("params", None) or {})
    for key in ("max_tokens", "temperature"):
        if key in rec:
            params[key] = rec.pop(key)
    if params:
        entry["params"] = params
    if "api_endpoint" in rec:
        entry["api_base"] = rec.pop("api_endpoint")
    entry.update(rec)  # llmctl's own fields pass as they are; anything else fails validation
    return entry


def check_groups(groups: list[str], known: tuple[str, ...]) -> None:
    """Refuse an unknown or repeated `--group` (exit 2)."""
    for group in groups:
        if group not in known:
            raise UnknownNameError("group", group, known)
    if not groups:
        return
    if len(set(groups)) != len(groups):
        raise UsageError("a --group is given twice")
