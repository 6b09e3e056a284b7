"""llmctl's own memory files (cooldown and rate-limit state, the response cache) when they
cannot be used: each costs only that memory, said once per process; a damaged one is set
aside (`NAME.damaged`, named in the warning) and started afresh."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmctl.errors import LlmctlWarning

_said: set[str] = set()


def state_problem(message: str) -> None:
    """Say once per process that a state file could not be used (an LlmctlWarning; the CLI
    shows it as one `llmctl: warning:` line)."""
    if message in _said:
        return
    _said.add(message)
    warnings.warn(LlmctlWarning(message), stacklevel=3)


def state_trouble(path: Path, what: str, problem: str) -> None:
    """Warn that `what` (`the cooldown state`) at `path` could not be used: `problem` says
    how and what is lost. When the folder itself is unusable (a file in its place, say) the
    warning names the folder, the same for every state file in it: one warning, not one each."""
    folder = _folder_trouble(path.parent)
    if folder:
        state_problem(
            f"the state folder {path.parent} cannot be used ({folder}): "
            "cooldowns and rate limits are not remembered now"
        )
    else:
        state_problem(f"{what} {path} {problem}")


def _folder_trouble(folder: Path) -> str | None:
    """Why `folder` cannot hold files (None when it can)."""
    for place in (folder, *folder.parents):
        if place.exists() or place.is_symlink():
            if not place.is_dir():
                return f"{place} is not a folder"
            if place == folder and not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
                return "permission denied"
            return None
    return None


def set_aside(path: Path, what: str) -> None:
    """Move a damaged state file out of the way (`NAME.damaged`) with one warning naming it;
    the next use starts afresh."""
    aside = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, aside)
    except OSError as exc:
        state_problem(f"{what} {path} is damaged and cannot be set aside ({exc.strerror or exc})")
        return
    for suffix in ("-wal", "-shm", "-journal"):  # SQLite's own files go with it
        with contextlib.suppress(OSError):
            os.replace(path.with_name(path.name + suffix), aside.with_name(aside.name + suffix))
    state_problem(f"{what} {path} was damaged: set aside as {aside.name}; it starts afresh")


def damaged(exc: BaseException) -> bool:
    """Whether a SQLite error means the file is not a sound database of ours (as opposed to
    busy, read-only or out of reach, which setting it aside would not mend)."""
    return isinstance(exc, Unrecognised) or (
        isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)
    )


class Unrecognised(sqlite3.DatabaseError):
    """A database whose tables are not the ones llmctl keeps there."""


def wal(conn: sqlite3.Connection) -> None:
    """Put a store in WAL mode. Switching waits for no busy handler: processes making the
    same new file at once see "database is locked" for a moment, so it is tried again."""
    for pause in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 0.0):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or not pause:
                raise
            time.sleep(pause)


def open_state_db(
    path: Path,
    schema: str,
    tables: Mapping[str, Sequence[str]],
    what: str,
    *,
    isolation_level: str | None = None,
    retry: bool = True,
) -> sqlite3.Connection:
    """A connection to a state database (WAL mode, `schema` applied, its `tables` holding at
    least the given columns). A damaged file is set aside (one warning) and a new one made.
    Raises sqlite3.Error or OSError when even that cannot be used."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=isolation_level)
    try:
        wal(conn)
        conn.executescript(schema)
        for table, columns in tables.items():
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not set(columns) <= have:
                raise Unrecognised(f"table {table} lacks {', '.join(sorted(set(columns) - have))}")
        return conn
    except (sqlite3.Error, OSError) as exc:
        conn.close()
        if not (retry and damaged(exc)):
            raise
    set_aside(path, what)
    return open_state_db(path, schema, tables, what, isolation_level=isolation_level, retry=False)
