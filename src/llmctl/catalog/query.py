"""Filter and sort catalog entries (the `list` command's core), and describe one (`show`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from llmctl.catalog.entry import CAPABILITIES, LLM, TIERS, blended_cost, or_inf, quality_key
from llmctl.catalog.load import Catalog
from llmctl.errors import UnknownNameError, UsageError
from llmctl.providers import resolve
from llmctl.providers.table import provider_names

SORTS = ("quality", "cost", "speed", "context", "priority", "id")


@dataclass
class Query:
    group: str | None = None
    tier: str | None = None
    provider: str | None = None
    company: str | None = None
    capabilities: list[str] = field(default_factory=list)
    min_context: int | None = None
    max_input_cost: float | None = None
    max_output_cost: float | None = None
    search: str | None = None
    available: bool = False
    include_all: bool = False
    sort: str = "quality"


def check_query(query: Query, catalog: Catalog) -> None:
    """Refuse unknown names typed on the command line (exit 2 with the closest matches)."""
    groups = tuple(catalog.config.groups)
    providers = tuple(sorted({*provider_names(catalog.config.providers), *(e.provider for e in catalog)}))
    if query.provider is not None and query.provider not in providers:
        raise UnknownNameError("provider", query.provider, providers, hint=f"valid: {', '.join(providers)}")
    if query.group is not None and query.group not in groups:
        raise UnknownNameError("group", query.group, groups, hint=f"valid: {', '.join(groups)}")
    if query.tier is not None and query.tier not in TIERS:
        raise UnknownNameError("tier", query.tier, TIERS, hint=f"valid: {', '.join(TIERS)}")
    for cap in query.capabilities:
        if cap not in CAPABILITIES:
            raise UnknownNameError("capability", cap, CAPABILITIES, hint=f"valid: {', '.join(CAPABILITIES)}")
    if query.sort not in SORTS:
        raise UnknownNameError("sort", query.sort, SORTS, hint=f"valid: {', '.join(SORTS)}")
    for name, value in (
        ("--min-context", query.min_context),
        ("--max-input-cost", query.max_input_cost),
        ("--max-output-cost", query.max_output_cost),
    ):
        if value is not None and (value != value or value < 0):  # NaN is not a number to compare
            raise UsageError(f"{name} must be a number of 0 or more (got {value})")


def hidden_reason(entry: LLM) -> str | None:
    """Why `list` hides an entry without --all: disabled or deprecated."""
    if not entry.enabled:
        return "disabled"
    if entry.deprecated:
        return "deprecated"
    return None


def matches(entry: LLM, q: Query, has_key: Callable[[LLM], bool] | None = None) -> bool:
    if not q.include_all and hidden_reason(entry):
        return False
    if q.group and q.group not in entry.valid_groups:
        return False
    if q.tier and entry.tier != q.tier:
        return False
    if q.provider and all(d.provider != q.provider for d in entry.routes()):  # by any deployment
        return False
    if q.company and (entry.company or "").lower() != q.company.lower():
        return False
    if any(cap not in entry.capabilities for cap in q.capabilities):
        return False
    if q.min_context is not None and (entry.context_length or 0) < q.min_context:
        return False
    if q.max_input_cost is not None and not _within(entry.input_cost_per_mtok, q.max_input_cost):
        return False
    if q.max_output_cost is not None and not _within(entry.output_cost_per_mtok, q.max_output_cost):
        return False
    if q.search and not _mentions(entry, q.search.lower()):
        return False
    if q.available and has_key is not None and not has_key(entry):
        return False
    return True


def _within(price: float | None, limit: float) -> bool:
    return price is not None and price <= limit


def _mentions(entry: LLM, text: str) -> bool:
    haystack = (entry.id, entry.name or "", entry.description or "", entry.company or "", *entry.aliases)
    return any(text in part.lower() for part in haystack)


def sort_key(sort: str):
    """Key function for a sort name; every key ends with the id so the order is stable."""
    if sort == "quality":
        return quality_key
    if sort == "cost":
        return lambda e: (blended_cost(e), e.id)
    if sort == "speed":
        return lambda e: (or_inf(e.seconds_per_output_mtok), e.id)
    if sort == "context":
        return lambda e: (-(e.context_length or 0), e.id)
    if sort == "priority":
        return lambda e: (e.priority, e.id)
    return lambda e: e.id


def run_query(catalog: Catalog, query: Query, env: Mapping[str, str] | None = None) -> tuple[list[LLM], int]:
    """Check `query` (exit 2 for unknown names) and return the matching entries sorted by
    `query.sort`, and how many more entries `--all` would show (disabled or deprecated)."""
    check_query(query, catalog)
    env = os.environ if env is None else env
    configured = catalog.config.providers

    def has_key(entry: LLM) -> bool:
        return resolve.why_unusable(entry, configured, env) is None

    found = sorted((e for e in catalog if matches(e, query, has_key)), key=sort_key(query.sort))
    if query.include_all:
        return found, 0
    every = replace(query, include_all=True)
    return found, sum(1 for e in catalog if matches(e, every, has_key)) - len(found)


def entry_details(catalog: Catalog, entry: LLM, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The `show --json` object: the entry with its provenance, the variable holding its
    key, whether it can be used now (`available`, and `missing_key` when not) and its status."""
    configured = catalog.config.providers
    why = resolve.why_unusable(entry, configured, env)
    data = entry.to_dict(provenance=True)
    data["key_env"] = resolve.key_env(entry, configured)
    data["key_cmd"] = resolve.key_cmd(entry, configured)
    data["available"] = why is None
    data["missing_key"] = resolve.missing_key(entry, configured, env)
    data["unavailable"] = why
    data["status"] = (
        ("retired" if entry.retired(catalog.today) else "deprecated") if entry.deprecated else None
    )
    return data
