"""Dynamic shell completion: values come from the catalog, books and jobs in use."""

import functools
import os
from typing import Any

import typer


def _home(ctx: Any):
    from llmctl.paths import Home

    root = ctx.find_root() if ctx is not None else None
    params = getattr(root, "params", {}) or {}
    return Home.resolve(params.get("home") or os.environ.get("LLMCTL_HOME"))


def _catalog(ctx: Any):
    from llmctl.catalog.load import load_catalog

    params = getattr(ctx.find_root(), "params", {}) if ctx is not None else {}
    return load_catalog(_home(ctx), (params or {}).get("catalog"))


def _matching(values, incomplete: str) -> list[str]:
    return [v for v in values if v.startswith(incomplete)]


def _safe(func):
    """A completer must never print a traceback into the user's shell."""

    @functools.wraps(func)
    def wrapper(ctx: typer.Context, incomplete: str) -> list[str]:
        try:
            return func(ctx, incomplete)
        except Exception:  # noqa: BLE001 - any failure just means no suggestions
            return []

    return wrapper


@_safe
def complete_llm(ctx: typer.Context, incomplete: str) -> list[str]:
    catalog = _catalog(ctx)
    return _matching([*catalog.entries, *catalog.aliases], incomplete)


@_safe
def complete_deployment(ctx: typer.Context, incomplete: str) -> list[str]:
    """The deployment ids of the LLM named before (`deployment edit LLM <TAB>`)."""
    entry = _catalog(ctx).get(ctx.params.get("llm") or "")
    return _matching([d.id for d in entry.routes()], incomplete)


@_safe
def complete_group(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.prefs.config import load_config

    return _matching(load_config(_home(ctx)).groups, incomplete)


@_safe
def complete_job(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import load_jobs

    home = _home(ctx)
    return _matching(load_jobs(home, load_config(home)), incomplete)


@_safe
def complete_book(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.prefs.books import list_books

    return _matching(list_books(_home(ctx)), incomplete)


@_safe
def complete_tier(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.catalog.entry import TIERS

    return _matching(TIERS, incomplete)


@_safe
def complete_strategy(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.catalog.entry import STRATEGIES

    return _matching(STRATEGIES, incomplete)


@_safe
def complete_provider(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.providers.table import provider_names

    catalog = _catalog(ctx)
    known = set(provider_names(catalog.config.providers)) | {e.provider for e in catalog}
    return _matching(sorted(known), incomplete)


@_safe
def complete_capability(ctx: typer.Context, incomplete: str) -> list[str]:
    from llmctl.catalog.entry import CAPABILITIES

    return _matching(CAPABILITIES, incomplete)
