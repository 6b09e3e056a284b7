"""Changes to the user's catalog overlay: add, edit, remove, enable, disable (and, through
`llmctl.catalog.refresh`, import and sync).

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

from llmctl.catalog.entry import ENTRY_FIELDS
from llmctl.catalog.files import CatalogFile, EntryInvalid, entries_of, read_catalog_file, validate_entry
from llmctl.catalog.load import ORIGIN_USER, Catalog, load_catalog, merge, origin_of
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.files.io import atomic_write, load, locked
from llmctl.files.toml_edit import dump_update
from llmctl.paths import Home, bundled_catalog_path
from llmctl.prefs import audit
from llmctl.providers.table import check_provider


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
            before: dict[str, Any] | None
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
            text = dump_update(path, {"llms": entries})
            audit.record(home, command, changes)  # first: no change without its record
            atomic_write(path, text)
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
    base_path = catalog.base_path or bundled_catalog_path()  # a catalog without one is the bundled one
    base = read_catalog_file(base_path, extra_groups=config.extra_groups, cache_dir=home.cache_dir)
    try:
        return merge(base, CatalogFile(overlay.path, patches), config, origin_of(base_path), [])
    except FileError as exc:
        raise UsageError(f"the change would break the catalog: {exc.problem}") from None


def resolve_all(catalog: Catalog, names: list[str]) -> list[str]:
    """Resolve ids or aliases; raise for the first unknown one before anything is written."""
    return list(dict.fromkeys(catalog.resolve_id(n) for n in names))


def add_entries(entries: list[dict[str, Any]]) -> Mutation:
    def mutate(overlay: Overlay) -> list[str]:
        for entry in entries:
            llm_id = entry["id"]
            if llm_id in overlay.catalog:
                raise UsageError(
                    f"{llm_id!r} is already in the catalog", hint=f"use `llmctl edit {llm_id} ...`"
                )
            provider = entry.get("provider") or entry.get("router")
            if not provider:
                raise UsageError(f"{llm_id}: a new entry needs a provider (--provider)")
            check_provider(provider, overlay.catalog.config.providers)
            overlay.entries[llm_id] = dict(entry)
        return [e["id"] for e in entries]

    return mutate


def add_llms(
    home: Home,
    catalog_arg: str | os.PathLike[str] | None,
    catalog: Catalog,
    llm_id: str | None,
    fields: dict[str, Any],
    from_file: Path | None = None,
) -> Result:
    """Add one entry (its id and fields) or every entry of a catalog file to the user catalog.

    Raises UsageError when both or neither are given, for an empty file or an id already
    in the catalog; FileError for a file with problems."""
    if from_file is not None:
        if llm_id or fields:
            raise UsageError("give either --from-file or an ID with flags, not both")
        entries = read_catalog_file(from_file, extra_groups=catalog.config.extra_groups).entries
        if not entries:
            raise UsageError(f"{from_file} holds no entries")
    elif llm_id:
        entries = [{"id": llm_id, **fields}]
    else:
        raise UsageError("give the new LLM's ID (with --provider and other fields) or --from-file FILE")
    return change_catalog(home, catalog_arg, "add", add_entries(entries))


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
            check_provider(fields["provider"], overlay.catalog.config.providers)
            patch.pop("router", None)
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
