"""Rate limits across processes on one machine: a sliding 60-second window per provider
(`requests_per_minute` / `tokens_per_minute` under `[providers.X]` in config.toml) and,
where an entry sets `rate_limit`, per LLM. Every try counts, retries included.

The state is a small SQLite file in the data dir (`state/ratelimit.sqlite`); a check and
its hit are one `BEGIN IMMEDIATE` transaction, so processes never overrun a window
together. A state file that cannot be used only loses that memory (one warning).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from llmctl.catalog.entry import LLM
from llmctl.engine.statefiles import open_state_db, state_trouble
from llmctl.providers.resolve import provider_settings
from llmctl.providers.table import Provider

WINDOW = 60.0
SCHEMA = "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, time REAL NOT NULL, tokens INTEGER NOT NULL)"


@dataclass(frozen=True)
class Limit:
    key: str  # provider:NAME or llm:ID
    label: str  # how the reason names it
    requests: int | None
    tokens: int | None


def limits_for(entry: LLM, providers: Mapping[str, Provider]) -> list[Limit]:
    """The windows an attempt of `entry` counts against (none unless configured)."""
    out = []
    settings = provider_settings(entry.provider, providers)
    if settings.requests_per_minute or settings.tokens_per_minute:
        out.append(
            Limit(
                f"provider:{entry.provider}",
                entry.provider,
                settings.requests_per_minute,
                settings.tokens_per_minute,
            )
        )
    own = entry.rate_limit
    if own.get("requests_per_minute") or own.get("tokens_per_minute"):
        out.append(
            Limit(f"llm:{entry.id}", entry.id, own.get("requests_per_minute"), own.get("tokens_per_minute"))
        )
    return out


@dataclass
class RateLimiter:
    """Admits attempts into their windows, or says how long until a slot frees."""

    path: Path
    providers: Mapping[str, Provider]
    clock: Callable[[], float] = time.time
    _conn: sqlite3.Connection | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self, entry: LLM, tokens: int, *, count: bool = True) -> tuple[float, str | None]:
        """(0, None) when the attempt may go now (and is counted, unless `count` is False:
        a dry run); else (seconds until a slot may free, the limit's description)."""
        wait, why, _ = self.take(entry, tokens, count=count)
        return wait, why

    def take(self, entry: LLM, tokens: int, *, count: bool = True) -> tuple[float, str | None, list[int]]:
        """`admit`, with the hits that count the attempt (for `charge` once its answer's
        size is known; none when it was not counted)."""
        limits = limits_for(entry, self.providers)
        if not limits:
            return 0.0, None, []
        now = self.clock()
        try:
            with self._lock:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("DELETE FROM hits WHERE time <= ?", (now - WINDOW,))
                    for limit in limits:
                        wait = self._wait(conn, limit, tokens, now)
                        if wait > 0:
                            conn.execute("COMMIT")
                            return wait, describe(limit), []
                    hits = []
                    for limit in limits if count else ():
                        cur = conn.execute(
                            "INSERT INTO hits (key, time, tokens) VALUES (?, ?, ?)", (limit.key, now, tokens)
                        )
                        hits.append(cur.lastrowid)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, OSError) as exc:
            self._unusable(exc)
            return 0.0, None, []
        return 0.0, None, hits

    def charge(self, hits: list[int], tokens: int) -> None:
        """An attempt's hits count `tokens` from now on: its prompt and its answer, as
        providers count them (it was admitted on its prompt's estimate alone)."""
        if not hits:
            return
        marks = ", ".join("?" * len(hits))
        try:
            with self._lock:
                conn = self._connect()
                conn.execute(f"UPDATE hits SET tokens = ? WHERE rowid IN ({marks})", (tokens, *hits))
        except (sqlite3.Error, OSError) as exc:
            self._unusable(exc)

    def _unusable(self, exc: Exception) -> None:
        state_trouble(
            self.path, "the rate-limit state", f"cannot be used ({exc}): limits are not enforced now"
        )

    @staticmethod
    def _wait(conn: sqlite3.Connection, limit: Limit, tokens: int, now: float) -> float:
        """Seconds until the window has room for one more request of `tokens` (0: now)."""
        rows = conn.execute(
            "SELECT time, tokens FROM hits WHERE key = ? ORDER BY time", (limit.key,)
        ).fetchall()
        wait = 0.0
        if limit.requests and len(rows) >= limit.requests:
            wait = rows[len(rows) - limit.requests][0] + WINDOW - now
        if limit.tokens:
            over = sum(t for _, t in rows) + tokens - limit.tokens
            for when, spent in rows:  # the oldest hits leave the window first
                if over <= 0:
                    break
                over -= spent
                wait = max(wait, when + WINDOW - now)
            if over > 0:  # more than a whole window holds
                wait = max(wait, WINDOW)
        return max(wait, 0.0)

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:  # a damaged file is set aside (one warning) and made afresh
            tables = {"hits": ("key", "time", "tokens")}
            self._conn = open_state_db(self.path, SCHEMA, tables, "the rate-limit state")
        return self._conn


def describe(limit: Limit) -> str:
    """`rate limit: openai 60 requests/min` (or tokens/min)."""
    parts = []
    if limit.requests:
        parts.append(f"{limit.requests} requests/min")
    if limit.tokens:
        parts.append(f"{limit.tokens} tokens/min")
    return f"rate limit: {limit.label} {' and '.join(parts)}"
