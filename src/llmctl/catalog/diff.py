"""`catalog diff OLD NEW`: what changed between two catalogs (files, the bundled catalog or
the merged one): added and removed ids, and every changed field with its old and new
value. Prices say by how much, in percent.

Against a source file (LiteLLM, OpenRouter, models.dev) the entries are matched as an
import matches them (provider and model, across deployments) and only what an import
would set is compared; a retirement the source sets, or one passed while the entry is
still enabled, is listed as such."""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import ENTRY_FIELDS, LLM, PRICE_FIELDS, Deployment, default_model
from llmctl.catalog.load import Catalog, bundled_catalog_path, load_catalog, merge
from llmctl.catalog.refresh import Matcher, Source, same
from llmctl.errors import FileError
from llmctl.paths import Home
from llmctl.prefs.config import Config

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
    # A catalog's entries as the program reads them (to match a source against), when whole.
    llms: dict[str, LLM] | None = None
    # A source's import: its rows, and what they state (see refresh.Source).
    source: Source | None = None


def catalog_side(name: str, home: Home, catalog_arg: str | os.PathLike[str] | None = None) -> Side:
    """`bundled`, `merged` (the catalog in use, with the user's file), or a file in any
    format `catalog import` reads. Raises FileError (exit 3) naming a file that does not
    parse, or a source file whose structure is wrong."""
    if name == "merged":
        catalog = load_catalog(home, catalog_arg)
        return Side({e.id: normalised(e.to_catalog_dict()) for e in catalog}, llms=catalog.entries)
    from llmctl.catalog.files import read_catalog_file
    from llmctl.catalog.formats import read_import

    path = bundled_catalog_path() if name == "bundled" else Path(name)
    imported = read_import(path, cache_dir=home.cache_dir)
    if imported.format != "llmctl":
        source = Source(imported.stated, imported.fill_only)
        return Side({e["id"]: e for e in imported.entries}, True, source=source)
    try:  # a whole catalog; a user file of patches is compared by id only
        llms = merge(read_catalog_file(path, cache_dir=home.cache_dir), None, Config(), "diff")
    except FileError:
        llms = None
    return Side({e["id"]: normalised(e) for e in imported.entries}, llms=llms)


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


def diff_catalogs(old: Side, new: Side, today: str | None = None) -> dict[str, Any]:
    """`{"added": [ids], "removed": [ids], "changed": [{"id", "field", "old", "new"}],
    "retirements": [{"id", "date", "replacement", "passed"}]}`; ids sorted, an entry's
    fields in SHOWN_FIRST order, then by name. A catalog against a source file: see
    `diff_source`."""
    import datetime as dt

    today = today or dt.date.today().isoformat()
    if new.source is not None and old.llms is not None:
        return diff_source(old.llms, new, today)
    if old.source is not None and new.llms is not None:
        result = diff_source(new.llms, old, today)
        for change in result["changed"]:
            change["old"], change["new"] = change["new"], change["old"]
        result["added"], result["removed"] = result["removed"], result["added"]
        return result
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
    retirements = [
        _retirement(str(c["id"]), str(c["new"]), new.entries[str(c["id"])].get("replacement"), today)
        for c in changed
        if c["field"] == "deprecation_date" and c["new"]
    ]
    return {
        "added": sorted(new.entries.keys() - old.entries.keys()),
        "removed": sorted(old.entries.keys() - new.entries.keys()),
        "changed": changed,
        "retirements": retirements,
    }


def diff_source(llms: dict[str, LLM], source: Side, today: str) -> dict[str, Any]:
    """A catalog against a source file, as an import would see it: `added` are the rows
    it would add, `removed` the entries at a provider the source lists that it no longer
    lists, `changed` what it would set (fields the catalog owns are no changes; a model
    served elsewhere is left alone), `retirements` those it sets or that passed while the
    entry is enabled."""
    matcher = Matcher(Catalog(llms))
    added, matched, changed, retirements = [], set(), [], []
    for item in source.entries.values():
        current = matcher.find(item)
        if current is None:
            added.append(item["id"])
            continue
        matched.add(current.id)
        if matcher.elsewhere(current, item):
            continue
        route = matcher.route(current, item)
        if route is not None:  # a deployment's own prices
            shown = current.via(route)
            fields_ = {n: item[n] for n in PRICE_FIELDS if n in item and getattr(shown, n) != item[n]}
        else:
            shown, fields_ = current, matcher.changes(current, item, source.source)
        for name in sorted(fields_, key=_field_order):
            changed.append(
                {"id": current.id, "field": name, "old": getattr(shown, name), "new": fields_[name]}
            )
        date = item.get("deprecation_date")
        if date and (date != current.deprecation_date or (date <= today and current.enabled)):
            retirements.append(_retirement(current.id, date, current.replacement, today))
    listed = {item.get("provider") for item in source.entries.values()}
    removed = [
        e.id for e in llms.values() if e.id not in matched and any(r.provider in listed for r in e.routes())
    ]
    return {
        "added": sorted(added),
        "removed": sorted(removed),
        "changed": changed,
        "retirements": retirements,
    }


def _retirement(llm_id: str, date: str, replacement: str | None, today: str) -> dict[str, Any]:
    return {"id": llm_id, "date": date, "replacement": replacement, "passed": date <= today}


def describe_retirement(item: dict[str, Any]) -> str:
    """`openai/gpt-5: retires on 2026-12-11` or `...: retired on DATE; use REPLACEMENT`."""
    text = f"{item['id']}: {'retired' if item['passed'] else 'retires'} on {item['date']}"
    return text + (f"; use {item['replacement']}" if item["replacement"] else "")


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
