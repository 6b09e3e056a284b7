"""Budgets that hold across processes: before each attempt its worst-case cost is reserved
against every budget that applies (overall, the attempt's book, its scope) in one SQLite
`BEGIN IMMEDIATE` transaction of the usage store, so any number of processes at once
never spend past a limit. After the attempt the reservation is dropped: the attempt's own
row holds its actual cost. A reservation left by a killed process expires after 10
minutes. LLMs that cost nothing always run.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from llmctl.catalog.costs import usd
from llmctl.catalog.entry import LLM
from llmctl.engine.usage import Immediate, UsageStore
from llmctl.errors import FileError
from llmctl.prefs.config import Budget

RESERVATION_TTL = 600.0
RESERVATIONS = """
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY, created REAL NOT NULL, expires REAL NOT NULL,
    llm TEXT, book TEXT, scope TEXT, amount REAL NOT NULL
);
"""


def period_start(period: str, now: dt.datetime) -> dt.datetime | None:
    """The start of the UTC calendar period holding `now` (None for `total`)."""
    day = dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=now.weekday())
    if period == "month":
        return day.replace(day=1)
    return None


def period_end(period: str, now: dt.datetime) -> dt.datetime | None:
    """When the period holding `now` ends (None for `total`)."""
    start = period_start(period, now)
    if start is None:
        return None
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    return (start + dt.timedelta(days=32)).replace(day=1)


_WHEN = {"day": "today", "week": "this week", "month": "this month", "total": "in all"}


@dataclass
class Ledger:
    """The budgets of config.toml, checked and reserved against in the usage store."""

    store: UsageStore
    budgets: Mapping[str, Budget]
    clock: Callable[[], float] = time.time

    def applicable(self, book: str | None, scope: str | None) -> list[tuple[str, Budget]]:
        wanted = ["overall", *([f"book:{book}"] if book else []), *([f"scope:{scope}"] if scope else [])]
        return [(target, self.budgets[target]) for target in wanted if target in self.budgets]

    def reserve(
        self, entry: LLM, amount: float, book: str | None, scope: str | None, *, hold: bool = True
    ) -> tuple[int | None, str | None]:
        """Reserve `amount` for an attempt; returns (reservation id, None), or (None, why)
        when it would take a budget over its limit. Free attempts need no reservation.
        With `hold` False only the check is made (a dry run): (None, None) when it fits."""
        targets = self.applicable(book, scope)
        if amount <= 0 or not targets:
            return None, None
        now = self.clock()
        with self._immediate() as conn:
            conn.execute("DELETE FROM reservations WHERE expires <= ?", (now,))
            for target, budget in targets:
                spent, reserved = self._used(conn, target, budget, now)
                if spent + reserved + amount > budget.limit + 1e-12:
                    label = "overall" if target == "overall" else target.replace(":", " ", 1)
                    return None, (
                        f"over budget: {label} ${usd(spent + reserved)} of ${usd(budget.limit)} "
                        f"{_WHEN.get(budget.period, '')}".rstrip()
                    )
            if not hold:
                return None, None
            cur = conn.execute(
                "INSERT INTO reservations (created, expires, llm, book, scope, amount)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now, now + RESERVATION_TTL, entry.id, book, scope, amount),
            )
            return cur.lastrowid, None

    def extend(self, reservation: int) -> None:
        """Hold a reservation another RESERVATION_TTL from now (an attempt still running)."""
        try:
            with self._immediate() as conn:
                expires = self.clock() + RESERVATION_TTL
                conn.execute("UPDATE reservations SET expires = ? WHERE id = ?", (expires, reservation))
        except FileError:
            pass  # it is held until its first expiry; the answer matters more

    def release(self, reservation: int | None) -> None:
        """Drop a reservation (the attempt's row now holds its actual cost)."""
        if reservation is None:
            return
        try:
            with self._immediate() as conn:
                conn.execute("DELETE FROM reservations WHERE id = ?", (reservation,))
        except FileError:
            pass  # it expires on its own

    def state(self) -> list[dict]:
        """Each budget: `{"target", "limit", "period", "spent", "reserved", "remaining", "resets_at"}`."""
        now = self.clock()
        out = []
        with self._immediate() as conn:
            for target, budget in sorted(self.budgets.items()):
                spent, reserved = self._used(conn, target, budget, now)
                end = period_end(budget.period, dt.datetime.fromtimestamp(now, dt.UTC))
                out.append(
                    {
                        "target": target,
                        "limit": budget.limit,
                        "period": budget.period,
                        "spent": round(spent, 8),
                        "reserved": round(reserved, 8),
                        "remaining": round(budget.limit - spent - reserved, 8),
                        "resets_at": end.isoformat(timespec="seconds") if end else None,
                    }
                )
        return out

    def _used(self, conn: sqlite3.Connection, target: str, budget: Budget, now: float) -> tuple[float, float]:
        """(spent in the current period, reserved now) for a target."""
        start = period_start(budget.period, dt.datetime.fromtimestamp(now, dt.UTC))
        where, params = "", []
        if target != "overall":
            column, name = target.split(":", 1)
            where, params = f" AND {column} = ?", [name]
        since = start.isoformat(timespec="milliseconds") if start else ""
        spent = conn.execute(
            "SELECT COALESCE(SUM(cost), 0) FROM attempts"
            " WHERE time >= ? AND typeof(cost) IN ('real', 'integer')" + where,
            (since, *params),
        ).fetchone()[0]
        reserved = conn.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM reservations WHERE expires > ?" + where, (now, *params)
        ).fetchone()[0]
        return float(spent), float(reserved)

    def _immediate(self) -> Immediate:
        """A write transaction on the store, its reservations table made first."""
        return self.store.immediate(RESERVATIONS, what="the budget ledger")
