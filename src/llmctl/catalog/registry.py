"""The registry protocol of seed 001 and an in-memory implementation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from llmctl.catalog.entry import LLM, or_inf


@runtime_checkable
class LLMRegistry(Protocol):
    """Anything that can find LLM entries: the loaded catalog, a dict, a database."""

    def get_by_id(self, llm_id: str) -> LLM | None: ...

    def get_by_tier(self, tier: str) -> LLM | None: ...

    def list_active(self) -> list[LLM]: ...


class DictRegistry:
    """An in-memory registry built from entries (LLM records or catalog dicts)."""

    def __init__(self, entries: Iterable[LLM | dict[str, Any]], *, today: str | None = None) -> None:
        self._entries: dict[str, LLM] = {}
        self.today = today or dt.date.today().isoformat()
        raw = [e for e in entries]
        dicts = [e for e in raw if isinstance(e, dict)]
        built = _build(dicts) if dicts else {}
        for entry in raw:
            llm = built[entry["id"]] if isinstance(entry, dict) else entry
            self._entries[llm.id] = llm

    @classmethod
    def from_catalog(cls, catalog: Any) -> DictRegistry:
        return cls(catalog.entries.values(), today=catalog.today)

    @classmethod
    def from_env(cls, catalog: Any = None) -> DictRegistry:
        """The tier mapping of seed 001 for the providers whose key env vars are set, each
        model with the tier `catalog init --from-env` gives it (`tier_plan`'s one rule)."""
        from dataclasses import replace

        from llmctl.catalog.load import load_catalog
        from llmctl.catalog.tiermap import tier_plan

        catalog = catalog or load_catalog()
        picked = {}
        for _provider, tier, llm_id, note in tier_plan(catalog):
            entry = catalog.entries[llm_id]
            if note.startswith("skipped") or not entry.enabled:
                continue  # unusable with the keys set, or disabled by the user
            picked[llm_id] = replace(entry, tier=tier, tier_derived=False)
        return cls(picked.values(), today=catalog.today)

    def get_by_id(self, llm_id: str) -> LLM | None:
        return self._entries.get(llm_id)

    def get_by_tier(self, tier: str) -> LLM | None:
        """The cheapest active LLM of `tier` by input price (seed 001), or None."""
        matching = [e for e in self.list_active() if e.tier == tier]
        if not matching:
            return None
        return min(
            matching, key=lambda e: (or_inf(e.input_cost_per_mtok), or_inf(e.output_cost_per_mtok), e.id)
        )

    def list_active(self) -> list[LLM]:
        """Enabled, unretired entries by priority."""
        active = [e for e in self._entries.values() if e.enabled and not e.retired(self.today)]
        return sorted(active, key=lambda e: (e.priority, e.id))

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


def _build(dicts: list[dict[str, Any]]) -> dict[str, LLM]:
    """Validate catalog dicts and build entries, as a catalog file would be."""
    from pathlib import Path

    from llmctl.catalog.files import CatalogFile, EntryInvalid, validate_entry
    from llmctl.catalog.load import merge
    from llmctl.errors import UsageError
    from llmctl.prefs.config import Config

    patches = []
    for raw in dicts:
        try:
            patches.append(validate_entry(raw))
        except EntryInvalid as exc:
            fld, message = exc.problems[0]
            raise UsageError(f"{raw.get('id')}: {fld + ': ' if fld else ''}{message}") from None
    return merge(CatalogFile(Path("<entries>"), patches), None, Config(), "registry")
