"""`llmctl usage`: what was spent, read back from the usage store.

Rows group the attempts of a period by any of llm, provider, book, job, template (the
version of a job's work), deployment (`LLM@ID`; both read from the attempts themselves),
day and month (days and months in UTC). `requests` counts attempts sent to a provider (each try), `ok`
those that answered, `failed` those that did not, `cache_hits` answers from the cache
(not in `requests`). A failed attempt costs nothing unless the provider reported usage.
With `prices="current"` costs are recomputed from today's catalog instead of the prices
each row was recorded at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from llmctl.catalog.load import Catalog
from llmctl.engine.usage import ROLLUP_KEYS, ROLLUP_SUMS, UsageStore, rollup_values
from llmctl.errors import UsageError, did_you_mean

GROUPINGS = ("llm", "provider", "book", "job", "template", "deployment", "day", "month")
# Groupings the daily rollup does not keep: grouped from the attempts of the window. A
# deployment is named as the cooldown names it, `LLM@ID` (NULL: a row from before them).
PER_ATTEMPT = {
    "template": "template_hash",
    "deployment": "CASE WHEN deployment IS NULL THEN NULL ELSE llm || '@' || deployment END",
}
DEFAULT_WINDOW = "30d"
ROLLUP_COLUMNS = (*ROLLUP_KEYS, *ROLLUP_SUMS)
_RELATIVE = re.compile(r"(\d+)([hd])")


def parse_when(value: str, *, now: dt.datetime, end: bool = False) -> dt.datetime:
    """An ISO date or time, or `Nh` / `Nd` before now, as a UTC time. A date given as the
    end of a period means the end of that day. Raises UsageError."""
    text = value.strip()
    relative = _RELATIVE.fullmatch(text)
    try:
        if relative:
            amount, unit = int(relative[1]), relative[2]
            return now - (dt.timedelta(hours=amount) if unit == "h" else dt.timedelta(days=amount))
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            return start + dt.timedelta(days=1) if end else start
        when = dt.datetime.fromisoformat(text)
        when = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except OverflowError:  # 99999999d ago, or the day after 9999-12-31
        raise UsageError(
            f"{value!r} is out of range: the calendar runs from year 1 to 9999",
            hint="give a later --since or an earlier --until (30d, 2026-01-01)",
        ) from None
    except ValueError:
        raise UsageError(
            f"{value!r} is not a time",
            hint="give an ISO date or time (2026-11-01, 2026-11-01T12:00), or Nh / Nd before now (24h, 7d)",
        ) from None
    return when


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
    # Rows are stamped to the millisecond and the window's end is exclusive: "until now"
    # takes in an attempt recorded in the current millisecond too.
    end = parse_when(until, now=now, end=True) if until else now + dt.timedelta(milliseconds=1)
    if end < start:
        raise UsageError(f"--until ({end.isoformat()}) is before --since ({start.isoformat()})")
    source, params = _source(start, end, per_attempt=[name for name in by if name in PER_ATTEMPT])
    where = "1"
    for column, value in (("book", book), ("job", job), ("llm", llm)):
        if value is not None:
            where += f" AND {column} = ?"
            params.append(value)
    rows, latencies = _scan(store, source, by, where, params, prices, catalog)
    total = _sum(rows.values())
    total.update(latencies.get((), {}))
    out_rows = [
        {**dict(zip(by, key, strict=True)), **counts, **latencies.get(key, _NO_LATENCY)}
        for key, counts in sorted(
            rows.items(), key=lambda kv: tuple("" if k is None else str(k) for k in kv[0])
        )
        if counts["requests"] or counts["cache_hits"]
    ]
    return {
        "since": start.isoformat(timespec="seconds"),
        "until": end.isoformat(timespec="seconds"),
        "by": by,
        "prices": prices,
        "rows": out_rows,
        "total": {**total, **({} if "p50_latency_ms" in total else _NO_LATENCY)},
    }


_NO_LATENCY = {"p50_latency_ms": None, "p95_latency_ms": None}
COUNTERS = ("requests", "ok", "failed", "cache_hits", "input_tokens", "output_tokens", "cost")


def _grouping(by: Sequence[str]) -> list[str]:
    """SQL expressions for the groupings (days and months in UTC; '' is no book or job)."""
    exprs = {
        "month": "substr(day, 1, 7)",
        "book": "NULLIF(book, '')",
        "job": "NULLIF(job, '')",
    }
    return [exprs.get(name, name) for name in by]


def _source(
    start: dt.datetime, end: dt.datetime, *, per_attempt: Sequence[str] = ()
) -> tuple[str, list[Any]]:
    """The rows of the window in the rollup's shape: whole days from the rollup, the partial
    days at its edges from the attempts themselves (through the time index); with
    `per_attempt` groupings (PER_ATTEMPT), every row from the attempts, with those columns."""
    columns = [f"{v} AS {c}" for v, c in zip(rollup_values(), ROLLUP_COLUMNS, strict=True)]
    columns += [f"{PER_ATTEMPT[name]} AS {name}" for name in per_attempt]
    raw = f"SELECT {', '.join(columns)} FROM attempts WHERE time >= ? AND time < ?"
    days = None if per_attempt else _full_days(start, end)
    if days is None:
        return f"({raw})", [_stamp(start), _stamp(end)]
    first, last = days
    parts = [f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM daily WHERE day >= ? AND day < ?"]
    params: list[Any] = [first.date().isoformat(), last.date().isoformat()]
    if start < first:
        parts.append(raw)
        params += [_stamp(start), _stamp(first)]
    if last < end:
        parts.append(raw)
        params += [_stamp(last), _stamp(end)]
    return f"({' UNION ALL '.join(parts)})", params


def _full_days(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and the end of the whole UTC days inside [start, end), or None."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += dt.timedelta(days=1)
    last = end.replace(hour=0, minute=0, second=0, microsecond=0)
    return (first, last) if first < last else None


def _scan(
    store: UsageStore,
    source: str,
    by: Sequence[str],
    where: str,
    params: list[Any],
    prices: str,
    catalog: Catalog | None,
) -> tuple[dict[tuple, dict[str, Any]], dict[tuple, dict]]:
    """The counters of every group and the p50/p95 latency of its answered attempts (key ()
    for the total's), from one grouped pass of SQLite: the rows never come to Python."""
    groups = _grouping(by)
    # Per LLM too only to reprice at today's prices.
    per_llm = prices == "current" and catalog is not None
    keys = [*groups, "llm" if per_llm else "NULL"]
    sql = (
        f"SELECT {', '.join(keys)}, bucket, SUM(n), SUM(requests), SUM(ok), SUM(failed), SUM(hits), "
        f"SUM(input_tokens), SUM(output_tokens), SUM(cost) FROM {source} WHERE {where} "
        f"GROUP BY {', '.join([*(keys if per_llm else keys[:-1]), 'bucket'])}"
    )
    out: dict[tuple, dict[str, Any]] = {}
    histograms: dict[tuple, dict[int, int]] = {}
    width = len(groups)
    for row in _raw(store, sql, params):
        key, llm, bucket, count = tuple(row[:width]), row[width], row[width + 1], row[width + 2]
        requests, ok, failed, hits, tokens_in, tokens_out, cost = (n or 0 for n in row[width + 3 :])
        if per_llm:
            entry = catalog.entries.get(llm)
            if (
                entry is not None
                and entry.input_cost_per_mtok is not None
                and entry.output_cost_per_mtok is not None
            ):
                cost = (tokens_in * entry.input_cost_per_mtok + tokens_out * entry.output_cost_per_mtok) / 1e6
        counts = out.setdefault(key, dict.fromkeys(COUNTERS, 0))
        for name, value in zip(
            COUNTERS, (requests, ok, failed, hits, tokens_in, tokens_out, cost), strict=True
        ):
            counts[name] += value
        if isinstance(bucket, int | float) and bucket >= 0:  # a damaged (text) cell is no latency
            for target in (key, ()) if groups else ((),):
                histogram = histograms.setdefault(target, {})
                histogram[bucket] = histogram.get(bucket, 0) + count
    for counts in out.values():
        counts["cost"] = round(float(counts["cost"]), 8)
    return out, {key: _pick(histogram) for key, histogram in histograms.items()}


def _pick(histogram: dict[int, int]) -> dict[str, float]:
    """The 50th and 95th percentile of bucketed latencies."""
    total = sum(histogram.values())
    wanted = {"p50_latency_ms": (total + 1) // 2, "p95_latency_ms": min(total, int(total * 0.95) + 1)}
    out: dict[str, float] = {}
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        for name, rank in wanted.items():
            if name not in out and seen >= rank:
                out[name] = float(bucket)
    return out


def _sum(groups: Any) -> dict[str, Any]:
    total = dict.fromkeys(COUNTERS, 0)
    for counts in groups:
        for name in COUNTERS:
            total[name] += counts[name]
    total["cost"] = round(float(total["cost"]), 8)
    return total


def _raw(store: UsageStore, sql: str, params: list[Any]) -> list[tuple]:
    return store.read(sql, tuple(params))


def _stamp(when: dt.datetime) -> str:
    """The store's time format (ISO, UTC, milliseconds), for comparing as text."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def template_history(store: UsageStore, job: str) -> list[dict[str, Any]]:
    """Each version of `job`'s work seen in the usage store, the first used first: its
    `template_hash`, `first_used` and `last_used` (UTC), `requests` (attempts sent),
    `failures` and `cost`. Raises FileError as `UsageStore.read` does."""
    values = dict(zip(ROLLUP_COLUMNS, rollup_values(), strict=True))
    sql = (
        f"SELECT template_hash, MIN(time), MAX(time), SUM({values['requests']}), "
        f"SUM({values['failed']}), SUM({values['cost']}) FROM attempts "
        "WHERE job = ? AND template_hash IS NOT NULL GROUP BY template_hash ORDER BY MIN(time)"
    )
    return [
        {
            "template_hash": row[0],
            "first_used": row[1],
            "last_used": row[2],
            "requests": row[3] or 0,
            "failures": row[4] or 0,
            "cost": round(float(row[5] or 0), 8),
        }
        for row in _raw(store, sql, [job])
    ]
