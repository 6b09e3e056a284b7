"""audit.jsonl: one JSON line per change made through the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from llmctl.files.io import append_line, json_value, no_directory, read_bytes
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
    (its file and line number: not UTF-8, not JSON, nested too deeply, not an object),
    which is left out. Raises FileError when the log cannot be read at all (a directory in
    its place, say)."""
    path = home.audit_file
    no_directory(path)
    if not path.exists():
        return [], []
    records, problems = [], []
    for number, raw in enumerate(read_bytes(path).split(b"\n"), start=1):
        if not raw.strip():
            continue
        record, problem = _record(raw, first=number == 1)
        if problem is not None:
            problems.append(f"{path}:{number}: damaged line left out ({problem})")
        else:
            records.append(record)
    return (records[-limit:] if limit else records), problems


def _record(raw: bytes, *, first: bool) -> tuple[Any, str | None]:
    """One line read back: (the record, None) or (None, what is wrong with it)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text: {exc.reason} at byte {exc.start + 1}"
    if first:
        line = line.removeprefix("\ufeff")  # a BOM is no content
    try:
        record = json_value(line)
    except ValueError as exc:
        return None, f"invalid JSON: {getattr(exc, 'msg', exc)}"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    return record, None


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[Any, Any]:
    """Reduce two entry dicts to the fields that differ (whole dicts for add/remove)."""
    if before is None or after is None:
        return before, after
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
