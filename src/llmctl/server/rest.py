"""The REST endpoints (seed 000): LLMs, books, pick and usage, with the JSON of the
commands that show the same things and the same checks. Each runs in a worker thread,
since it reads and writes the user's files under their locks; book changes are written
atomically and audited with the command `serve`.

Every function here takes the live state, the path parameters, the query (a list of
values per name) and the JSON body, and returns the response's JSON or raises an
llmctl error (which the app turns into the error object).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmctl.errors import UnknownNameError, UsageError
from llmctl.server.state import Live

Query = Mapping[str, list[str]]

_LIST_PARAMS = ("group", "tier", "provider", "company", "capability", "min_context", "search")
_LIST_FLAGS = ("available", "all")
_PICK_PARAMS = ("book", "job", "group", "tier", "llm", "strategy", "scope", "provider", "max_attempts")
_PICK_FLAGS = ("allow_upgrade", "assume_available")
_USAGE_PARAMS = ("since", "until", "by", "book", "job", "llm", "prices")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _check_params(query: Query, allowed: tuple[str, ...], *, repeatable: tuple[str, ...] = ()) -> None:
    """An unknown query parameter is refused (a typo would otherwise be ignored)."""
    from llmctl.errors import did_you_mean

    for name, values in query.items():
        if name not in allowed:
            raise UsageError(
                f"unknown query parameter {name!r}{did_you_mean(name, allowed)}",
                hint=f"this endpoint takes {', '.join(allowed)}",
            )
        if len(values) > 1 and name not in repeatable:
            raise UsageError(f"query parameter {name!r} is given {len(values)} times; give it once")


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _flag(query: Query, name: str) -> bool:
    value = _one(query, name)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise UsageError(f"query parameter {name!r} takes 1 or 0 (true or false), not {value!r}")


def _number(query: Query, name: str) -> int | None:
    value = _one(query, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"query parameter {name!r} takes a whole number, not {value!r}") from None


# --- LLMs -----------------------------------------------------------------------------------


def list_llms(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`GET /api/llms/`: the `list --json` array (`?all=1` includes disabled and deprecated)."""
    from llmctl.catalog.query import Query as CatalogQuery
    from llmctl.catalog.query import run_query

    _check_params(query, _LIST_PARAMS + _LIST_FLAGS, repeatable=("capability",))
    wanted = CatalogQuery(
        group=_one(query, "group"),
        tier=_one(query, "tier"),
        provider=_one(query, "provider"),
        company=_one(query, "company"),
        capabilities=list(query.get("capability", [])),
        min_context=_number(query, "min_context"),
        search=_one(query, "search"),
        available=_flag(query, "available"),
        include_all=_flag(query, "all"),
    )
    found, _hidden = run_query(live.catalog(), wanted, live.env)
    return [e.to_dict() for e in found]


def show_llm(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`GET /api/llms/{id}`: the `show --json` object (an id or alias; 404 with the closest)."""
    from llmctl.catalog.query import entry_details

    _check_params(query, ())
    catalog = live.catalog()
    return entry_details(catalog, catalog.get(path["llm"]), live.env)


# --- books ----------------------------------------------------------------------------------


def show_book(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`GET /api/books/{book}`: the `book show --json` object; 404 for a book with no file."""
    from llmctl.api import book_report

    _check_params(query, ("assume_available",))
    catalog = live.catalog()
    known_book(live, path["book"])
    report = book_report(
        path["book"], catalog=catalog, home=live.home, assume_available=_flag(query, "assume_available")
    )
    return {k: v for k, v in report.items() if k != "path"}


def set_default(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`PUT /api/books/{book}/defaults/{group}` with `{"llm": id}`."""
    from llmctl.prefs.books import change_book

    _check_params(query, ())
    llm = _llm_of(body)
    return change_book(live.home, live.catalog(), path["book"], "serve", group=path["group"], llm=llm).after


def clear_default(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`DELETE /api/books/{book}/defaults/{group}`."""
    from llmctl.prefs.books import change_book

    _check_params(query, ())
    known_book(live, path["book"])
    catalog = live.catalog()
    return change_book(live.home, catalog, path["book"], "serve", group=path["group"], clear=True).after


def set_override(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`PUT /api/books/{book}/override` with `{"llm": id}`."""
    from llmctl.prefs.books import change_book

    _check_params(query, ())
    llm = _llm_of(body)
    return change_book(live.home, live.catalog(), path["book"], "serve", override=llm).after


def clear_override(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`DELETE /api/books/{book}/override`."""
    from llmctl.prefs.books import change_book

    _check_params(query, ())
    known_book(live, path["book"])
    return change_book(live.home, live.catalog(), path["book"], "serve", clear=True).after


def _llm_of(body: Any) -> str:
    if not isinstance(body, dict) or set(body) != {"llm"} or not isinstance(body["llm"], str):
        raise UsageError('the body must be {"llm": "<LLM id or alias>"}')
    return body["llm"]


def known_book(live: Live, name: str) -> None:
    """A book that has no file is unknown here (404, with the closest names)."""
    from llmctl.prefs.books import book_path, list_books

    if not book_path(live.home, name).is_file():  # checks the name first (400 if unsafe)
        raise UnknownNameError("book", name, list_books(live.home), hint="books with preferences have a file")


# --- pick and usage ---------------------------------------------------------------------------


def pick(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`GET /api/pick`: the `pick --json` object (422 with it and an error when nothing fits)."""
    from llmctl.api import decide
    from llmctl.selection.request import Selection

    _check_params(query, (*_PICK_PARAMS, "prefer_provider", *_PICK_FLAGS), repeatable=("prefer_provider",))
    book = _one(query, "book")
    if book is not None:
        known_book(live, book)
    selection = Selection(
        book=book,
        job=_one(query, "job"),
        group=_one(query, "group"),
        llm=_one(query, "llm"),
        tier=_one(query, "tier"),
        strategy=_one(query, "strategy"),
        scope=_one(query, "scope"),
        allow_upgrade=_flag(query, "allow_upgrade") if "allow_upgrade" in query else None,
        max_attempts=_number(query, "max_attempts"),
        assume_available=_flag(query, "assume_available"),
        provider=_one(query, "provider"),
        prefer_providers=query.get("prefer_provider") or None,
        source="query",
    )
    decision, _warnings = decide(
        selection, catalog=live.catalog(), home=live.home, explain=True, env=live.env
    )
    return decision.to_dict()


def usage(live: Live, path: Mapping[str, str], query: Query, body: Any) -> Any:
    """`GET /api/usage`: the `usage --json` object (`by` may repeat)."""
    from llmctl.engine.reports import usage_report
    from llmctl.engine.usage import UsageStore

    _check_params(query, _USAGE_PARAMS, repeatable=("by",))
    catalog = live.catalog()
    llm = _one(query, "llm")
    store = UsageStore.for_home(live.home)  # this thread's own connection
    try:
        return usage_report(
            store,
            since=_one(query, "since"),
            until=_one(query, "until"),
            by=query.get("by") or ["llm"],
            book=_one(query, "book"),
            job=_one(query, "job"),
            llm=catalog.resolve_id(llm) if llm else None,
            prices=_one(query, "prices") or "stored",
            catalog=catalog,
        )
    finally:
        store.close()
