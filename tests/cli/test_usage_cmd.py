"""`llmctl usage` and the commands that send, on a usage store that is damaged, of another
layout, unreadable or read-only: one line naming the file (exit 3), never a traceback, and
nothing sent."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess

import pytest

from conftest import team_of_one
from llmctl.engine.usage import AttemptRecord, UsageStore

KEY = "sk-usage-damage-secret-01"


pytestmark = pytest.mark.team(team_of_one, keys={"OPENAI_API_KEY": KEY}, answer="never")


def _store_with_rows(path, n=300):
    store = UsageStore(path)
    for _ in range(n):
        store.record(AttemptRecord("openai/a", "openai", "ok", input_tokens=5, cost=0.001, latency_ms=20.0))
    store.close()  # the last connection checkpoints the WAL into the file


def _random_bytes(path):
    path.write_bytes(random.Random(16).randbytes(20_000))


def _truncated(path):
    _store_with_rows(path)
    path.write_bytes(path.read_bytes()[:5000])


def _wrong_columns(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE attempts (who TEXT, what BLOB)")
    conn.commit()
    conn.close()


def _directory(path):
    path.mkdir()


def _symlink_loop(path):
    path.symlink_to(path.name)  # cannot be opened at all (ELOOP), as an unreadable file


def _wal_blocked(path):
    _store_with_rows(path, 3)
    (path.parent / (path.name + "-wal")).mkdir()  # SQLite cannot open its log: unusable


def _newer_layout(path):
    _store_with_rows(path, 3)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()


def _header_only(path):
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 84)  # the magic, then nonsense


DAMAGE = {
    "random bytes": (_random_bytes, "cannot be used"),
    "truncated": (_truncated, "cannot be used"),
    "wrong columns": (_wrong_columns, "no such column"),
    "a directory": (_directory, "is a directory"),
    "a symlink loop": (_symlink_loop, "cannot be used"),
    "its log blocked": (_wal_blocked, "cannot be used"),
    "a newer layout": (_newer_layout, "written by a newer llmctl (layout 7"),
    "a damaged header": (_header_only, "cannot be used"),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_usage_on_a_damaged_store_is_one_line_naming_it(cli, team, kind):
    damage, problem = DAMAGE[kind]
    store = team / "usage.sqlite"
    damage(store)
    for args in (["usage"], ["usage", "--json", "--by", "day", "--since", "3d"]):
        result = cli(*args)
        assert result.exit_code == 3, (args, result.stderr)
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"llmctl: error: {store}: ") and problem in first, result.stderr
    assert cli("budget", "set", "5").exit_code == 0
    shown = cli("budget", "show")  # reads what was spent from the store
    assert shown.exit_code == 3 and shown.stderr.startswith(f"llmctl: error: {store}: "), shown.stderr


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_store_stops_prompt_before_it_sends(cli, team, server, kind):
    damage, problem = DAMAGE[kind]
    store = team / "usage.sqlite"
    damage(store)
    result = cli("prompt", "hi", "--group", "writer")
    assert result.exit_code == 3 and f"{store}: " in result.stderr and problem in result.stderr
    assert server.requests == []


def test_text_in_numeric_cells_counts_as_nothing_not_a_traceback(cli, team):
    store = team / "usage.sqlite"
    _store_with_rows(store, 3)
    conn = sqlite3.connect(store)
    conn.execute("UPDATE attempts SET cost = 'abc', input_tokens = 'zz', latency_ms = 'slow' WHERE id = 1")
    # The rollup damaged too, on a whole day a report reads from it.
    conn.execute(
        "INSERT INTO daily SELECT '2020-01-01', book, job, llm, provider, 'x', n, requests, ok, "
        "failed, hits, input_tokens, output_tokens, 'y' FROM daily"
    )
    conn.commit()
    conn.close()
    result = cli("usage", "--json", "--since", "2020-01-01", "--until", "2020-01-01")
    assert result.exit_code == 0, result.stderr
    assert '"requests": 3' in result.stdout


def test_an_empty_file_is_an_empty_store(cli, team):
    (team / "usage.sqlite").write_bytes(b"")  # SQLite reads an empty file as an empty database
    result = cli("usage", "--json")
    assert result.exit_code == 0 and '"requests": 0' in result.stdout


@pytest.fixture
def read_only(team):
    """usage.sqlite that refuses writes. Tests run as root, which chmod does not stop: the
    file is made immutable (chattr +i) instead; skipped where that is not possible."""
    store = team / "usage.sqlite"
    _store_with_rows(store, 2)
    if os.geteuid() != 0:
        store.chmod(0o444)
        yield store
        store.chmod(0o644)
        return
    if not shutil.which("chattr"):
        pytest.skip("chattr is not here to make a file read-only for root")
    made = subprocess.run(["chattr", "+i", str(store)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"this file system does not take chattr +i: {made.stderr.decode().strip()}")
    try:
        yield store
    finally:
        subprocess.run(["chattr", "-i", str(store)], check=True)


def test_a_read_only_store_with_a_budget_stops_before_sending(cli, team, server, read_only):
    assert cli("budget", "set", "5").exit_code == 0
    for args in (["prompt", "hi", "--group", "writer"], ["prompt", "hi", "--group", "writer", "--json"]):
        result = cli(*args)
        assert result.exit_code == 3, result.stderr
        assert f"{read_only}: the usage store cannot be used (attempt to write a readonly database)" in (
            result.stderr
        )
    assert server.requests == []
    assert cli("usage").exit_code == 0  # a read-only store is still read


@pytest.mark.parametrize("since", ["99999999d", "999999999999999999999h", "0001-01-01T00:00:00+01:00"])
def test_usage_since_out_of_range_is_exit_2(cli, team, since):
    result = cli("usage", "--since", since)
    assert result.exit_code == 2 and "out of range" in result.stderr.splitlines()[0], result.stderr


def test_usage_until_the_last_day_of_the_calendar_is_exit_2(cli, team):
    result = cli("usage", "--until", "9999-12-31")
    assert result.exit_code == 2 and "out of range" in result.stderr
