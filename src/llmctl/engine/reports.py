"""`llmctl usage`: what was spent, read back from the usage store.

Rows group the attempts of a period by any of llm, provider, book, job, day and month
(days and months in UTC). `requests` counts attempts sent to a provider (each try), `ok`
those that answered, `failed` those that did not, `cache_hits` answers from the cache
(not in `requests`). A failed attempt costs nothing unless the provider reported usage.
With `prices="current"` costs are recomputed from today's catalog instead of the prices
each row was recorded at.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llmctl.catalog.load import Catalog
from llmctl.engine.usage import UsageStore
from llmctl.errors import UsageError, did_you_mean

GROUPINGS = ("llm", "provider", "book", "job", "day", "month")
SENT = ("ok", "error", "interrupted")
DEFAULT_WINDOW = "30d"
_RELATIVE = re.compile(r"(\d+)([hd])")


def parse_when(value: str, *, now: dt.datetime, end: bool = False) -> dt.datetime:
    """An ISO date or time, or `Nh` / `Nd` before now, as a UTC time. A date given as the
    end of a period means the end of that day. Raises UsageError."""
    text = value.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount, unit = int(relative[1]), relative[2]
        return now - (dt.timedelta(hours=amount) if unit == "h" else dt.timedelta(days=amount))
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return start + dt.timedelta(days=1) if end else start
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{value!r} is not a time",
            hint="give an ISO date or time (2026-11-01, 2026-11-01T12:00), or Nh / Nd before now (24h, 7d)",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass
class Totals:
    """The counters of one row (or of the total)."""

    requests: int = 0
    ok: int = 0
    failed: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, row: dict[str, Any], cost: float | None) -> None:
        outcome = row["outcome"]
        if outcome == "cache_hit":
            self.cache_hits += 1  # answered from the cache: nothing was sent or billed
            return
        if outcome in SENT:
            self.requests += 1
            if outcome == "ok":
                self.ok += 1
                if isinstance(row["latency_ms"], int | float):
                    self.latencies.append(float(row["latency_ms"]))
            else:
                self.failed += 1
        else:
            return  # nothing was sent (a skip is no attempt)
        self.input_tokens += _int(row["input_tokens"])
        self.output_tokens += _int(row["output_tokens"])
        self.cost += cost or 0.0

    def to_dict(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else None
        return {
            "requests": self.requests,
            "ok": self.ok,
            "failed": self.failed,
            "cache_hits": self.cache_hits,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": round(self.cost, 8),
            "p50_latency_ms": round(statistics.median(ordered), 1) if ordered else None,
            "p95_latency_ms": round(p95, 1) if p95 is not None else None,
        }


def usage_report(
    store: UsageStore,
    *,
    since: str | None = None,
    until: str | None = None,
    by: Sequence[str] = ("llm",),
    book: str | None = None,
    job: str | None = None,
    llm: str | None = None,
    prices: str = "stored",
    catalog: Catalog | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The `usage --json` object: `{"since", "until", "by", "rows": [...], "total": {...}}`.

    Raises UsageError for an unknown grouping, price basis or time."""
    now = now or dt.datetime.now(dt.UTC)
    by = list(dict.fromkeys(by)) or ["llm"]
    for name in by:
        if name not in GROUPINGS:
            raise UsageError(
                f"unknown grouping {name!r}{did_you_mean(name, GROUPINGS)}",
                hint=f"--by takes {', '.join(GROUPINGS)}",
            )
    if prices not in ("stored", "current"):
        raise UsageError(f"--prices takes stored or current, not {prices!r}")
    start = parse_when(since or DEFAULT_WINDOW, now=now)
    end = parse_when(until, now=now, end=True) if until else now
    if end < start:
        raise UsageError(f"--until ({end.isoformat()}) is before --since ({start.isoformat()})")
    sql = "SELECT * FROM attempts WHERE time >= ? AND time < ?"
    params: list[Any] = [_stamp(start), _stamp(end)]
    for column, value in (("book", book), ("job", job), ("llm", llm)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    rows: dict[tuple, Totals] = {}
    total = Totals()
    for row in store.query(sql + " ORDER BY id", tuple(params)):
        key = tuple(_group(row, name) for name in by)
        cost = _cost(row, prices, catalog)
        rows.setdefault(key, Totals()).add(row, cost)
        total.add(row, cost)
    out_rows = [
        {**dict(zip(by, key, strict=True)), **totals.to_dict()}
        for key, totals in sorted(
            rows.items(), key=lambda kv: tuple("" if k is None else str(k) for k in kv[0])
        )
        if totals.requests or totals.cache_hits
    ]
    return {
        "since": start.isoformat(timespec="seconds"),
        "until": end.isoformat(timespec="seconds"),
        "by": by,
        "prices": prices,
        "rows": out_rows,
        "total": total.to_dict(),
    }


def _stamp(when: dt.datetime) -> str:
    """The store's time format (ISO, UTC, milliseconds), for comparing as text."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _group(row: dict[str, Any], name: str) -> Any:
    if name == "day":
        return str(row["time"])[:10]
    if name == "month":
        return str(row["time"])[:7]
    return row[name]


def _cost(row: dict[str, Any], prices: str, catalog: Catalog | None) -> float | None:
    """The row's cost: as recorded, or at today's catalog prices. A failed attempt without
    reported usage costs nothing."""
    if prices == "stored" or catalog is None:
        return row["cost"] if isinstance(row["cost"], int | float) else None
    entry = catalog.entries.get(row["llm"])
    if entry is None or entry.input_cost_per_mtok is None or entry.output_cost_per_mtok is None:
        return row["cost"] if isinstance(row["cost"], int | float) else None
    if row["input_tokens"] is None and row["output_tokens"] is None:
        return None
    tokens_in, tokens_out = _int(row["input_tokens"]), _int(row["output_tokens"])
    return (tokens_in * entry.input_cost_per_mtok + tokens_out * entry.output_cost_per_mtok) / 1_000_000


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
