"""audit.jsonl: one JSON line per change made through the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from llmctl.files.io import append_line, no_directory, read_text
from llmctl.paths import Home


@dataclass
class Change:
    """One changed target: its state before and after (None when it did not / no longer exists)."""

    target: str
    before: Any
    after: Any


def record(home: Home, command: str, changes: list[Change]) -> None:
    """Append one audit line per change; callers hold the write lock and record before they
    replace the file changed, so no change is made without its record. Raises FileError
    when the log cannot be written (the change must then not be made)."""
    if not changes:
        return
    import datetime as dt
    import getpass

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = None
    lines = [
        json.dumps(
            {
                "time": now,
                "user": user,
                "command": command,
                "target": c.target,
                "before": c.before,
                "after": c.after,
            },
            ensure_ascii=False,
            sort_keys=False,
        )
        for c in changes
    ]
    append_line(home.audit_file, "\n".join(lines))


def read(home: Home, limit: int | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """The last `limit` audit records, oldest first, and one problem line per damaged line
    (its file and line number), which is left out. Raises FileError when the log cannot be
    read at all (a directory in its place, say)."""
    path = home.audit_file
    no_directory(path)
    if not path.exists():
        return [], []
    records, problems = [], []
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: damaged line left out (invalid JSON: {exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}:{number}: damaged line left out (not a JSON object)")
            continue
        records.append(record)
    return (records[-limit:] if limit else records), problems


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[Any, Any]:
    """Reduce two entry dicts to the fields that differ (whole dicts for add/remove)."""
    if before is None or after is None:
        return before, after
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
