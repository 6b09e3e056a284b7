"""The seeds' LLM records: a list of records (or `{"llms": [...]}`) in the shapes of seed
000 (`router`), seed 001 (`LLMEntry`, `is_active`, `cost_per_1k_*`) and seed 002 (a
config with a default LLM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmctl.catalog.files import entries_of
from llmctl.catalog.formats.common import Imported, number, set_model

# Fields the seeds spell two ways: (seed's name, llmctl's name).
_SYNONYMS = (("router", "provider"), ("model_name", "model"), ("llm_name", "name"))
# Fields only the seeds' records have (seed 001's LLMEntry, seed 002's config); `router` is
# seed 000's name, which llmctl's own format accepts too.
_SEED_ONLY = {"is_active", "cost_per_1k_input", "cost_per_1k_output", "api_endpoint"} | {
    seed for seed, _name in _SYNONYMS if seed != "router"
}
_PRICES_PER_1K = (
    ("cost_per_1k_input", "input_cost_per_mtok"),
    ("cost_per_1k_output", "output_cost_per_mtok"),
)


def records_of(data: Any) -> list[Any] | None:
    """The list of records of a file of entries (a list, or `{"llms": [...]}`), or None."""
    records = data if isinstance(data, list) else data.get("llms") if isinstance(data, dict) else None
    return records if isinstance(records, list) else None


def detect(data: Any) -> bool:
    """Whether parsed `data` is a list of records with a field only the seeds have (or an
    integer id)."""
    return any(
        isinstance(r, dict) and (_SEED_ONLY & r.keys() or isinstance(r.get("id"), int))
        for r in records_of(data) or []
    )


def from_seed(path: Path, data: Any) -> Imported:
    """Convert the seeds' LLM records: `router` is the provider, `is_active` the enabled
    flag, `cost_per_1k_*` x 1000 the price per million, `max_tokens` and `temperature`
    go to `params`, `api_endpoint` is `api_base`, `llm_name`/`name` the name. A record's
    `api_key` is left out: keys live in environment variables. A null value is an absent
    one (seed 001's `Optional` fields). Returns the entries and the count of what was
    skipped or fixed; raises FileError for a file that is not a list of records."""
    out = Imported("seed", [])
    for record in entries_of(path, data):
        if not isinstance(record, dict):
            out.skip("not a record")
            continue
        record = {key: value for key, value in record.items() if value is not None}
        if "is_active" in record and "enabled" in record:
            out.skip("both is_active and enabled")
            continue
        entry = _entry(record, out)
        if entry is None:
            out.skip("no id (and no provider and model to make one)")
            continue
        if "_conflict" in entry:
            out.skip(f"{entry['_conflict']} disagree")
            continue
        if out.first(entry["id"]):
            out.entries.append(entry)
    return out


def _entry(record: dict[str, Any], out: Imported) -> dict[str, Any] | None:
    """The entry of a record; None without an id (or provider and model to make one);
    `{"_conflict": ...}` when the record spells a field two ways with two values."""
    rec = dict(record)
    if rec.pop("api_key", None) is not None:
        out.fix("api_key left out (keys live in environment variables)")
    for seed_name, name in _SYNONYMS:
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
    set_model(entry, model)
    name = rec.pop("name", None)
    if name is not None:
        entry["name"] = name
    if "is_active" in rec:
        entry["enabled"] = rec.pop("is_active")
    for old, new in _PRICES_PER_1K:
        if old in rec:
            value = number(rec.pop(old))
            entry[new] = round(value * 1000, 6) if value is not None else "unreadable"
    _move_params(rec, entry)
    entry.update(rec)  # llmctl's own fields pass as they are; anything else fails validation
    return entry


def _move_params(rec: dict[str, Any], entry: dict[str, Any]) -> None:
    """Move the record's sampling fields into the entry's `params`, and its endpoint to `api_base`."""
    params = dict(rec.pop("params", None) or {})
    for key in ("max_tokens", "temperature"):
        if key in rec:
            params[key] = rec.pop(key)
    if params:
        entry["params"] = params
    if "api_endpoint" in rec:
        entry["api_base"] = rec.pop("api_endpoint")
