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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmctl.catalog.edit import Mutation, Overlay, change_catalog
from llmctl.catalog.entry import LLM, PRICE_FIELDS, Deployment, default_model
from llmctl.catalog.load import Catalog
from llmctl.errors import UsageError
from llmctl.paths import Home

if TYPE_CHECKING:
    from llmctl.catalog.formats.common import Imported

# Fields an import or sync refreshes on an entry that already exists.
REFRESHED = (
    *PRICE_FIELDS,
    "context_length",
    "max_input_tokens",
    "max_output_tokens",
    "capabilities",
    "deprecated",
    "deprecation_date",
)
SERVED_ELSEWHERE = "served by another provider"
KEPT_NEWER = "kept newer"  # fields whose entry was checked after the source's date
ALIAS_MOVED = "alias moved to the model it names now"
NOT_KNOWN = "not in the catalog (--only-known)"
ROUTE_PRICED = "deployment prices refreshed"


@dataclass
class Source:
    """What a source says beyond its entries: per id, the capabilities its row states
    (others are kept; no id: it states them all), and the fields it only fills in."""

    stated: Mapping[str, frozenset[str]] = field(default_factory=dict)
    fill_only: frozenset[str] = frozenset()


@dataclass
class Matcher:
    """Which catalog entry an incoming model is: the entry with its id, or the entry one of
    whose deployments serves the same provider-side model at the same provider
    (`groq/llama-3.3-70b-versatile` is the catalog's `meta-llama/llama-3.3-70b-versatile`)."""

    catalog: Catalog
    by_model: dict[tuple[str, str], LLM] = field(init=False)

    def __post_init__(self) -> None:
        self.by_model = {}
        for entry in self.catalog:
            for route in entry.routes():
                key = (route.provider, route.model or default_model(entry.id, route.provider))
                self.by_model.setdefault(key, entry)

    def find(self, item: dict[str, Any]) -> LLM | None:
        """The existing entry `item` is, or None for a new model."""
        provider = item.get("provider") or ""
        by_model = self.by_model.get((provider, item.get("model") or default_model(item["id"], provider)))
        if item["id"] in self.catalog.entries:
            current = self.catalog.entries[item["id"]]
            # The same id served elsewhere, while a deployment of another entry serves it here.
            return by_model if by_model is not None and self.elsewhere(current, item) else current
        return by_model

    @staticmethod
    def elsewhere(current: LLM, item: dict[str, Any]) -> bool:
        """The model is the entry's, but the item's provider is none of its deployments':
        OpenRouter's price is not DeepSeek's, so it is left alone."""
        provider = item.get("provider", current.provider)
        return all(route.provider != provider for route in current.routes())

    @staticmethod
    def route(current: LLM, item: dict[str, Any]) -> Deployment | None:
        """The entry's deployment at the item's provider when it is not the first one (whose
        figures are the entry's own), else None."""
        routes = current.routes()
        provider = item.get("provider", current.provider)
        if routes[0].provider == provider:
            return None
        return next((r for r in routes if r.provider == provider), None)

    @staticmethod
    def changes(current: LLM, item: dict[str, Any], source: Source | None = None) -> dict[str, Any]:
        """The refreshed fields whose incoming value differs (lists compared as sets): a
        field the source only fills in is left where the entry has it, and capabilities
        the source does not state are kept."""
        source = source or Source()
        found = {}
        for name in REFRESHED:
            if name not in item or (name in source.fill_only and getattr(current, name) is not None):
                continue
            value = item[name]
            if name == "capabilities":
                value = merged_capabilities(current.capabilities, value, source.stated.get(item["id"]))
            if not same(getattr(current, name), value):
                found[name] = value
        return found


def merged_capabilities(current: list[str], incoming: list[str], says: frozenset[str] | None) -> list[str]:
    """The entry's capabilities after a source that states `says` (None: all of them) and
    gives `incoming`: those it does not state are kept (an embedding model stays one,
    `streaming` is never dropped)."""
    if says is None:
        return list(incoming)
    kept = [c for c in current if c not in says or c in incoming]
    return kept + [c for c in incoming if c in says and c not in kept]


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
    source: Source | None = None,
    only_known: bool = False,
) -> Mutation:
    """Add new entries and refresh prices, limits and capabilities of existing ones.

    Entries from a foreign format (LiteLLM, OpenRouter, models.dev) are added with
    `groups`; entries of an llmctl catalog or the seeds' records keep their own groups
    (`groups` fills in where they have none) and enabled flag. A field of an entry whose
    `updated` is after `as_of` is kept (counted as "kept newer") unless `force`; a
    refreshed entry gets `updated` = `as_of`. `source` says what the source states (see
    `Matcher.changes`); `only_known` adds no entry (counted). `stats` counts what was left
    alone."""
    stats = {} if stats is None else stats

    def count(why: str, n: int = 1) -> None:
        stats[why] = stats.get(why, 0) + n

    def mutate(overlay: Overlay) -> list[str]:
        touched = []
        matcher = Matcher(overlay.catalog)
        for entry in entries:
            current = matcher.find(entry)
            if current is None and only_known:
                count(NOT_KNOWN)
                continue
            # An alias names the model wherever it is served: it lands even when the figures do not.
            moved = _take_aliases(overlay, current.id if current else entry["id"], entry.get("aliases", []))
            touched += moved
            if moved:
                count(ALIAS_MOVED, len(moved))
            if current is not None and matcher.elsewhere(current, entry):
                count(SERVED_ELSEWHERE)
                continue
            route = matcher.route(current, entry) if current is not None else None
            if current is not None and route is not None:
                if _refresh_route(overlay, current, route, entry):
                    count(ROUTE_PRICED)
                touched.append(current.id)
                continue
            if current is not None:
                changed = matcher.changes(current, entry, source)
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


def _refresh_route(overlay: Overlay, current: LLM, route: Deployment, item: dict[str, Any]) -> bool:
    """Give the deployment `route` of `current` the item's prices (the model's other figures
    are the entry's, from its first deployment's source). Returns whether any changed."""
    prices = {n: item[n] for n in PRICE_FIELDS if n in item and getattr(route, n) != item[n]}
    if not prices:
        return False
    held = overlay.entries.get(current.id, {}).get("deployments")
    deployments = held or [d.to_catalog_dict(current.id) for d in current.deployments]
    overlay.patch(current.id)["deployments"] = [
        {**d, **prices} if d["id"] == route.id else d for d in deployments
    ]
    return True


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
    only_known: bool = False,
) -> dict[str, Any]:
    """Import `path` into the user catalog (or, with `dry_run`, only count what would change).

    `as_of` (YYYY-MM-DD; default: the file's modification date) is when the file's figures
    were true: entries checked after it keep their fields unless `force`. Returns the
    summary shown by `catalog import`. Raises UnknownNameError for an unknown group or
    format, UsageError for a bad date, FileError for a file in another format or of a
    wrong structure (nothing imported).
    """
    from llmctl.catalog.formats import check_groups, read_import
    from llmctl.providers.table import provider_names

    check_groups(groups, catalog.config.groups)
    as_of = check_date(as_of) if as_of is not None else file_date(path)
    imported = read_import(path, fmt, sendable=provider_names(catalog.config.providers))
    return apply_import(
        home, catalog_arg, catalog, imported, groups,
        dry_run=dry_run, as_of=as_of, force=force, only_known=only_known,
    )  # fmt: skip


def apply_import(
    home: Home,
    catalog_arg: str | os.PathLike[str] | None,
    catalog: Catalog,
    imported: Imported,
    groups: list[str],
    *,
    as_of: str,
    dry_run: bool = False,
    force: bool = False,
    only_known: bool = False,
    verb: str = "import",
) -> dict[str, Any]:
    """Write what was read (`imported`, figures true on `as_of`) into the user catalog, or
    with `dry_run` only count it; returns the summary (see `import_file`). `verb` names the
    change in the audit and the entries' `source` (`openrouter update`)."""
    from llmctl.catalog.formats import FOREIGN

    foreign = imported.format in FOREIGN
    for entry in imported.entries:
        if foreign or "updated" not in entry:
            entry.setdefault("updated", as_of)
        if foreign:
            entry.setdefault("source", f"{imported.format} {verb}")
    summary: dict[str, Any] = {
        "format": imported.format,
        "as_of": as_of,
        "read": len(imported.entries),
        "skipped": imported.skipped,
        "fixed": imported.fixed,
    }
    left_alone: dict[str, int] = {}
    mutation = import_entries(
        imported.entries, groups, foreign=foreign, stats=left_alone, as_of=as_of, force=force,
        source=Source(imported.stated, imported.fill_only), only_known=only_known,
    )  # fmt: skip
    if dry_run:
        matcher = Matcher(catalog)
        new = sum(1 for e in imported.entries if matcher.find(e) is None)
        if only_known and new:
            imported.skipped[NOT_KNOWN] = new
        summary.update(new=0 if only_known else new, existing=len(imported.entries) - new, dry_run=True)
        return summary
    result = change_catalog(home, catalog_arg, verb, mutation)
    kept = left_alone.pop(KEPT_NEWER, 0)
    for rule in (ALIAS_MOVED, ROUTE_PRICED):
        if left_alone.get(rule):
            imported.fixed[rule] = left_alone.pop(rule)
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
