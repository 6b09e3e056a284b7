"""The usage store read back: `llmctl usage`, an older store migrated in place, estimated
counts marked; and `llmctl cooldown list|clear`."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time

import pytest

from conftest import entry
from fakeserver import Reply, openai_chat
from llmctl.engine.reports import parse_when, usage_report
from llmctl.engine.usage import AttemptRecord, UsageStore
from llmctl.errors import UsageError

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# The schema of the store llmctl wrote before the spend columns came.
OLD_SCHEMA = """
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, book TEXT, job TEXT, llm TEXT NOT NULL,
    provider TEXT NOT NULL, outcome TEXT NOT NULL, status INTEGER, error TEXT,
    latency_ms REAL, ttft_ms REAL, input_tokens INTEGER, output_tokens INTEGER,
    input_cost_per_mtok REAL, output_cost_per_mtok REAL, cost REAL
);
CREATE INDEX attempts_llm ON attempts (llm, outcome);
"""


def row(conn, when, llm, outcome, *, tokens=(100, 50), cost=0.001, latency=200.0, book=None, job=None):
    conn.execute(
        "INSERT INTO attempts (time, book, job, llm, provider, outcome, latency_ms, input_tokens, output_tokens,"
        " input_cost_per_mtok, output_cost_per_mtok, cost) VALUES (?, ?, ?, ?, 'openai', ?, ?, ?, ?, 1.0, 2.0, ?)",
        (when, book, job, llm, outcome, latency, *tokens, cost),
    )


@pytest.fixture
def old_store(tmp_path):
    path = tmp_path / "usage.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    row(conn, "2026-11-30T10:00:00.000+00:00", "openai/a", "ok", book="moby", job="copyedit")
    row(
        conn,
        "2026-11-30T11:00:00.000+00:00",
        "openai/a",
        "error",
        tokens=(None, None),
        cost=None,
        latency=30.0,
    )
    row(
        conn, "2026-11-29T09:00:00.000+00:00", "openai/b", "ok", tokens=(1000, 500), cost=0.002, latency=400.0
    )
    row(conn, "2026-10-01T09:00:00.000+00:00", "openai/b", "ok")  # before the default 30 days
    row(conn, "2026-11-30T12:00:00.000+00:00", "openai/a", "cache_hit", cost=0.0)
    conn.commit()
    conn.close()
    return path


def test_an_older_store_is_migrated_in_place_and_keeps_every_row(old_store):
    store = UsageStore(old_store)
    store.record(
        AttemptRecord("openai/c", "openai", "ok", tokens_estimated=True, batch_id="b1", input_tokens=3)
    )
    rows = store.query("SELECT llm, tokens_estimated, batch_id FROM attempts ORDER BY id")
    assert len(rows) == 6 and rows[0] == {"llm": "openai/a", "tokens_estimated": 0, "batch_id": None}
    assert rows[-1] == {"llm": "openai/c", "tokens_estimated": 1, "batch_id": "b1"}


def _open_store(path, results):
    try:
        UsageStore(path).check()
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_making_the_same_new_store_at_once_all_get_it(tmp_path):
    """WAL switching, the added columns and the rollup are made once, whoever comes first."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for trial in range(3):
        path, results = tmp_path / f"usage-{trial}.sqlite", ctx.Queue()
        procs = [ctx.Process(target=_open_store, args=(path, results)) for _ in range(12)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(30)
        assert [results.get(timeout=5) for _ in procs] == ["ok"] * 12
        conn = sqlite3.connect(path)
        assert conn.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'attempts_rollup'"
        ).fetchone() == (1,)


def test_usage_by_llm_with_totals(old_store):
    report = usage_report(UsageStore(old_store), now=NOW)
    assert report["by"] == ["llm"] and report["until"] == "2026-12-01T12:00:00+00:00"
    a, b = report["rows"]
    assert (a["llm"], a["requests"], a["ok"], a["failed"], a["cache_hits"]) == ("openai/a", 2, 1, 1, 1)
    assert (a["input_tokens"], a["output_tokens"], a["cost"]) == (100, 50, 0.001)
    assert (b["llm"], b["requests"], b["p50_latency_ms"], b["p95_latency_ms"]) == (
        "openai/b",
        1,
        400.0,
        400.0,
    )
    assert report["total"]["requests"] == 3 and report["total"]["cost"] == pytest.approx(0.003)


@pytest.mark.parametrize(
    "since, until, by",
    [
        (None, None, ["llm"]),
        ("2026-09-15T06:30:00", "2026-11-30T10:30:00", ["day", "book"]),
        ("90d", None, ["month", "job", "provider"]),
        ("2026-11-30T09:00:00", "2026-11-30T11:30:00", ["llm"]),  # within one day: raw only
    ],
)
def test_whole_days_from_the_rollup_match_the_attempts_read_raw(
    old_store, monkeypatch, home, since, until, by
):
    from llmctl.catalog.load import load_catalog
    from llmctl.engine import reports
    from llmctl.paths import Home

    conn = sqlite3.connect(old_store)
    for _ in range(2):  # the same day, LLM and latency bucket, before the rollup existed
        row(conn, "2026-11-10T08:00:00.000+00:00", "openai/a", "ok", latency=55.0)
    conn.commit()
    store = UsageStore(old_store)  # migrated: the rollup is filled from the rows already there
    store.check()
    for _ in range(3):  # and after: the trigger adds to the same rollup row
        row(conn, "2026-11-10T09:00:00.000+00:00", "openai/a", "ok", latency=55.4)
    for day in range(1, 29):  # rows added after: kept by the trigger
        row(conn, f"2026-09-{day:02d}T{day % 24:02d}:00:00.000+00:00", "openai/b", "ok", latency=10.0 * day)
        row(conn, f"2026-11-{day:02d}T12:00:00.000+00:00", "openai/a", "error", tokens=(5, None), cost="x")
    conn.commit()
    catalog = load_catalog(Home.resolve())
    kw = {"since": since, "until": until, "by": by, "now": NOW}
    rolled = [usage_report(store, **kw), usage_report(store, **kw, prices="current", catalog=catalog)]
    monkeypatch.setattr(reports, "_full_days", lambda start, end: None)
    raw = [usage_report(store, **kw), usage_report(store, **kw, prices="current", catalog=catalog)]
    assert rolled == raw and rolled[0]["total"]["requests"] > 0
    assert sqlite3.connect(old_store).execute(
        "SELECT n FROM daily WHERE day = '2026-11-10' AND bucket = 55"
    ).fetchall() == [(5,)]


def test_usage_by_day_and_book_filters_and_current_prices(old_store, home):
    store = UsageStore(old_store)
    by_day = usage_report(store, by=["day", "llm"], since="7d", now=NOW)
    assert [(r["day"], r["llm"]) for r in by_day["rows"]] == [
        ("2026-11-29", "openai/b"),
        ("2026-11-30", "openai/a"),
    ]
    moby = usage_report(store, book="moby", since="2026-11-01", until="2026-11-30", now=NOW)
    assert [r["requests"] for r in moby["rows"]] == [1]
    from llmctl.catalog.load import load_catalog
    from llmctl.paths import Home

    catalog = load_catalog(Home.resolve(home))
    # openai/a and openai/b are not in today's catalog: their stored prices stand.
    current = usage_report(store, prices="current", catalog=catalog, now=NOW)
    assert current["total"]["cost"] == pytest.approx(0.003)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"by": ["week"]}, "unknown grouping 'week'"),
        ({"since": "yesterday"}, "'yesterday' is not a time"),
        ({"prices": "tomorrow"}, "--prices takes stored or current"),
        ({"since": "1d", "until": "2026-01-01"}, "is before --since"),
    ],
)
def test_bad_report_values_are_usage_errors(old_store, kwargs, message):
    with pytest.raises(UsageError, match=message):
        usage_report(UsageStore(old_store), now=NOW, **kwargs)


def test_times_read_as_dates_times_or_spans():
    assert parse_when("24h", now=NOW) == NOW - dt.timedelta(hours=24)
    assert parse_when("2026-11-02", now=NOW, end=True) == dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    assert parse_when("2026-11-02T10:30", now=NOW) == dt.datetime(2026, 11, 2, 10, 30, tzinfo=dt.UTC)


pytestmark = pytest.mark.team(
    lambda url: [
        entry("openai/a", api_base=f"{url}/a/v1", aliases=["a"], valid_groups=["writer", "editor"]),
        entry("openai/b", api_base=f"{url}/b/v1"),
    ],
    keys={"OPENAI_API_KEY": "sk-report-secret"},
)


def test_usage_command_after_real_prompts_marks_estimated_counts(cli, team, server):
    server.add("/a/v1/chat/completions", openai_chat("reported", 10, 4))
    server.add(
        "/a/v1/chat/completions",
        Reply(body={"choices": [{"message": {"content": "no usage in this answer"}}]}),
    )
    assert cli("prompt", "hi", "--llm", "openai/a", "--no-stream", "--job", "copyedit").exit_code == 0
    result = cli("prompt", "tell me", "--llm", "openai/a", "--no-stream", "--json")
    assert json.loads(result.stdout)["usage"] == {"input_tokens": 1, "output_tokens": 5, "estimated": True}
    report = json.loads(cli("usage", "--json", "--by", "job").stdout)
    assert [(r["job"], r["requests"]) for r in report["rows"]] == [(None, 1), ("copyedit", 1)]
    assert report["total"]["output_tokens"] == 9 and report["total"]["cost"] > 0
    text = cli("usage", "--by", "llm")
    assert text.exit_code == 0 and "openai/a" in text.stdout and "total" in text.stdout
    assert cli("usage", "--by", "weekday").exit_code == 2


def test_cooldown_list_and_clear(cli, team, server):
    state = team / "state"
    state.mkdir(parents=True)
    later = time.time() + 300
    (state / "cooldown.json").write_text(
        json.dumps(
            {
                "llm:openai/a": {"failures": 3, "until": later},
                "llm:openai/b": {"failures": 1},
                f"endpoint:{server.url}/b/v1": {"failures": 1, "until": later},
            }
        )
    )
    rows = {r["key"]: r for r in json.loads(cli("cooldown", "list", "--json").stdout)}
    assert rows["llm:openai/a"]["kind"] == "llm" and rows["llm:openai/a"]["until"].endswith("+00:00")
    assert rows["llm:openai/b"]["until"] is None and rows[f"endpoint:{server.url}/b/v1"]["kind"] == "endpoint"
    assert "in cooldown" in cli("pick", "--llm", "openai/a", "--group", "writer", "--explain").stdout
    cleared = json.loads(cli("cooldown", "clear", "a", f"{server.url}/b/v1/", "--json").stdout)["cleared"]
    assert sorted(cleared) == sorted(["llm:openai/a", f"endpoint:{server.url}/b/v1"])
    assert [r["key"] for r in json.loads(cli("cooldown", "list", "--json").stdout)] == ["llm:openai/b"]
    assert cli("cooldown", "clear", "nope/nope").exit_code == 2
    assert cli("cooldown", "clear").exit_code == 2
    assert cli("cooldown", "clear", "--all").exit_code == 0
    assert json.loads(cli("cooldown", "list", "--json").stdout) == []
