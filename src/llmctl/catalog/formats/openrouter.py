"""OpenRouter's `GET /api/v1/models` response: `{"data": [model, ...]}`, prices per token.

Its router pseudo-models and anything without text output are skipped; `~...-latest`
models become aliases of the model they point to (the newest of the family with the same
prices and context; none: skipped); the price tier above 200k prompt tokens is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmctl.catalog.formats.common import (
    Imported,
    deprecate,
    is_router,
    number,
    per_million,
    set_limit,
    set_prices,
    structure_error,
)
from llmctl.errors import FileError

_CACHE_PRICES = (
    ("cache_read_cost_per_mtok", "input_cache_read"),
    ("cache_write_cost_per_mtok", "input_cache_write"),
)
_ABOVE_200K_PRICES = (
    ("input_cost_per_mtok_above_200k", "prompt"),
    ("output_cost_per_mtok_above_200k", "completion"),
)


def detect(data: Any) -> bool:
    """Whether parsed `data` looks like OpenRouter's model list."""
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def from_openrouter(path: Path | str, data: dict[str, Any]) -> Imported:
    """Convert OpenRouter's `GET /api/v1/models` response; returns the entries and the
    count of what was skipped or fixed. Raises FileError for an empty list, or naming the
    place where the structure is wrong (no `data` list, a model that is not an object)."""
    check_structure(path, data)
    out = Imported("openrouter", [])
    latest: list[dict[str, Any]] = []
    for model in data["data"]:
        reason = _not_a_text_model(model)
        if reason is not None:
            out.skip(reason)
            continue
        if model["id"].startswith("~"):
            latest.append(model)  # an alias: resolved once every model is known
            continue
        if out.first(model["id"]):
            out.entries.append(_entry(model, out))
            out.stated[model["id"]] = _stated(model)
    _aliases(out, latest)
    for entry in out.entries:
        entry.pop("_created", None)
    if not out.entries and not out.skipped:
        raise FileError(path, "the model list is empty")
    return out


def check_structure(path: Path | str, data: Any) -> None:
    """Raise FileError (exit 3) naming where the list's structure is wrong: a damaged file
    is refused whole, not imported in part."""
    if not isinstance(data, dict) or "data" not in data:
        raise structure_error(path, "data", 'missing: an OpenRouter model list is {"data": [model, ...]}')
    if not isinstance(data["data"], list):
        raise structure_error(path, "data", f"is {type(data['data']).__name__}, not a list of models")
    for n, model in enumerate(data["data"]):
        if not isinstance(model, dict):
            raise structure_error(path, f"data[{n}]", f"is {type(model).__name__}, not a model object")


def _not_a_text_model(model: Any) -> str | None:
    """Why `model` is not imported (a router, no price, no text output), or None."""
    if not isinstance(model, dict) or not isinstance(model.get("id"), str):
        return "malformed"
    pricing = model.get("pricing") or {}
    raw = [number(pricing.get("prompt")), number(pricing.get("completion"))]
    if is_router("openrouter", model["id"]) or any(p is not None and p < 0 for p in raw):
        return "router pseudo-model"
    prompt, completion = per_million(pricing.get("prompt")), per_million(pricing.get("completion"))
    if prompt is None or completion is None:
        return "no price"
    outputs = (model.get("architecture") or {}).get("output_modalities") or ["text"]
    if "text" not in outputs:
        return "no text output"
    if set(outputs) - {"text"} and prompt == completion == 0 and not model["id"].endswith(":free"):
        return "image or music model priced per output, not per token"
    return None


def _entry(model: dict[str, Any], out: Imported) -> dict[str, Any]:
    """The entry of a priced text model (with its `_created` time, for the aliases)."""
    pricing = model.get("pricing") or {}
    entry: dict[str, Any] = {
        "id": model["id"],
        "provider": "openrouter",
        "name": model.get("name") or model["id"],
        "input_cost_per_mtok": per_million(pricing.get("prompt")),
        "output_cost_per_mtok": per_million(pricing.get("completion")),
        "capabilities": openrouter_capabilities(model),
    }
    set_prices(entry, pricing, _CACHE_PRICES, per_million)
    _tiers(entry, pricing.get("overrides"), out)
    description = (model.get("description") or "").strip()
    if description:
        entry["description"] = description.split("\n")[0][:300]
    if ":" in (entry["name"] or ""):
        entry["company"] = entry["name"].split(":", 1)[0].strip()
    set_limit(entry, "context_length", model.get("context_length"), out)
    set_limit(entry, "max_output_tokens", (model.get("top_provider") or {}).get("max_completion_tokens"), out)
    deprecate(entry, model.get("expiration_date"), out)
    entry["_created"] = model.get("created") or 0
    return entry


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


def _stated(model: dict[str, Any]) -> frozenset[str]:
    """The capabilities a model's listing states: vision from its input modalities, the
    others from its supported parameters, each only when the listing has them."""
    says = set()
    if (model.get("architecture") or {}).get("input_modalities") is not None:
        says.add("vision")
    if model.get("supported_parameters") is not None:
        says |= {"tools", "json", "reasoning"}
    return frozenset(says)


def _tiers(entry: dict[str, Any], overrides: Any, out: Imported) -> None:
    """OpenRouter's price overrides: the tier above 200k prompt tokens is kept; other
    thresholds and time-of-day prices are counted, not kept."""
    for item in overrides if isinstance(overrides, list) else []:
        if not isinstance(item, dict):
            continue
        threshold = item.get("min_prompt_tokens")
        if threshold == 200_000:
            set_prices(entry, item, _ABOVE_200K_PRICES, per_million)
            out.fix("price above 200k tokens kept")
        elif threshold is not None:
            out.fix("tiered price at another threshold than 200k not kept")
        else:
            out.fix("time-of-day price not kept")


def _aliases(out: Imported, latest: list[dict[str, Any]]) -> None:
    """`~anthropic/claude-opus-latest` is an alias of a model of its family (`family`) with
    the same prices and context: of those, the newest by `created`, `:variants` left out.
    Added to that entry's `aliases`; with none, the row is skipped and counted."""
    for model in latest:
        pricing = model.get("pricing") or {}
        price = (per_million(pricing.get("prompt")), per_million(pricing.get("completion")))
        context = model.get("context_length")
        matches = [
            e
            for e in out.entries
            if family(model["id"], e["id"])
            and (e["input_cost_per_mtok"], e["output_cost_per_mtok"]) == price
            and e.get("context_length") == context
        ]
        if not matches:
            out.skip("~latest alias with no model of its family at its prices and context")
            continue
        target = max(matches, key=lambda e: (e["_created"], e["id"]))
        target.setdefault("aliases", []).append(model["id"])
        out.fix("~latest model made an alias of its target")


def family(alias: str, llm_id: str) -> bool:
    """Whether `llm_id` is of the family `~maker/stem-latest` names: the same maker, the
    name starting with the stem's first word, and every other word of the stem in it
    (`~openai/gpt-mini-latest` is `openai/gpt-5.4-mini`'s; `~anthropic/claude-opus-latest`
    is `anthropic/claude-opus-5`'s, not `claude-fable-5`'s). `:variants` are no members."""
    maker, _, stem = alias[1:].removesuffix("-latest").partition("/")
    their_maker, _, name = llm_id.partition("/")
    if their_maker != maker or ":" in name or not stem:
        return False
    want, words = stem.split("-"), name.split("-")
    return words[0] == want[0] and all(w in words[1:] for w in want[1:])
