"""Budgets' definitions: a limit in USD per period for overall spend, a book or a scope,
kept in config.toml under `[budgets."TARGET"]`, every change audited. (Spending against
them is the engine's: `llmctl.engine.budget`.)"""

from __future__ import annotations

from llmctl.catalog.entry import PERIODS
from llmctl.errors import UnknownNameError, UsageError
from llmctl.files.io import locked
from llmctl.paths import Home
from llmctl.prefs.audit import Change
from llmctl.prefs.books import check_book_name
from llmctl.prefs.config import update_config
from llmctl.prefs.scopes import check_scope


def target_of(book: str | None = None, scope: str | None = None) -> str:
    """`overall`, `book:NAME` or `scope:NAME` (names checked). Raises UsageError."""
    if book is not None and scope is not None:
        raise UsageError("a budget is for a book or a scope, not both")
    if book is not None:
        return f"book:{check_book_name(book)}"
    if scope is not None:
        return f"scope:{check_scope(scope)}"
    return "overall"


def set_budget(home: Home, target: str, limit: float | None, period: str = "month") -> Change:
    """Set the target's budget (or clear it with `limit` None) in config.toml, audited.
    Raises UsageError for a negative limit or an unknown period."""
    if limit is not None and (limit != limit or limit < 0):
        raise UsageError(f"a budget is an amount of 0 or more (got {limit})")
    if period not in PERIODS:
        raise UnknownNameError("period", period, PERIODS, hint=f"periods: {', '.join(PERIODS)}")

    def change(raw: dict) -> tuple[dict | None, dict | None]:
        table = raw.setdefault("budgets", {})
        before = table.get(target)
        if limit is None:
            table.pop(target, None)
        else:
            table[target] = {"limit": float(limit), "period": period}
        if not table:
            raw.pop("budgets")
        return before, table.get(target)

    with locked(home.lock_file):
        command = "budget clear" if limit is None else "budget set"
        before, after = update_config(home, change, command, f"budget:{target}")
    return Change(f"budget:{target}", before, after)
