"""The usage store: every attempt in SQLite in the data dir.

Each row keeps the prices it was costed at, so costs can be recomputed, and says whether
its token counts were reported by the provider or estimated (a cost is never silently
missing). The `fastest` strategy reads observed latencies from here; `llmctl usage`
reports on it (`engine.reports`). A store written by an older llmctl gains the new
columns in place when it is opened; nothing recorded is lost.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import statistics
import threading
from dataclasses import dataclass, fields
from pathlib import Path

from llmctl.catalog.entry import LLM
from llmctl.engine.records import Outcome, deployment_id
from llmctl.engine.statefiles import wal
from llmctl.errors import FileError
from llmctl.paths import Home
from llmctl.providers.wire import Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    book TEXT, job TEXT, llm TEXT NOT NULL, provider TEXT NOT NULL,
    outcome TEXT NOT NULL, status INTEGER, error TEXT,
    latency_ms REAL, ttft_ms REAL,
    input_tokens INTEGER, output_tokens INTEGER,
    input_cost_per_mtok REAL, output_cost_per_mtok REAL, cost REAL
);
CREATE INDEX IF NOT EXISTS attempts_llm ON attempts (llm, outcome);
"""
# The store's layout, in SQLite's `user_version`: a store a newer llmctl changed beyond what
# this one knows is reported, never written to (0: made before the version was kept).
SCHEMA_VERSION = 3
# The numbered migrations: the columns (name, type) each layout adds to the one before,
# added in place to an older store.
MIGRATIONS: dict[int, tuple[tuple[str, str], ...]] = {
    1: (
        ("cached_input_tokens", "INTEGER"),
        ("reasoning_tokens", "INTEGER"),
        ("tokens_estimated", "INTEGER NOT NULL DEFAULT 0"),
        ("batch_id", "TEXT"),
        ("scope", "TEXT"),
    ),
    # The version of a job's work that made the request (compose.render.template_hash).
    2: (("template_hash", "TEXT"),),
    # Which of the LLM's deployments answered (NULL: a row from before deployments).
    3: (("deployment", "TEXT"),),
}
ADDED_COLUMNS = tuple(column for version in sorted(MIGRATIONS) for column in MIGRATIONS[version])


@dataclass
class AttemptRecord:
    llm: str
    provider: str
    outcome: Outcome
    book: str | None = None
    job: str | None = None
    status: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    cost: float | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    tokens_estimated: bool = False  # the provider reported no counts: they are estimated
    batch_id: str | None = None
    scope: str | None = None
    template_hash: str | None = None
    deployment: str | None = None

    @classmethod
    def of(
        cls,
        entry: LLM,
        outcome: Outcome,
        usage: Usage,
        status: int | None,
        error: str | None,
        latency_ms: float,
        ttft_ms: float | None,
        cost: float | None,
        estimated: bool,
    ) -> AttemptRecord:
        """The record of one attempt at `entry` (its prices as they were; times rounded to
        0.1 ms). Its book, job, scope, batch and template hash are the caller's to set."""
        return cls(
            llm=entry.id,
            provider=entry.provider,
            outcome=outcome,
            status=status,
            error=error,
            latency_ms=round(latency_ms, 1),
            ttft_ms=None if ttft_ms is None else round(ttft_ms, 1),
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            input_cost_per_mtok=entry.input_cost_per_mtok,
            output_cost_per_mtok=entry.output_cost_per_mtok,
            cost=cost,
            tokens_estimated=estimated,
            deployment=deployment_id(entry),
        )


_RECORD_FIELDS = tuple(f.name for f in fields(AttemptRecord))
_MARKS = ", ".join("?" * (len(_RECORD_FIELDS) + 1))
_INSERT = f"INSERT INTO attempts ({', '.join(_RECORD_FIELDS)}, time) VALUES ({_MARKS})"


class NewerStore(sqlite3.DatabaseError):
    """The store's layout is newer than this llmctl knows (a database error to the writers
    that must not fail a send: they lose the row, with a warning)."""


class UsageStore:
    """The attempts table. One connection per store, shared by threads under a lock;
    SQLite (WAL mode) serialises writers of several processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_home(cls, home: Home) -> UsageStore:
        return cls(home.data_dir / "usage.sqlite")

    def _connect(self) -> sqlite3.Connection:
        """The open store, made or brought up to date on first use. Raises sqlite3.Error
        (NewerStore for a layout this llmctl does not know) or OSError."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise NewerStore(
                        f"written by a newer llmctl (layout {version}; this one knows {SCHEMA_VERSION})"
                    )
                wal(conn)
                conn.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last rows, never corrupt
                conn.executescript(SCHEMA)
                migrate(conn)
            except BaseException:
                conn.close()  # a half-opened store is not kept: the next use tries afresh
                raise
            self._conn = conn
        return self._conn

    def _damaged(self, exc: BaseException) -> FileError:
        """The one-line error (exit 3) naming a store that cannot be used, and why."""
        if self.path.is_dir():
            return FileError(self.path, "is a directory, not the usage store", hint="move it away")
        if isinstance(exc, NewerStore):
            return FileError(self.path, str(exc), hint="use that llmctl, or move the file away to start anew")
        return FileError(
            self.path,
            f"the usage store cannot be used ({exc})",
            hint="move the file away to start a new store (nothing else is lost)",
        )

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        """The rows of a read-only query (an absent store has none). Raises FileError (exit 3)
        naming the store when it is damaged, of another layout or cannot be opened."""
        if not os.path.lexists(self.path):
            return []
        with self._lock:
            try:
                return self._connect().execute(sql, params).fetchall()
            except (sqlite3.Error, OSError) as exc:
                raise self._damaged(exc) from None

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        """Rows of a read-only query as dicts (an absent store has none). Raises FileError
        as `read` does."""
        if not os.path.lexists(self.path):
            return []
        with self._lock:
            try:
                cur = self._connect().execute(sql, params)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            except (sqlite3.Error, OSError) as exc:
                raise self._damaged(exc) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def immediate(self, setup: str = "", *, what: str = "the usage store") -> Immediate:
        """A `BEGIN IMMEDIATE` transaction on the store (one writer at a time across
        processes, so a check and the write it allows are one step), `setup` (an SQL script)
        run first: `with store.immediate(...) as conn:`; committed when the block ends
        normally, else rolled back. Entering raises FileError naming `what` when the store
        cannot be used."""
        return Immediate(self, setup, what)

    def record(self, rec: AttemptRecord) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        row = (*(getattr(rec, name) for name in _RECORD_FIELDS), now)
        try:
            with self._lock:
                conn = self._connect()
                with conn:
                    conn.execute(_INSERT, row)
        except (sqlite3.Error, OSError) as exc:  # the answer matters more; but say the row is lost
            from llmctl.engine.cooldown import state_problem

            state_problem(f"the usage store {self.path} cannot be written ({exc}): attempts are not recorded")

    def check(self) -> None:
        """Open the store (making it if new), read it and make sure it takes writes, before
        anything is sent.

        Raises FileError (exit 3) naming it when it is damaged, not a database, a directory,
        of a newer layout, read-only or cannot be made: rows must not be lost silently."""
        if self.path.is_dir():
            raise self._damaged(IsADirectoryError())
        try:
            with self._lock:
                conn = self._connect()
                conn.execute("SELECT count(*) FROM attempts WHERE id < 0").fetchone()
                # A write that changes nothing: a read-only file (or one the disk refuses)
                # fails here rather than after an answer was paid for.
                with conn:
                    conn.execute("DELETE FROM attempts WHERE id < 0")
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise self._damaged(exc) from None

    def rows(self, limit: int = 1000) -> list[dict]:
        """The last `limit` attempts, oldest first. Raises FileError as `read` does."""
        return self.query("SELECT * FROM attempts ORDER BY id DESC LIMIT ?", (limit,))[::-1]

    def latencies(self, window: int = 20) -> dict[str, float]:
        """Median latency in seconds of each LLM's last `window` successful attempts."""
        if not self.path.exists():
            return {}
        try:
            with self._lock:
                cur = self._connect().execute(
                    f"SELECT llm, latency_ms FROM attempts WHERE outcome = {_words(Outcome.OK)} "
                    "AND typeof(latency_ms) IN ('real', 'integer') ORDER BY id DESC"
                )
                rows = cur.fetchall()
        except (sqlite3.Error, OSError):
            return {}  # the store is checked before sending; a ranking hint is not worth failing
        seen: dict[str, list[float]] = {}
        for llm, latency in rows:
            values = seen.setdefault(llm, [])
            if len(values) < window:
                values.append(latency)
        return {llm: statistics.median(values) / 1000 for llm, values in seen.items()}


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a store written by an older llmctl up to date in place (nothing is rewritten):
    the columns it lacks, the time index, the daily rollup. In one transaction, checked again
    inside it, so processes opening the same older (or new) store at once do it once."""
    if _current(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        have = {row[1] for row in conn.execute("PRAGMA table_info(attempts)")}
        for name, kind in ADDED_COLUMNS:
            if name not in have:
                conn.execute(f"ALTER TABLE attempts ADD COLUMN {name} {kind}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        # Budget checks sum a period's costs inside the lock every sender takes: this index
        # keeps that a range read (1,000,000 rows of history: 50 ms a check without it, 0.1 ms).
        conn.execute("CREATE INDEX IF NOT EXISTS attempts_time ON attempts (time, cost, book, scope)")
        if not _has(conn, "attempts_rollup"):
            _add_rollup(conn)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def _current(conn: sqlite3.Connection) -> bool:
    have = {row[1] for row in conn.execute("PRAGMA table_info(attempts)")}
    return (
        all(name in have for name, _ in ADDED_COLUMNS)
        and _has(conn, "attempts_time")
        and _has(conn, "attempts_rollup")
    )


def _has(conn: sqlite3.Connection, name: str) -> bool:
    return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone())


# --- the daily rollup ---------------------------------------------------------------------------
# `llmctl usage` reads whole days from `daily`, kept by a trigger on every insert, and only the
# partial days at a window's edges from `attempts`. One row per day, book, job, LLM, provider
# and latency bucket ('' for no book or job, -1 for no answered latency).

ROLLUP_KEYS = ("day", "book", "job", "llm", "provider", "bucket")
ROLLUP_SUMS = ("n", "requests", "ok", "failed", "hits", "input_tokens", "output_tokens", "cost")


def latency_bucket(column: str) -> str:
    """The latency bucket of `column` for percentiles: exact to 1 ms below 100 ms, 10 ms
    below 1 s, 100 ms above."""
    return (
        f"CASE WHEN {column} < 100 THEN CAST({column} AS INTEGER) "
        f"WHEN {column} < 1000 THEN CAST({column} / 10 AS INTEGER) * 10 "
        f"ELSE CAST({column} / 100 AS INTEGER) * 100 END"
    )


def _words(*outcomes: Outcome) -> str:
    """Outcomes as SQL string literals: `'ok', 'error'`."""
    return ", ".join(f"'{o.value}'" for o in outcomes)


def rollup_values(row: str = "") -> list[str]:
    """SQL for one attempt's contribution to its rollup row (`row` is "NEW." in the
    trigger), in the order of ROLLUP_KEYS + ROLLUP_SUMS. A failed attempt adds tokens and
    cost only where the provider reported them; a damaged (text) cell adds 0."""
    sent = f"{row}outcome IN ({_words(Outcome.OK, Outcome.ERROR, Outcome.INTERRUPTED)})"
    latency = f"{row}latency_ms"

    def counted(column: str) -> str:
        cell = f"{row}{column}"
        return f"CASE WHEN {sent} AND typeof({cell}) IN ('integer', 'real') THEN {cell} ELSE 0 END"

    return [
        f"substr({row}time, 1, 10)",
        f"COALESCE({row}book, '')",
        f"COALESCE({row}job, '')",
        f"{row}llm",
        f"{row}provider",
        f"CASE WHEN {row}outcome = {_words(Outcome.OK)} AND typeof({latency}) IN ('integer', 'real') "
        f"THEN {latency_bucket(latency)} ELSE -1 END",
        "1",
        sent,
        f"{row}outcome = {_words(Outcome.OK)}",
        f"{row}outcome IN ({_words(Outcome.ERROR, Outcome.INTERRUPTED)})",
        f"{row}outcome = {_words(Outcome.CACHE_HIT)}",
        counted("input_tokens"),
        counted("output_tokens"),
        counted("cost"),
    ]


def _add_rollup(conn: sqlite3.Connection) -> None:
    """Make the rollup, fill it from the attempts already stored and keep it from now on
    (inside `migrate`'s transaction)."""
    keys, sums = ", ".join(ROLLUP_KEYS), ", ".join(ROLLUP_SUMS)
    values = rollup_values()
    added = ", ".join(f"{c} = {c} + excluded.{c}" for c in ROLLUP_SUMS)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS daily ({', '.join(f'{k} NOT NULL' for k in ROLLUP_KEYS)}, "
        f"{sums}, PRIMARY KEY ({keys})) WITHOUT ROWID"
    )
    conn.execute(
        f"INSERT INTO daily ({keys}, {sums}) SELECT {', '.join(values[:6])}, "
        f"{', '.join(f'SUM({v})' for v in values[6:])} FROM attempts GROUP BY 1, 2, 3, 4, 5, 6"
    )
    conn.execute(
        f"CREATE TRIGGER attempts_rollup AFTER INSERT ON attempts BEGIN "
        f"INSERT INTO daily ({keys}, {sums}) VALUES ({', '.join(rollup_values('NEW.'))}) "
        f"ON CONFLICT ({keys}) DO UPDATE SET {added}; "
        "END"
    )


class Immediate:
    """`UsageStore.immediate`'s transaction (the store's lock held throughout)."""

    def __init__(self, store: UsageStore, setup: str, what: str) -> None:
        self.store, self.setup, self.what = store, setup, what

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            conn = self.store._connect()
            if self.setup:
                conn.executescript(self.setup)
            conn.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, OSError) as exc:
            self.store._lock.release()
            raise FileError(self.store.path, f"{self.what} cannot be used ({exc})") from None
        self.conn = conn
        return conn

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        try:
            self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self.store._lock.release()
