"""`catalog status`: how old the catalog's figures are, per source, and which entries are
retired (past their `deprecation_date`) or retire within 30 days while still enabled or
named in a book, with the command that refreshes them. Reads files only: no network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog
from llmctl.paths import Home

WARN_DAYS = 30  # an entry retiring within this many days is named before it happens
# `source` is "KIND what" ("openrouter openai/gpt-5", "modelsdev import"): the kind, one spelling.
_KINDS = {"modelsdev": "models.dev"}
# The sources `catalog update` downloads, newest reference first.
UPDATE_SOURCES = ("litellm", "openrouter", "modelsdev")


def source_kind(entry: LLM) -> str:
    """The reference an entry's figures come from (`openrouter`, `models.dev`, `litellm`,
    `ollama`...), `unknown` when it says none."""
    word = (entry.source or "unknown").split()[0]
    return _KINDS.get(word, word)


def named_in_books(home: Home, catalog: Catalog) -> dict[str, list[str]]:
    """id -> the books naming it (as their override or a group's default). A book that
    does not load names nothing here: `book show` reports its problem."""
    from llmctl.errors import LlmctlError
    from llmctl.prefs.books import list_books, load_book

    named: dict[str, list[str]] = {}
    for name in list_books(home):
        try:
            book = load_book(home, name, catalog.config.groups)
        except LlmctlError:
            continue
        for llm in {book.override, *book.defaults.values()}:
            if llm is not None and llm in catalog:
                named.setdefault(catalog.resolve_id(llm), []).append(name)
    return named


def catalog_status(
    catalog: Catalog, named: Mapping[str, list[str]], today: str | None = None
) -> dict[str, Any]:
    """`{"sources": [{"source", "entries", "oldest", "newest"}], "retired": [ids],
    "retiring": [{"id", "date", "replacement"}], "stale_days", "refresh": [commands]}`;
    `stale_days` is the age of the oldest figure (None when no entry says its date).
    Only entries enabled or named in a book (`named`: id -> books) are listed as retired
    or retiring: a disabled, unused one harms no one."""
    today = today or catalog.today
    horizon = (dt.date.fromisoformat(today) + dt.timedelta(days=WARN_DAYS)).isoformat()
    by_kind: dict[str, list[str]] = {}
    retired, retiring = [], []
    for entry in catalog:
        by_kind.setdefault(source_kind(entry), []).append(entry.updated or "")
        if not (entry.enabled or entry.id in named) or not entry.deprecation_date:
            continue
        if entry.retired(today):
            retired.append(entry.id)
        elif entry.deprecation_date <= horizon:
            retiring.append(
                {"id": entry.id, "date": entry.deprecation_date, "replacement": entry.replacement}
            )
    sources = [
        {
            "source": kind,
            "entries": len(dates),
            "oldest": min((d for d in dates if d), default=None),
            "newest": max((d for d in dates if d), default=None),
        }
        for kind, dates in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    oldest = min((str(s["oldest"]) for s in sources if s["oldest"]), default=None)
    stale = None if oldest is None else (dt.date.fromisoformat(today) - dt.date.fromisoformat(oldest)).days
    return {
        "sources": sources,
        "retired": sorted(retired),
        "retiring": sorted(retiring, key=lambda r: (r["date"], r["id"])),
        "stale_days": stale,
        "refresh": [f"llmctl catalog update {name}" for name in UPDATE_SOURCES],
    }
