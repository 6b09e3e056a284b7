"""Read other catalogs into llmctl entries: LiteLLM's price file, OpenRouter's model list,
and llmctl's own format. Prices per token become prices per million tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import default_model
from llmctl.catalog.files import EntryInvalid, read_catalog_file, validate_entry
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.files.io import load

FORMATS = ("litellm", "openrouter", "llmctl")

# LiteLLM provider names that differ from ours.
_LITELLM_PROVIDERS = {
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "azure_ai": "azure",
    "text-completion-openai": "openai",
    "vertex_ai-language-models": "vertex_ai",
}
_CHAT_MODES = {"chat", "responses"}


@dataclass
class Imported:
    """Entries read from a foreign file, and what was skipped (reason -> count)."""

    format: str
    entries: list[dict[str, Any]]
    skipped: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set, repr=False)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def detect_format(data: Any) -> str | None:
    """Guess the format of a parsed file, or None."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return "openrouter"
    if isinstance(data, list) or (isinstance(data, dict) and isinstance(data.get("llms"), list)):
        return "llmctl"
    if isinstance(data, dict) and any(
        isinstance(v, dict) and ("litellm_provider" in v or "input_cost_per_token" in v)
        for v in data.values()
    ):
        return "litellm"
    return None


def read_import(path: Path, fmt: str | None = None, *, cache_dir: Path | None = None) -> Imported:
    """Read `path` as `fmt` (detected when None). Raises FileError for a file in another
    format. An llmctl catalog's validated content is cached in `cache_dir` when given."""
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
            "/api/v1/models response, or an llmctl catalog",
        )
    if found != fmt:
        described = {
            "litellm": "a LiteLLM price file",
            "openrouter": "an OpenRouter model list",
            "llmctl": "an llmctl catalog",
        }
        actual = f" (it looks like {described[found]})" if found else ""
        raise FileError(path, f"this is not {described[fmt]}{actual}", hint="check --format")
    if fmt in ("litellm", "openrouter"):
        imported = from_litellm(data) if fmt == "litellm" else from_openrouter(path, data)
        return keep_valid(imported)
    return Imported("llmctl", read_catalog_file(path, cache_dir=cache_dir).entries)


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


def per_million(value: Any) -> float | None:
    """Price per token (number or string) to USD per million tokens; None when unknown."""
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    if price < 0:
        return None
    return round(price * 1_000_000, 6)


def _caps(flags: dict[str, Any], mapping: dict[str, str]) -> list[str]:
    return [cap for key, cap in mapping.items() if flags.get(key)]


def from_litellm(data: dict[str, Any]) -> Imported:
    """Convert LiteLLM's `model_prices_and_context_window.json`."""
    out = Imported("litellm", [])
    for key, spec in data.items():
        if key == "sample_spec" or not isinstance(spec, dict):
            out.skip("sample_spec")
            continue
        mode = spec.get("mode", "chat")
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
        if llm_id in out.seen:
            out.skip("duplicate id")
            continue
        out.seen.add(llm_id)
        entry: dict[str, Any] = {"id": llm_id, "provider": ours, "name": key}
        if default_model(llm_id, ours) != model:
            entry["model"] = model
        for fld, src in (
            ("input_cost_per_mtok", "input_cost_per_token"),
            ("output_cost_per_mtok", "output_cost_per_token"),
        ):
            price = per_million(spec.get(src))
            if price is not None:
                entry[fld] = price
        context = spec.get("max_input_tokens") or spec.get("max_tokens")
        if isinstance(context, int) and context > 0:
            entry["context_length"] = context
        max_out = spec.get("max_output_tokens")
        if isinstance(max_out, int) and max_out > 0 and mode != "embedding":
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
        date = spec.get("deprecation_date")
        if isinstance(date, str) and len(date) == 10:
            entry["deprecated"] = True
            entry["deprecation_date"] = date
        out.entries.append(entry)
    return out


def from_openrouter(path: Path, data: dict[str, Any]) -> Imported:
    """Convert OpenRouter's `GET /api/v1/models` response."""
    out = Imported("openrouter", [])
    for model in data["data"]:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            out.skip("malformed")
            continue
        pricing = model.get("pricing") or {}
        prompt, completion = per_million(pricing.get("prompt")), per_million(pricing.get("completion"))
        if prompt is None or completion is None:
            out.skip("variable or missing price")
            continue
        arch = model.get("architecture") or {}
        outputs = arch.get("output_modalities") or ["text"]
        if "text" not in outputs:
            out.skip("no text output")
            continue
        params = set(model.get("supported_parameters") or [])
        caps = ["streaming"]
        if "image" in (arch.get("input_modalities") or []):
            caps.append("vision")
        if "tools" in params:
            caps.append("tools")
        if params & {"response_format", "structured_outputs"}:
            caps.append("json")
        if params & {"reasoning", "include_reasoning"}:
            caps.append("reasoning")
        entry: dict[str, Any] = {
            "id": model["id"],
            "provider": "openrouter",
            "name": model.get("name") or model["id"],
            "input_cost_per_mtok": prompt,
            "output_cost_per_mtok": completion,
            "capabilities": caps,
        }
        description = (model.get("description") or "").strip()
        if description:
            entry["description"] = description.split("\n")[0][:300]
        if ":" in (entry["name"] or ""):
            entry["company"] = entry["name"].split(":", 1)[0].strip()
        context = model.get("context_length")
        if isinstance(context, int) and context > 0:
            entry["context_length"] = context
        max_out = (model.get("top_provider") or {}).get("max_completion_tokens")
        if isinstance(max_out, int) and max_out > 0:
            entry["max_output_tokens"] = max_out
        expiry = model.get("expiration_date")
        if isinstance(expiry, str) and len(expiry) >= 10:
            entry["deprecated"] = True
            entry["deprecation_date"] = expiry[:10]
        out.entries.append(entry)
    if not out.entries and not out.skipped:
        raise FileError(path, "the model list is empty")
    return out


def check_groups(groups: list[str], known: tuple[str, ...]) -> None:
    """Refuse an unknown or repeated `--group` (exit 2)."""
    for group in groups:
        if group not in known:
            raise UnknownNameError("group", group, known)
    if not groups:
        return
    if len(set(groups)) != len(groups):
        raise UsageError("a --group is given twice")
