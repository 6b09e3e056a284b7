"""The Python API of the seeds: `select_llm_for_job`, `get_llm`.

The CLI calls the same functions, so both apply one implementation of the rules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmctl.catalog import Catalog, load_catalog
from llmctl.decision import Decision
from llmctl.errors import UsageError
from llmctl.paths import Home
from llmctl.picker import Latency, Picker, Unavailable
from llmctl.records import LLM
from llmctl.selection import Selection, build_request


def decide(
    selection: Selection,
    *,
    catalog: Catalog | None = None,
    home: Home | None = None,
    explain: bool = False,
    env: Mapping[str, str] | None = None,
    unavailable: Unavailable | None = None,
    latency: Latency | None = None,
) -> tuple[Decision, list[str]]:
    """Return the picker's Decision for `selection` and the warnings raised on the way.

    `unavailable` says why an LLM cannot be used now (default: the cooldown state);
    `latency` gives observed latencies for `fastest` (default: the usage store).

    Raises UnknownNameError/UsageError (exit 2) for bad names, FileError (exit 3) for
    broken files, NoMatchError (exit 4) when no LLM fits.
    """
    home = home or Home.resolve()
    catalog = catalog or load_catalog(home)
    request, warnings = build_request(catalog, home, selection)
    if unavailable is None:
        from llmctl.cooldown import Cooldown

        unavailable = Cooldown.for_home(home, catalog.config.providers).hook()
    if latency is None and (request.strategy or catalog.config.strategy) == "fastest":
        from llmctl.usage import UsageStore

        latency = UsageStore.for_home(home).latencies().get
    decision = Picker(catalog, env=env, unavailable=unavailable, latency=latency).decide(
        request, explain=explain
    )
    return decision, warnings + decision.warnings


def effective_choices(
    book: str, *, catalog: Catalog, home: Home, assume_available: bool = False
) -> dict[str, str | None]:
    """The LLM each group (but `override`) would get now in `book`; None when nothing fits."""
    from llmctl.errors import NoMatchError

    out: dict[str, str | None] = {}
    for group in catalog.config.groups:
        if group == "override":
            continue
        try:
            decision, _warnings = decide(
                Selection(book=book, group=group, assume_available=assume_available),
                catalog=catalog,
                home=home,
            )
            out[group] = decision.llm.id
        except NoMatchError:
            out[group] = None
    return out


def select_llm_for_job(
    job: Any,
    book: Any = None,
    job_props: Mapping[str, Any] | None = None,
    *,
    catalog: Catalog | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    **options: Any,
) -> LLM:
    """Return the LLM entry a job gets in a book (seed 000); use `.id` in your call.

    `job` is a job name or a class with `allowed_llm_group`; `book` a book id (or None);
    `job_props` may name an LLM with `llm_id`. Options: tier, strategy, allow_upgrade,
    max_attempts, assume_available. Raises NoMatchError when nothing fits.
    """
    home = home if isinstance(home, Home) else Home.resolve(home)
    book_name = getattr(book, "id", book)
    selection = Selection(
        book=None if book_name is None else str(book_name),
        job=job,
        props=dict(job_props or {}),
        source="job props",
        **options,
    )
    decision, _warnings = decide(selection, catalog=catalog, home=home)
    return decision.llm


def get_llm(
    llm_id: str | None = None,
    *,
    scope: str = "global",
    catalog: Catalog | None = None,
    home: Home | str | os.PathLike[str] | None = None,
    assume_available: bool = False,
) -> LLM:
    """Return the entry to use (seed 002).

    With `llm_id`: that entry (an id or alias), whether or not its key is set now; the
    client checks the key when it sends. Without: the scope's default, else the enabled
    LLM of lowest priority whose key is set. Raises UnknownNameError for an unknown id,
    UsageError for a disabled or retired one and NoMatchError when nothing is usable.
    """
    home = home if isinstance(home, Home) else Home.resolve(home)
    catalog = catalog or load_catalog(home)
    if llm_id is not None:
        entry = catalog.get(llm_id)
        if not entry.enabled or entry.retired(catalog.today):
            state = "disabled" if not entry.enabled else f"retired since {entry.deprecation_date}"
            raise UsageError(
                f"{entry.id} is {state}", hint=f"use {entry.replacement}" if entry.replacement else None
            )
        return entry
    selection = Selection(scope=scope, assume_available=assume_available, source="get_llm()")
    decision, _warnings = decide(selection, catalog=catalog, home=home)
    return decision.llm
