"""Changes to the user's catalog overlay: add, edit, remove, enable, disable, import.

Every change is one locked read-modify-write of the user catalog file: the file is
read and validated first (a file that does not parse is reported and never
overwritten), the change is applied to its raw entries, the merged result is
validated, the file is replaced atomically and one audit line per entry is written.
The bundled catalog is never edited.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl import audit
from llmctl.catalog import ORIGIN_USER, Catalog, load_catalog, merge, origin_of
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.fileio import atomic_write, dump_update, load, locked
from llmctl.paths import Home
from llmctl.records import ENTRY_FIELDS
from llmctl.validated import (
    CatalogFile,
    EntryInvalid,
    entries_of,
    read_catalog_file,
    validate_entry,
)


@dataclass
class Overlay:
    """The user catalog's raw entries by id, in file order, as the change sees them."""

    path: Path
    entries: dict[str, dict[str, Any]]
    catalog: Catalog
    notes: list[str] = field(default_factory=list)

    def patch(self, llm_id: str) -> dict[str, Any]:
        """Return the raw overlay entry for `llm_id`, creating an id-only patch."""
        return self.entries.setdefault(llm_id, {"id": llm_id})

    def in_base(self, llm_id: str) -> bool:
        entry = self.catalog.entries.get(llm_id)
        return entry is not None and entry.origin != ORIGIN_USER


@dataclass
class Result:
    """What a change did: the audit changes and notes for the user (e.g. why a remove disabled)."""

    changes: list[audit.Change]
    notes: list[str]
    path: Path


Mutation = Callable[[Overlay], list[str]]


def change_catalog(
    home: Home, catalog_arg: str | os.PathLike[str] | None, command: str, mutate: Mutation
) -> Result:
    """Apply `mutate` to the user overlay under the lock; return what changed.

    `mutate` edits `overlay.entries` and returns the ids it touched. Raises
    UsageError for a change that would make the catalog invalid, FileError when
    an existing file is invalid (it is then left untouched).
    """
    with locked(home.lock_file):
        path = home.user_catalog_for_writing()
        # Loading validates the user file too: one with problems is reported, never rewritten.
        catalog = load_catalog(home, catalog_arg)
        raw = {e["id"]: e for e in _read_raw(path) if isinstance(e, dict)}
        overlay = Overlay(path=path, entries={k: dict(v) for k, v in raw.items()}, catalog=catalog)
        touched = mutate(overlay)
        new_catalog = _validate_result(home, catalog, overlay)
        changes = []
        for llm_id in touched:
            if llm_id in catalog.entries:
                before = catalog.entries[llm_id].to_catalog_dict()
            else:  # a new entry, or a stale patch of one the base does not have
                before = raw.get(llm_id) if llm_id in catalog.orphans else None
            after = new_catalog.get(llm_id)
            after = after.to_catalog_dict() if after else overlay.entries.get(llm_id)
            if before != after:
                changes.append(audit.Change(llm_id, *audit.diff(before, after)))
        if changes:
            entries = [e for e in overlay.entries.values() if len(e) > 1 or e["id"] not in catalog.entries]
            atomic_write(path, dump_update(path, {"llms": entries}))
            audit.record(home, command, changes)
        return Result(changes=changes, notes=overlay.notes, path=path)


def _read_raw(path: Path) -> list[Any]:
    if not path.is_file():
        return []
    data, _text = load(path)
    return entries_of(path, data)


def _validate_result(home: Home, catalog: Catalog, overlay: Overlay) -> dict[str, Any]:
    config = catalog.config
    patches = []
    for raw in overlay.entries.values():
        try:
            patches.append(validate_entry(raw, config.extra_groups))
        except EntryInvalid as exc:
            fld, message = exc.problems[0]
            raise UsageError(f"{raw.get('id')}: {fld + ': ' if fld else ''}{message}") from None
    base = read_catalog_file(catalog.base_path, extra_groups=config.extra_groups, cache_dir=home.cache_dir)
    try:
        return merge(base, CatalogFile(overlay.path, patches), config, origin_of(catalog.base_path), [])
    except FileError as exc:
        raise UsageError(f"the change would break the catalog: {exc.problem}") from None


def resolve_all(catalog: Catalog, names: list[str]) -> list[str]:
    """Resolve ids or aliases; raise for the first unknown one before anything is written."""
    return list(dict.fromkeys(catalog.resolve_id(n) for n in names))


def add_entries(entries: list[dict[str, Any]]) -> Mutation:
    def mutate(overlay: Overlay) -> list[str]:
        for entry in entries:
            llm_id = entry.get("id")
            if llm_id in overlay.catalog:
                raise UsageError(
                    f"{llm_id!r} is already in the catalog", hint=f"use `llmctl edit {llm_id} ...`"
                )
            if not entry.get("provider") and not entry.get("router"):
                raise UsageError(f"{llm_id}: a new entry needs a provider (--provider)")
            overlay.entries[llm_id] = dict(entry)
        return [e["id"] for e in entries]

    return mutate


def edit_entry(name: str, changes: dict[str, Any], unset: list[str]) -> Mutation:
    def mutate(overlay: Overlay) -> list[str]:
        llm_id = overlay.catalog.resolve_id(name)
        patch = overlay.patch(llm_id)
        for key in unset:
            if key == "id":
                raise UsageError("the id cannot be unset")
            if key not in ENTRY_FIELDS and key != "router":
                raise UnknownNameError("field", key, ENTRY_FIELDS)
            if key not in patch and overlay.in_base(llm_id):
                overlay.notes.append(f"{key}: not set in the user catalog; the base value stays")
            patch.pop(key, None)
            if key == "provider":
                patch.pop("router", None)
        fields = dict(changes)
        if "aliases" in fields:  # --alias adds a name; `--unset aliases` clears them
            current = overlay.catalog.entries[llm_id].aliases
            fields["aliases"] = list(dict.fromkeys([*current, *fields["aliases"]]))
        if "provider" in fields:
            patch.pop("router", None)
            from llmctl.provider_info import BUILTIN_PROVIDERS

            if (
                fields["provider"] not in BUILTIN_PROVIDERS
                and fields["provider"] not in overlay.catalog.config.providers
            ):
                overlay.notes.append(
                    f"{changes['provider']!r} is not a built-in provider: give the entry an api_base, "
                    "or declare it in config.toml [providers]"
                )
        patch.update(fields)
        return [llm_id]

    return mutate


def set_enabled(names: list[str], enabled: bool) -> Mutation:
    def mutate(overlay: Overlay) -> list[str]:
        ids = resolve_all(overlay.catalog, names)
        for llm_id in ids:
            overlay.patch(llm_id)["enabled"] = enabled
        return ids

    return mutate


def remove_entries(names: list[str]) -> Mutation:
    def mutate(overlay: Overlay) -> list[str]:
        stale = [n for n in names if n in overlay.catalog.orphans and n in overlay.entries]
        for llm_id in stale:  # a patch of an entry the base no longer has
            del overlay.entries[llm_id]
            overlay.notes.append(f"{llm_id}: removed a patch of an entry the base catalog does not have")
        ids = resolve_all(overlay.catalog, [n for n in names if n not in stale])
        for llm_id in ids:
            if overlay.in_base(llm_id):
                overlay.patch(llm_id)["enabled"] = False
                overlay.notes.append(
                    f"{llm_id} comes from the {overlay.catalog.entries[llm_id].origin}, which is never "
                    f"edited: it is now disabled in your catalog ({overlay.path}); "
                    f"`llmctl enable {llm_id}` brings it back"
                )
            else:
                del overlay.entries[llm_id]
        return stale + ids

    return mutate


def import_entries(
    entries: list[dict[str, Any]],
    groups: list[str],
    *,
    foreign: bool = True,
    stats: dict[str, int] | None = None,
) -> Mutation:
    """Add new entries and refresh prices, limits and capabilities of existing ones, keeping
    their groups, priority and enabled flag.

    An imported model is the existing entry with its id, or the entry of the same provider
    serving the same provider-side model (`groq/llama-3.3-70b-versatile` is the catalog's
    `meta-llama/llama-3.3-70b-versatile`). An id served by another provider is left alone:
    OpenRouter's price is not DeepSeek's. Entries from a foreign format (LiteLLM,
    OpenRouter) are added enabled with `groups`; entries of an llmctl catalog keep their
    own groups (`groups` fills in where they have none) and enabled flag. `stats` counts
    the entries left alone."""
    from llmctl.importers import REFRESHED

    def mutate(overlay: Overlay) -> list[str]:
        touched = []
        by_model = {(e.provider, e.model): e for e in overlay.catalog}
        for entry in entries:
            current = existing(overlay.catalog, by_model, entry)
            if current is not None and current.provider != entry.get("provider", current.provider):
                if stats is not None:
                    stats["served by another provider"] = stats.get("served by another provider", 0) + 1
                continue
            if current is not None:
                changed = {
                    f: entry[f] for f in REFRESHED if f in entry and not same(getattr(current, f), entry[f])
                }
                if changed:
                    overlay.patch(current.id).update(changed)
                touched.append(current.id)
                continue
            new = dict(entry)
            if "embeddings" not in new.get("capabilities", ()) and (foreign or not new.get("valid_groups")):
                new["valid_groups"] = list(groups)
            if foreign:
                new.pop("enabled", None)
            overlay.entries[entry["id"]] = new
            touched.append(entry["id"])
        return list(dict.fromkeys(touched))

    return mutate


def existing(catalog: Catalog, by_model: dict[tuple[str, str], Any], item: dict[str, Any]) -> Any:
    """The catalog entry an imported or listed model is: same id, or same provider and model."""
    if item["id"] in catalog.entries:
        return catalog.entries[item["id"]]
    from llmctl.records import default_model

    provider = item.get("provider") or ""
    return by_model.get((provider, item.get("model") or default_model(item["id"], provider)))


def same(current: Any, incoming: Any) -> bool:
    """Equal, with lists compared as sets (capability order carries no meaning)."""
    if isinstance(current, list) and isinstance(incoming, list):
        return set(current) == set(incoming)
    return current == incoming


def import_file(
    home: Home,
    catalog_arg: str | os.PathLike[str] | None,
    catalog: Catalog,
    path: Path,
    fmt: str | None,
    groups: list[str],
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import `path` into the user catalog (or, with `dry_run`, only count what would change).

    Returns the summary shown by `catalog import`. Raises UnknownNameError for an unknown
    group or format and FileError for a file in another format.
    """
    from llmctl.importers import check_groups, read_import

    check_groups(groups, catalog.config.groups)
    imported = read_import(path, fmt)
    summary: dict[str, Any] = {
        "format": imported.format,
        "read": len(imported.entries),
        "skipped": imported.skipped,
    }
    if dry_run:
        by_model = {(e.provider, e.model): e for e in catalog}
        new = sum(1 for e in imported.entries if existing(catalog, by_model, e) is None)
        summary.update(new=new, existing=len(imported.entries) - new, dry_run=True)
        return summary
    left_alone: dict[str, int] = {}
    mutation = import_entries(imported.entries, groups, foreign=imported.format != "llmctl", stats=left_alone)
    result = change_catalog(home, catalog_arg, "import", mutation)
    imported.skipped.update(left_alone)
    added = sum(1 for c in result.changes if c.before is None)
    summary.update(
        added=added,
        updated=len(result.changes) - added,
        unchanged=len(imported.entries) - len(result.changes) - sum(left_alone.values()),
        file=str(result.path),
    )
    return summary
