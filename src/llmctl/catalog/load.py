"""Load, merge and query the catalog.

The base catalog (bundled, or the file named by `--catalog` / `LLMCTL_CATALOG`) is
overlaid by the user's `catalog.toml`/`catalog.json` id by id, field by field.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from llmctl.catalog.entry import LLM, Deployment, default_model
from llmctl.catalog.files import CatalogFile, read_catalog_file
from llmctl.errors import FileError, UnknownNameError, UsageError, did_you_mean
from llmctl.files.cache import cached
from llmctl.paths import ENV_CATALOG, Home, bundled_catalog_path
from llmctl.prefs.config import Config, load_config
from llmctl.providers.table import is_local

ORIGIN_BUNDLED = "bundled catalog"
ORIGIN_BASE = "catalog file"
ORIGIN_USER = "user catalog"
# Field order of a cached merged entry: the LLM record's own, `patched` last; its
# deployments are rows of their own, in the Deployment record's field order.
_LLM_FIELDS = tuple(f.name for f in fields(LLM))
_DEPLOYMENT_FIELDS = tuple(f.name for f in fields(Deployment))
_DEPLOYMENTS = _LLM_FIELDS.index("deployments")
# Cached rows are positional: a change of the records' fields must not read old rows.
_ROW_SHAPE = zlib.crc32(",".join(_LLM_FIELDS + _DEPLOYMENT_FIELDS).encode())


@dataclass
class Catalog:
    """The merged catalog: every entry by id, with aliases and where each came from."""

    entries: dict[str, LLM]
    config: Config = field(default_factory=Config)
    base_path: Path | None = None
    user_path: Path | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    today: str = field(default_factory=lambda: dt.date.today().isoformat())
    # Ids the user catalog patches that the base catalog does not have (ignored, see merge()).
    orphans: list[str] = field(default_factory=list)
    # Derived data that depends only on the entries (e.g. the picker's ranked pools).
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.aliases:
            self.aliases = {a: e.id for e in self.entries.values() for a in e.aliases}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries.values())

    def __contains__(self, llm_id: object) -> bool:
        return llm_id in self.entries or llm_id in self.aliases

    def resolve_id(self, name: str) -> str:
        """Return the id for an id or alias. Raises UnknownNameError with the closest ids."""
        if name in self.entries:
            return name
        if name in self.aliases:
            return self.aliases[name]
        lowered = name.lower()
        for llm_id in self.entries:
            if llm_id.lower() == lowered:
                return llm_id
        # A bare model name (`gpt-4o`) names the one entry whose id ends with it.
        tails = [i for i in self.entries if i.lower().endswith("/" + lowered)]
        if len(tails) == 1:
            return tails[0]
        if len(tails) > 1:
            raise UsageError(
                f"{name!r} is ambiguous: it names {', '.join(sorted(tails))}", hint="give the whole id"
            )
        raise UnknownNameError(
            "LLM", name, list(self.entries) + list(self.aliases), hint="`llmctl list --all` shows every id"
        )

    def get(self, name: str) -> LLM:
        """Return the entry for an id or alias. Raises UnknownNameError (exit 2)."""
        return self.entries[self.resolve_id(name)]

    def sources(self) -> list[tuple[str, Path]]:
        """Return (label, path) of each file the catalog was read from, base first."""
        out = []
        if self.base_path is not None:
            out.append((origin_of(self.base_path), self.base_path))
        if self.user_path is not None:
            out.append((ORIGIN_USER, self.user_path))
        return out


def origin_of(base_path: Path | None) -> str:
    """Label for entries of a base catalog: the bundled one or a team's file."""
    return ORIGIN_BUNDLED if base_path is None or base_path == bundled_catalog_path() else ORIGIN_BASE


def base_catalog_path(catalog: str | os.PathLike[str] | None = None) -> Path:
    """Return the base catalog: the one given, else `$LLMCTL_CATALOG`, else the bundled one."""
    chosen = catalog or os.environ.get(ENV_CATALOG) or None
    return Path(chosen).expanduser() if chosen else bundled_catalog_path()


def load_catalog(
    home: Home | None = None,
    catalog: str | os.PathLike[str] | None = None,
    *,
    config: Config | None = None,
    user: bool = True,
) -> Catalog:
    """Load the base catalog and overlay the user's catalog on it.

    Returns the merged Catalog. Raises FileError (exit 3) for a file that does not
    parse or holds invalid content, naming its path, line, entry and field.
    """
    home = home or Home.resolve()
    explicit_config = config is not None
    config = config or load_config(home)
    base_path = base_catalog_path(catalog)
    user_path = home.user_catalog() if user else None

    def build() -> dict[str, Any]:
        orphans: list[str] = []
        entries = _merge_files(home, config, base_path, user_path, orphans)
        return {
            "rows": [_row(e) for e in entries.values()],
            # The rows with written deployments: the only ones that need more than LLM(*row).
            "deployed": [n for n, e in enumerate(entries.values()) if e.deployments],
            "orphans": orphans,
        }

    if explicit_config:  # a config given in code is not keyed by any file
        data = build()
    else:
        salt = f"merged:{sys.version_info[:2]}:{_ROW_SHAPE}"
        data = cached([base_path, user_path, config.path], home.cache_dir, salt, build)
    rows = data["rows"]
    for n in data["deployed"]:  # few entries write deployments; the implicit one is made on demand
        rows[n][_DEPLOYMENTS] = [Deployment(*d) for d in rows[n][_DEPLOYMENTS]]
    entries: dict[str, LLM] = {}
    for row in rows:
        row[-1] = tuple(row[-1])  # the last field, `patched`: the cache's JSON made it a list
        entries[row[0]] = LLM(*row)
    return Catalog(
        entries=entries, config=config, base_path=base_path, user_path=user_path, orphans=data["orphans"]
    )


def _row(entry: LLM) -> list[Any]:
    """A merged entry as a cache row: its fields in order, each deployment a row too."""
    row = [getattr(entry, name) for name in _LLM_FIELDS]
    row[_DEPLOYMENTS] = [[getattr(d, name) for name in _DEPLOYMENT_FIELDS] for d in entry.deployments]
    return row


def _merge_files(
    home: Home, config: Config, base_path: Path, user_path: Path | None, orphans: list[str]
) -> dict[str, LLM]:
    groups = config.extra_groups
    base = read_catalog_file(base_path, extra_groups=groups, cache_dir=home.cache_dir)
    if not base.entries:
        raise FileError(base_path, "the catalog holds no entries", hint="add at least one [[llms]] entry")
    overlay = (
        read_catalog_file(user_path, extra_groups=groups, cache_dir=home.cache_dir) if user_path else None
    )
    return merge(base, overlay, config, origin_of(base_path), orphans)


def merge(
    base: CatalogFile,
    overlay: CatalogFile | None,
    config: Config,
    origin: str,
    orphans: list[str] | None = None,
) -> dict[str, LLM]:
    """Merge the overlay into the base field by field and build the runtime entries.

    An overlay entry for an id the base does not have, and without a provider (or
    deployments, whose first gives it one), patches
    nothing: with `orphans` given its id is collected there and it is left out (a stale
    patch must not lock the user out); without, it is an error naming file and line.
    """
    merged: dict[str, dict[str, Any]] = {e["id"]: dict(e) for e in base.entries}
    defined_in: dict[str, tuple[CatalogFile, str]] = {e["id"]: (base, origin) for e in base.entries}
    patched: dict[str, tuple[str, ...]] = {}
    for patch in overlay.entries if overlay else ():
        llm_id = patch["id"]
        if llm_id in merged:
            merged[llm_id].update(patch)
            patched[llm_id] = tuple(k for k in patch if k != "id")
        elif orphans is not None and not (patch.get("provider") or patch.get("deployments")):
            orphans.append(llm_id)
        elif overlay is not None:  # always, in this loop; said for the type checker
            merged[llm_id] = dict(patch)
            defined_in[llm_id] = (overlay, ORIGIN_USER)
    entries: dict[str, LLM] = {}
    for llm_id in sorted(merged):
        source, label = defined_in[llm_id]
        where = overlay if llm_id in patched and overlay else source
        entries[llm_id] = build_entry(merged[llm_id], config, label, patched.get(llm_id, ()), where)
    check_references(entries, defined_in, overlay, patched)
    return entries


def build_entry(
    data: dict[str, Any], config: Config, origin: str, patched: tuple[str, ...], source: CatalogFile
) -> LLM:
    """Build a runtime entry from merged fields; derive model and tier when absent."""
    llm_id = data["id"]
    deployments = [_deployment(llm_id, d) for d in data.get("deployments") or ()]
    # With deployments, the entry's provider is its first deployment's.
    provider = deployments[0].provider if deployments else data.get("provider")
    if not provider:
        raise FileError(
            source.path,
            "no provider: a new entry needs `provider` (e.g. openai, anthropic, openrouter, ollama)",
            line=source.line(llm_id),
            entry=llm_id,
            field="provider",
        )
    values = {k: v for k, v in data.items() if v is not None}
    values["provider"] = provider
    values["deployments"] = deployments
    derived = deployments[0].model if deployments else default_model(llm_id, provider)
    values["model"] = values.get("model") or derived
    tier = values.get("tier")
    values["tier"] = tier or derive_tier(provider, values.get("output_cost_per_mtok"), config)
    values["tier_derived"] = tier is None
    return LLM(origin=origin, patched=patched, **values)


def _deployment(llm_id: str, data: dict[str, Any]) -> Deployment:
    """A written deployment, its provider-side model derived by the entry's rule when absent."""
    deployment = Deployment(**data)
    deployment.model = deployment.model or default_model(llm_id, deployment.provider)
    return deployment


def derive_tier(provider: str, output_cost: float | None, config: Config) -> str:
    """Tier from provider and output price: local providers are `local`, then by price."""
    if is_local(provider):
        return "local"
    if output_cost is None:
        return "standard"
    if output_cost <= config.tiers.economy_max_output_cost:
        return "economy"
    if output_cost >= config.tiers.premium_min_output_cost:
        return "premium"
    return "standard"


def check_references(
    entries: dict[str, LLM],
    defined_in: dict[str, tuple[CatalogFile, str]],
    overlay: CatalogFile | None,
    patched: dict[str, tuple[str, ...]],
) -> None:
    """Aliases must be unique and not shadow ids; replacements must exist."""

    def file_of(llm_id: str) -> CatalogFile:
        return overlay if overlay and llm_id in patched else defined_in[llm_id][0]

    seen: dict[str, str] = {}
    for entry in entries.values():
        for alias in entry.aliases:
            clash = alias if alias in entries else seen.get(alias)
            if clash:
                src = file_of(entry.id)
                raise FileError(
                    src.path,
                    f"alias {alias!r} is already the {'id' if alias in entries else 'alias'} of {clash!r}",
                    line=src.line(entry.id),
                    entry=entry.id,
                    field="aliases",
                )
            seen[alias] = entry.id
        if entry.replacement and entry.replacement not in entries:
            src = file_of(entry.id)
            raise FileError(
                src.path,
                f"replacement {entry.replacement!r} is not in the catalog"
                + did_you_mean(entry.replacement, entries),
                line=src.line(entry.id),
                entry=entry.id,
                field="replacement",
            )
