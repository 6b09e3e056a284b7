"""The response cache (opt-in): complete answers kept in `cache.sqlite` in the data dir for
`cache_ttl` (default 7 days), keyed on everything that shapes an answer: provider, base
URL, model, messages (the system prompt among them) and every request parameter.
Whether the answer was streamed is not part of the key. A hit sends nothing. A cache that
cannot be used only costs the saving (one warning).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.engine.statefiles import damaged, open_state_db, set_aside, state_problem
from llmctl.errors import UsageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY, created REAL NOT NULL, llm TEXT NOT NULL, text TEXT NOT NULL,
    input_tokens INTEGER, output_tokens INTEGER, hits INTEGER NOT NULL DEFAULT 0
);
"""
_TABLES = {"answers": ("key", "created", "llm", "text", "input_tokens", "output_tokens", "hits")}
WHAT = "the response cache"
DEFAULT_TTL = "7d"
_SPAN = re.compile(r"(\d+)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(span: str) -> float:
    """`7d`, `12h`, `30m`, `90s` as seconds. Raises UsageError."""
    match = _SPAN.fullmatch(str(span).strip())
    if not match:
        raise UsageError(f"{span!r} is not a time span: write 7d, 12h, 30m or 90s")
    return int(match[1]) * _SECONDS[match[2]]


def cache_key(
    provider: str, base_url: str, model: str, messages: list[dict], params: Mapping[str, Any]
) -> str:
    """The key of a request: what shapes its answer, not how it is delivered."""
    shaping = {k: v for k, v in params.items() if k not in ("stream", "stream_options")}
    blob = json.dumps(
        {"provider": provider, "base_url": base_url, "model": model, "messages": messages, "params": shaping},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class ResponseCache:
    path: Path
    ttl: float = seconds(DEFAULT_TTL)
    clock: Callable[[], float] = time.time
    _conn: sqlite3.Connection | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer for `key` when it is younger than the TTL (its hit counted)."""
        row = self._run(
            lambda c: c.execute(
                "SELECT text, input_tokens, output_tokens FROM answers WHERE key = ? AND created > ?",
                (key, self.clock() - self.ttl),
            ).fetchone()
        )
        if not row:
            return None
        self._run(lambda c: c.execute("UPDATE answers SET hits = hits + 1 WHERE key = ?", (key,)))
        return {"text": row[0], "input_tokens": row[1], "output_tokens": row[2]}

    def put(self, key: str, llm: str, text: str, input_tokens: int | None, output_tokens: int | None) -> None:
        """Keep a complete answer."""
        self._run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO answers (key, created, llm, text, input_tokens, output_tokens, hits)"
                " VALUES (?, ?, ?, ?, ?, ?, 0)",
                (key, self.clock(), llm, text, input_tokens, output_tokens),
            )
        )

    def stats(self) -> dict[str, Any]:
        """`cache stats --json`: `{"entries", "bytes", "hits", "oldest"}`."""
        if not self.path.exists():
            return {"entries": 0, "bytes": 0, "hits": 0, "oldest": None}
        row = self._run(
            lambda c: c.execute(
                "SELECT COUNT(*), COALESCE(SUM(hits), 0), MIN(created) FROM answers"
            ).fetchone()
        )
        entries, hits, oldest = row or (0, 0, None)
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        when = None
        if oldest is not None:
            import datetime as dt

            when = dt.datetime.fromtimestamp(oldest, dt.UTC).isoformat(timespec="seconds")
        return {"entries": entries, "bytes": size, "hits": hits, "oldest": when}

    def clear(self, older_than: str | None = None) -> int:
        """Drop answers (those older than a span, with `older_than`); return how many."""
        if not self.path.exists():
            return 0
        cutoff = self.clock() - seconds(older_than) if older_than else float("inf")
        cur = self._run(lambda c: c.execute("DELETE FROM answers WHERE created < ?", (cutoff,)))
        return cur.rowcount if cur is not None else 0

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        try:
            with self._lock:
                if self._conn is None:  # a damaged file is set aside (one warning) and made afresh
                    self._conn = open_state_db(self.path, SCHEMA, _TABLES, WHAT, isolation_level="")
                with self._conn:
                    return work(self._conn)
        except (sqlite3.Error, OSError) as exc:
            if self._conn is not None and damaged(exc):  # found damaged after it was opened
                self._conn.close()
                self._conn = None
                set_aside(self.path, WHAT)
                return None
            state_problem(f"{WHAT} {self.path} cannot be used ({exc}): answers are not cached")
            return None
