"""Bring the user's catalog up to date from outside: `catalog import FILE` and
`catalog sync PROVIDER` (seed 004's capability detection). Both decide which existing
entry an incoming model is with one matcher, and refresh the same fields.

Import adds new models (enabled, with the groups given) and refreshes known ones; sync
adds new models disabled and without groups, refreshes known ones and flags models
that vanished from the provider's list as deprecated. Either way the user's groups,
priority and enabled flag are kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog.edit import Mutation, Overlay, change_catalog
from llmctl.catalog.entry import LLM, default_model
from llmctl.catalog.load import Catalog
from llmctl.errors import UsageError
from llmctl.paths import Home

# Fields an import or sync refreshes on an entry that already exists.
REFRESHED = (
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "cache_read_cost_per_mtok",
    "cache_write_cost_per_mtok",
    "input_cost_per_mtok_above_200k",
    "output_cost_per_mtok_above_200k",
    "context_length",
    "max_output_tokens",
    "capabilities",
    "deprecated",
    "deprecation_date",
)
SERVED_ELSEWHERE = "served by another provider"
KEPT_NEWER = "kept newer"  # fields whose entry was checked after the source's date
ALIAS_MOVED = "alias moved to the model it names now"


@dataclass
class Matcher:
    """Which catalog entry an incoming model is: the entry with its id, or the entry of the
    same provider serving the same provider-side model (`groq/llama-3.3-70b-versatile` is
    the catalog's `meta-llama/llama-3.3-70b-versatile`)."""

    catalog: Catalog
    by_model: dict[tuple[str, str], LLM] = field(init=False)

    def __post_init__(self) -> None:
        self.by_model = {(e.provider, e.model): e for e in self.catalog}

    def find(self, item: dict[str, Any]) -> LLM | None:
        """The existing entry `item` is, or None for a new model."""
        if item["id"] in self.catalog.entries:
            return self.catalog.entries[item["id"]]
        provider = item.get("provider") or ""
        return self.by_model.get((provider, item.get("model") or default_model(item["id"], provider)))

    @staticmethod
    def elsewhere(current: LLM, item: dict[str, Any]) -> bool:
        """The same id served by another provider: OpenRouter's price is not DeepSeek's, so
        it is left alone."""
        return current.provider != item.get("provider", current.provider)

    @staticmethod
    def changes(current: LLM, item: dict[str, Any]) -> dict[str, Any]:
        """The refreshed fields whose incoming value differs (lists compared as sets)."""
        return {f: item[f] for f in REFRESHED if f in item and not same(getattr(current, f), item[f])}


def same(current: Any, incoming: Any) -> bool:
    """Equal, with lists compared as sets (capability order carries no meaning)."""
    if isinstance(current, list) and isinstance(incoming, list):
        return set(current) == set(incoming)
    return current == incoming


# --- import ---------------------------------------------------------------------------------------


def import_entries(
    entries: list[dict[str, Any]],
    groups: list[str],
    *,
    foreign: bool = True,
    stats: dict[str, int] | None = None,
    as_of: str | None = None,
    force: bool = False,
) -> Mutation:
    """Add new entries and refresh prices, limits and capabilities of existing ones.

    Entries from a foreign format (LiteLLM, OpenRouter, models.dev) are added with
    `groups`; entries of an llmctl catalog or the seeds' records keep their own groups
    (`groups` fills in where they have none) and enabled flag. A field of an entry whose
    `updated` is after `as_of` is kept (counted as "kept newer") unless `force`; a
    refreshed entry gets `updated` = `as_of`. `stats` counts what was left alone."""
    stats = {} if stats is None else stats

    def count(why: str, n: int = 1) -> None:
        stats[why] = stats.get(why, 0) + n

    def mutate(overlay: Overlay) -> list[str]:
        touched = []
        matcher = Matcher(overlay.catalog)
        for entry in entries:
            current = matcher.find(entry)
            if current is not None and matcher.elsewhere(current, entry):
                count(SERVED_ELSEWHERE)
                continue
            moved = _take_aliases(overlay, current.id if current else entry["id"], entry.get("aliases", []))
            touched += moved
            if moved:
                count(ALIAS_MOVED, len(moved))
            if current is not None:
                changed = matcher.changes(current, entry)
                if changed and not force and as_of and current.updated and current.updated > as_of:
                    count(KEPT_NEWER, len(changed))
                    changed = {}
                if changed:
                    stamp = {k: entry[k] for k in ("updated", "source") if entry.get(k)}
                    overlay.patch(current.id).update({**changed, **stamp})
                touched.append(current.id)
                continue
            new = dict(entry)
            if "embeddings" not in new.get("capabilities", ()) and (foreign or not new.get("valid_groups")):
                new["valid_groups"] = list(groups)
            overlay.entries[entry["id"]] = new
            touched.append(entry["id"])
        return list(dict.fromkeys(touched))

    return mutate


def _take_aliases(overlay: Overlay, target: str, aliases: list[str]) -> list[str]:
    """Give `target` the `aliases` a source names for it (`~vendor/model-latest` moves to the
    newest model): an alias another entry holds is taken from it. Returns those entries' ids."""
    losers = []
    for alias in aliases:
        owner = overlay.catalog.aliases.get(alias)
        if owner is None or owner == target:
            continue
        held = overlay.entries.get(owner, {}).get("aliases") or overlay.catalog.entries[owner].aliases
        overlay.patch(owner)["aliases"] = [a for a in held if a != alias]
        losers.append(owner)
    current = overlay.catalog.entries.get(target)
    if current is not None and aliases:
        have = overlay.entries.get(target, {}).get("aliases") or current.aliases
        wanted = [*have, *(a for a in aliases if a not in have)]
        if wanted != list(have):
            overlay.patch(target)["aliases"] = wanted
    return losers


def import_file(
    home: Home,
    catalog_arg: str | os.PathLike[str] | None,
    catalog: Catalog,
    path: Path,
    fmt: str | None,
    groups: list[str],
    *,
    dry_run: bool = False,
    as_of: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Import `path` into the user catalog (or, with `dry_run`, only count what would change).

    `as_of` (YYYY-MM-DD; default: the file's modification date) is when the file's figures
    were true: entries checked after it keep their fields unless `force`. Returns the
    summary shown by `catalog import`. Raises UnknownNameError for an unknown group or
    format, UsageError for a bad date, FileError for a file in another format.
    """
    from llmctl.catalog.formats import FOREIGN, check_groups, read_import
    from llmctl.providers.table import provider_names

    check_groups(groups, catalog.config.groups)
    as_of = check_date(as_of) if as_of is not None else file_date(path)
    imported = read_import(path, fmt, sendable=provider_names(catalog.config.providers))
    foreign = imported.format in FOREIGN
    for entry in imported.entries:
        if foreign or "updated" not in entry:
            entry.setdefault("updated", as_of)
        if foreign:
            entry.setdefault("source", f"{imported.format} import")
    summary: dict[str, Any] = {
        "format": imported.format,
        "as_of": as_of,
        "read": len(imported.entries),
        "skipped": imported.skipped,
        "fixed": imported.fixed,
    }
    left_alone: dict[str, int] = {}
    mutation = import_entries(
        imported.entries, groups, foreign=foreign, stats=left_alone, as_of=as_of, force=force
    )
    if dry_run:
        matcher = Matcher(catalog)
        new = sum(1 for e in imported.entries if matcher.find(e) is None)
        summary.update(new=new, existing=len(imported.entries) - new, dry_run=True)
        return summary
    result = change_catalog(home, catalog_arg, "import", mutation)
    kept = left_alone.pop(KEPT_NEWER, 0)
    moved = left_alone.pop(ALIAS_MOVED, 0)
    if moved:
        imported.fixed[ALIAS_MOVED] = moved
    imported.skipped.update(left_alone)
    added = sum(1 for c in result.changes if c.before is None)
    summary.update(
        added=added,
        updated=len(result.changes) - added,
        unchanged=len(imported.entries) - len(result.changes) - sum(left_alone.values()),
        kept_newer=kept,
        file=str(result.path),
    )
    return summary


def check_date(value: str) -> str:
    """A YYYY-MM-DD date, or UsageError (exit 2)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"--as-of takes a date written YYYY-MM-DD, not {value!r}") from None


def file_date(path: Path) -> str:
    """The UTC date a file was last modified (when its figures were true, as far as we know)."""
    import datetime as dt

    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()
    except OSError:
        return dt.datetime.now(dt.UTC).date().isoformat()


# --- sync -----------------------------------------------------------------------------------------


def plan_sync(catalog: Catalog, provider: str, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a sync would change: [{"id", "action": add|update|deprecate, "changes": {...}}]."""
    matcher = Matcher(catalog)
    plan = []
    for item in listed:
        item = {"provider": provider, **item}
        current = matcher.find(item)
        if current is not None and matcher.elsewhere(current, item):
            continue
        if current is None:
            new = {**item, "enabled": False, "valid_groups": []}
            plan.append({"id": item["id"], "action": "add", "changes": new})
            continue
        changes = matcher.changes(current, item)
        if changes:
            plan.append({"id": current.id, "action": "update", "changes": changes})
    listed_models = {item.get("model") or default_model(item["id"], provider) for item in listed}
    for entry in catalog:
        vanished = entry.model not in listed_models and entry.id not in listed_models
        if entry.provider == provider and vanished and not entry.deprecated:
            plan.append({"id": entry.id, "action": "deprecate", "changes": {"deprecated": True}})
    return plan


def apply_sync(plan: list[dict[str, Any]]) -> Mutation:
    """A Mutation applying `plan` to the user catalog."""

    def mutate(overlay: Overlay) -> list[str]:
        for step in plan:
            if step["action"] == "add":
                overlay.entries[step["id"]] = dict(step["changes"])
            else:
                overlay.patch(step["id"]).update(step["changes"])
        return [step["id"] for step in plan]

    return mutate


def sync_provider(
    home: Home,
    catalog_arg: str | os.PathLike[str] | None,
    catalog: Catalog,
    provider: str,
    listed: list[dict[str, Any]],
    *,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """Plan the sync of `provider`'s listed models and, unless `dry_run`, write it; return the plan."""
    plan = plan_sync(catalog, provider, listed)
    if plan and not dry_run:
        change_catalog(home, catalog_arg, f"catalog sync {provider}", apply_sync(plan))
    return plan
