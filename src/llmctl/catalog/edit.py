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
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import ENTRY_FIELDS, Deployment, default_model
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
    # The base catalog's own entries (as its file sets them), by id: what a patch sits on.
    base: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        base_path = catalog.base_path or bundled_catalog_path()  # a catalog without one is the bundled one
        base = read_catalog_file(
            base_path, extra_groups=catalog.config.extra_groups, cache_dir=home.cache_dir
        )
        overlay = Overlay(path=path, entries={k: dict(v) for k, v in raw.items()}, catalog=catalog)
        overlay.base = {e["id"]: e for e in base.entries}
        touched = mutate(overlay)
        new_catalog = _validate_result(base, catalog, overlay)
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


def _validate_result(base: CatalogFile, catalog: Catalog, overlay: Overlay) -> dict[str, Any]:
    config = catalog.config
    patches = []
    for raw in overlay.entries.values():
        try:
            patches.append(validate_entry(raw, config.extra_groups))
        except EntryInvalid as exc:
            fld, message = exc.problems[0]
            raise UsageError(f"{raw.get('id')}: {fld + ': ' if fld else ''}{message}") from None
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


# --- deployments ---------------------------------------------------------------------------------

# What an entry's implicit deployment is made of, written out when a second one is added.
_IMPLICIT_FIELDS = ("id", "provider", "model", "api_base", "auth")


def add_deployment(name: str, fields: dict[str, Any]) -> Mutation:
    """Add a deployment (`fields`: its id, provider and any other field) to an LLM. An LLM
    without written deployments first gets its implicit one written out. The mutation
    raises UsageError for a duplicate id or a missing provider, UnknownNameError for an
    unknown LLM or provider."""

    def mutate(overlay: Overlay) -> list[str]:
        llm_id, current = _deployments_of(overlay, name)
        dep_id, provider = fields.get("id"), fields.get("provider")
        if not dep_id or not provider:
            raise UsageError("a deployment needs an id (--id) and a provider (--provider)")
        check_provider(provider, overlay.catalog.config.providers)
        if any(d["id"] == dep_id for d in current):
            raise UsageError(
                f"{llm_id} already has a deployment {dep_id!r}",
                hint=f"`llmctl deployment edit {llm_id} {dep_id} ...` changes it",
            )
        _check_deployment(overlay, llm_id, fields)
        _write_deployments(overlay, llm_id, [*current, dict(fields)])
        return [llm_id]

    return mutate


def edit_deployment(name: str, dep_id: str, fields: dict[str, Any]) -> Mutation:
    """Change fields of one deployment of an LLM (`auth` keys are merged into its own).
    The mutation raises UnknownNameError for an unknown LLM, deployment or provider."""

    def mutate(overlay: Overlay) -> list[str]:
        llm_id, current = _deployments_of(overlay, name)
        index = _index_of(llm_id, current, dep_id)
        if "provider" in fields:
            check_provider(fields["provider"], overlay.catalog.config.providers)
        changed = {**current[index], **fields}
        if "auth" in fields:
            changed["auth"] = {**current[index].get("auth", {}), **fields["auth"]}
        _check_deployment(overlay, llm_id, changed)
        changed = Deployment(**changed).to_catalog_dict(llm_id)
        if changed == current[index]:
            return []  # nothing to change: an implicit deployment is not written out for nothing
        current[index] = changed
        _write_deployments(overlay, llm_id, current)
        return [llm_id]

    return mutate


def remove_deployment(name: str, dep_id: str) -> Mutation:
    """Remove one deployment of an LLM. The mutation raises UsageError for its only one
    (an LLM is reached through at least one), UnknownNameError for an unknown LLM or id."""

    def mutate(overlay: Overlay) -> list[str]:
        llm_id, current = _deployments_of(overlay, name)
        index = _index_of(llm_id, current, dep_id)
        if len(current) == 1:
            raise UsageError(
                f"{dep_id!r} is the only deployment of {llm_id}, and an LLM is reached through at "
                "least one: nothing removed",
                hint=f"add another first (`llmctl deployment add {llm_id} --id ID --provider P`), "
                f"or `llmctl disable {llm_id}`",
            )
        del current[index]
        _write_deployments(overlay, llm_id, current)
        if index == 0:
            overlay.notes.append(
                f"{llm_id}'s provider is now {current[0]['provider']}: an LLM's provider is its "
                f"first deployment's, now {current[0]['id']!r}"
            )
        return [llm_id]

    return mutate


def _deployments_of(overlay: Overlay, name: str) -> tuple[str, list[dict[str, Any]]]:
    """The LLM's id and its deployments as a catalog file writes them: the written ones,
    else its implicit one (id = its provider). Raises UnknownNameError for an unknown LLM."""
    llm_id = overlay.catalog.resolve_id(name)
    entry = overlay.catalog.entries[llm_id]
    if entry.deployments:
        return llm_id, [d.to_catalog_dict(llm_id) for d in entry.deployments]
    implicit = entry.routes()[0].to_catalog_dict(llm_id)
    return llm_id, [{k: v for k, v in implicit.items() if k in _IMPLICIT_FIELDS}]


def _check_deployment(overlay: Overlay, llm_id: str, deployment: dict[str, Any]) -> None:
    """Raise UsageError naming the deployment and field of its first problem (a bad id, a
    negative weight, an order under 1, a literal key...)."""
    try:
        validate_entry({"id": llm_id, "deployments": [deployment]}, overlay.catalog.config.extra_groups)
    except EntryInvalid as exc:
        fld, message = exc.problems[0]
        fld = re.sub(r"^deployments(\.0\.|\[0\]\.)?", "", fld or "")
        message = re.sub(r"^deployments(\.0\.|\[0\]\.)", "", message)
        # A bad id is named in the message (never echoed when it looks like a key).
        what = (
            "a deployment"
            if fld == "id" or message.startswith("id ")
            else f"deployment {deployment.get('id')!r}"
        )
        raise UsageError(f"{what} of {llm_id}: {fld + ': ' if fld else ''}{message}") from None


def _index_of(llm_id: str, deployments: list[dict[str, Any]], dep_id: str) -> int:
    ids = [d["id"] for d in deployments]
    if dep_id not in ids:
        raise UnknownNameError(
            f"deployment of {llm_id}", dep_id, ids, hint=f"it has {', '.join(map(repr, ids))}"
        )
    return ids.index(dep_id)


def _write_deployments(overlay: Overlay, llm_id: str, deployments: list[dict[str, Any]]) -> None:
    """Set the LLM's deployments in the user catalog. The entry's own provider, model, base
    URL and key follow its first deployment: the contract makes the entry's provider its
    first deployment's, and what sends by the entry's own fields must reach that one."""
    patch = overlay.patch(llm_id)
    base = overlay.base.get(llm_id, {})
    # As a catalog file writes them: no default values (`--enabled` writes nothing back).
    deployments = [Deployment(**d).to_catalog_dict(llm_id) for d in deployments]
    patch["deployments"] = deployments
    first = deployments[0]
    for key in ("provider", "router"):  # whichever name the file uses
        if key in patch:
            patch[key] = first["provider"]
    model = first.get("model") or default_model(llm_id, first["provider"])
    for key, value, absent in (
        ("model", model, model),  # an entry with deployments and no model takes the first's
        ("api_base", first.get("api_base"), None),
        ("auth", first.get("auth"), None),
    ):
        if value is None or base.get(key, absent) == value:
            patch.pop(key, None)  # the base's value (or the derived one) is already right
        else:
            patch[key] = value
