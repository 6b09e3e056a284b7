"""`catalog diff OLD NEW`: what changed between two catalogs (files, the bundled catalog or
the merged one): added and removed ids, and every changed field with its old and new
value. Prices say by how much, in percent."""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import ENTRY_FIELDS, LLM, Deployment, default_model
from llmctl.catalog.load import bundled_catalog_path, load_catalog
from llmctl.catalog.refresh import same
from llmctl.paths import Home

NAMED = ("bundled", "merged")
PRICES = ("input_cost_per_mtok", "output_cost_per_mtok")
# The order a change is shown in: what costs money and what fits first.
SHOWN_FIRST = (*PRICES, "context_length", "max_output_tokens", "deprecated", "deprecation_date")


@dataclass
class Side:
    """One side of a diff: entries by id, normalised (defaults filled in, empty values and
    the default `model` left out), and whether they come from a foreign format, which says
    only some fields (then only the fields it gives are compared)."""

    entries: dict[str, dict[str, Any]]
    foreign: bool = False


def catalog_side(name: str, home: Home, catalog_arg: str | os.PathLike[str] | None = None) -> Side:
    """`bundled`, `merged` (the catalog in use, with the user's file), or a file in any
    format `catalog import` reads. Raises FileError (exit 3) naming a file that does not parse."""
    if name == "merged":
        return Side({e.id: normalised(e.to_catalog_dict()) for e in load_catalog(home, catalog_arg)})
    from llmctl.catalog.formats import read_import

    path = bundled_catalog_path() if name == "bundled" else Path(name)
    imported = read_import(path, cache_dir=home.cache_dir)
    foreign = imported.format != "llmctl"
    return Side({e["id"]: e if foreign else normalised(e) for e in imported.entries}, foreign)


def normalised(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with every field's default filled in and empty values left out, so two files
    that say the same thing in different words compare equal."""
    out = {}
    if entry.get("deployments"):  # the entry's provider is its first deployment's
        entry = {**entry, "provider": entry["deployments"][0]["provider"]}
    for name in ENTRY_FIELDS:
        value = entry.get(name, _DEFAULTS.get(name))
        if value is None or value == [] or value == {}:
            continue
        if name == "model" and value == default_model(entry["id"], entry.get("provider") or ""):
            continue
        if name == "deployments":  # as export writes them: no defaults, no derived model
            value = [Deployment(**d).to_catalog_dict(entry["id"]) for d in value]
        out[name] = value
    return out


_DEFAULTS = {f.name: f.default for f in fields(LLM) if f.default is not MISSING and f.default is not None}


def diff_catalogs(old: Side, new: Side) -> dict[str, Any]:
    """`{"added": [ids], "removed": [ids], "changed": [{"id", "field", "old", "new"}]}`;
    ids sorted, an entry's fields in SHOWN_FIRST order, then by name."""
    changed = []
    for llm_id in sorted(old.entries.keys() & new.entries.keys()):
        before, after = old.entries[llm_id], new.entries[llm_id]
        names = before.keys() | after.keys()
        if old.foreign:
            names &= before.keys()
        if new.foreign:
            names &= after.keys()
        for name in sorted(names, key=_field_order):
            if name == "id" or _same(name, before.get(name), after.get(name)):
                continue
            changed.append({"id": llm_id, "field": name, "old": before.get(name), "new": after.get(name)})
    return {
        "added": sorted(new.entries.keys() - old.entries.keys()),
        "removed": sorted(old.entries.keys() - new.entries.keys()),
        "changed": changed,
    }


def _same(name: str, old: Any, new: Any) -> bool:
    """Deployments are compared in order (the first gives the entry its provider); other
    lists as sets."""
    return old == new if name == "deployments" else same(old, new)


def _field_order(name: str) -> tuple[int, str]:
    return (SHOWN_FIRST.index(name) if name in SHOWN_FIRST else len(SHOWN_FIRST), name)


def describe_change(change: dict[str, Any]) -> str:
    """One change as text: `input_cost_per_mtok 2.5 -> 2 (-20%)`."""
    old, new = change["old"], change["new"]
    text = f"{change['field']} {_shown(old)} -> {_shown(new)}"
    if change["field"] in PRICES and isinstance(old, int | float) and isinstance(new, int | float) and old:
        text += f" ({(new - old) / old * 100:+.1f}%)"
    return text


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(map(str, value)) or "[]"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
