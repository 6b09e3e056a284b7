"""Validate files with pydantic once, then reuse the validated data until the file changes.

Read-only commands (`list`, `show`, `pick`) should start as fast as a bare Typer app.
Importing pydantic alone costs more than that budget, so a file's validated content
is cached as plain JSON, keyed by the file's identity (path, size, mtime, ctime, inode) and
llmctl's version. A changed file is validated again; an invalid file is never cached.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl import __version__
from llmctl.errors import FileError
from llmctl.fileio import atomic_write, key_lines, load
from llmctl.paths import ENV_NO_CACHE

CATALOG_KEYS = ("llms",)


def cached(
    paths: Path | Sequence[Path | None], cache_dir: Path | None, salt: str, build: Callable[[], Any]
) -> Any:
    """Return `build()`'s JSON-able result, from the cache while none of `paths` has changed.

    A path given as None stands for "no such file" and is part of the key too.
    """
    paths = [paths] if isinstance(paths, Path) else list(paths)
    if cache_dir is None or os.environ.get(ENV_NO_CACHE):
        return build()
    key: list[Any] = [__version__, salt]
    for path in paths:
        if path is None:
            key.append(None)
            continue
        try:
            st = path.stat()
        except OSError:
            return build()
        key.append([str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
    import hashlib

    name = hashlib.sha1("\0".join([salt, *map(str, paths)]).encode()).hexdigest()[:20] + ".json"
    cache_file = cache_dir / "validated" / name
    try:
        stored = json.loads(cache_file.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return stored["data"]
    except (OSError, ValueError, AttributeError):
        pass
    data = build()
    with contextlib.suppress(OSError):  # a read-only cache dir only costs speed
        atomic_write(cache_file, json.dumps({"key": key, "data": data}, separators=(",", ":")))
    return data


@dataclass
class CatalogFile:
    """A validated catalog file: entries as patches (only the fields the file sets)."""

    path: Path
    entries: list[dict[str, Any]]
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, llm_id: str) -> int | None:
        return self.lines.get(llm_id)


def read_catalog_file(
    path: Path, *, extra_groups: tuple[str, ...] = (), cache_dir: Path | None = None
) -> CatalogFile:
    """Read and validate one catalog file.

    Returns the entries as patch dicts. Raises FileError naming the path, line, entry
    and field of the first problem (the error's `more` lists the others).
    """
    salt = "catalog:" + ",".join(extra_groups)
    data = cached(path, cache_dir, salt, lambda: _validate_catalog(path, extra_groups))
    return CatalogFile(path=path, entries=data["entries"], lines=data["lines"])


def entries_of(path: Path, data: Any) -> list[Any]:
    """Return the entry list of a parsed catalog document, or raise FileError for a wrong shape."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        unknown = [key for key in data if key not in CATALOG_KEYS]
        if unknown:
            from llmctl.errors import closest

            near = closest(unknown[0], CATALOG_KEYS)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise FileError(
                path,
                f"unknown top-level key {unknown[0]!r}{hint}",
                hint='a catalog is {"llms": [entry, ...]}, a bare array of entries, '
                "or TOML with one [[llms]] table per entry; to read a LiteLLM or OpenRouter "
                "file, use `llmctl catalog import FILE`",
            )
        entries = data.get("llms", [])
        if isinstance(entries, list):
            return entries
    raise FileError(
        path,
        'not a catalog: expected {"llms": [entry, ...]} or a list of entries',
        hint="to read a LiteLLM or OpenRouter file, use `llmctl catalog import FILE`",
    )


def _validate_catalog(path: Path, extra_groups: tuple[str, ...]) -> dict[str, Any]:
    data, text = load(path)
    raw_entries = entries_of(path, data)
    problems: list[tuple[str, int | None, str | None, str | None]] = []
    entries: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    seen: dict[str, int | None] = {}
    id_lines = key_lines(text, "id")
    occurrences: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        if not isinstance(raw, dict):
            problems.append((f"entry #{index + 1} is not a table/object", None, None, None))
            continue
        raw_id = raw.get("id")
        label = raw_id if isinstance(raw_id, str) else f"#{index + 1}"
        line = None
        if isinstance(raw_id, str):
            occurrence = occurrences[raw_id] = occurrences.get(raw_id, -1) + 1
            found = id_lines.get(raw_id, [])
            line = found[occurrence] if occurrence < len(found) else None
            if raw_id in seen:
                where = f" (first defined on line {seen[raw_id]})" if seen[raw_id] else ""
                problems.append((f"duplicate id{where}", line, label, "id"))
                continue
            seen[raw_id] = line
        try:
            entry = validate_entry(raw, extra_groups)
        except EntryInvalid as exc:
            problems.extend((message, line, label, fld) for fld, message in exc.problems)
            continue
        lines[entry["id"]] = line or 0
        entries.append(entry)
    if problems:
        (message, line, label, fld), rest = problems[0], problems[1:]
        raise FileError(
            path,
            message,
            line=line,
            entry=label,
            field=fld,
            more=[_format(path, *p) for p in rest],
        )
    return {"entries": entries, "lines": lines}


def _format(path: Path, message: str, line: int | None, label: str | None, fld: str | None) -> str:
    where = f"{path}:{line}" if line else str(path)
    parts = [p for p in (f"entry {label!r}" if label else "", f"field {fld!r}" if fld else "") if p]
    return f"{where}: " + (", ".join(parts) + ": " if parts else "") + message


class EntryInvalid(Exception):
    """Raised by validate_entry with a list of (field, message)."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__(problems[0][1])
        self.problems = problems


def validate_entry(raw: dict[str, Any], extra_groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate one entry; return the fields it sets (JSON-able). Raises EntryInvalid."""
    from pydantic import ValidationError

    from llmctl.models import LLMSpec

    try:
        spec = LLMSpec.model_validate(raw, context={"extra_groups": extra_groups})
    except ValidationError as exc:
        raise EntryInvalid([describe_error(err, LLMSpec) for err in exc.errors()]) from None
    return spec.model_dump(mode="json", exclude_unset=True)


def describe_error(err: dict[str, Any], model: Any) -> tuple[str | None, str]:
    """Turn one pydantic error into (field, message), suggesting a name for unknown fields."""
    loc = [str(part) for part in err.get("loc", ())]
    fld = ".".join(loc) or None
    if err.get("type") == "extra_forbidden":
        from llmctl.errors import closest

        names = [n for name, f in model.model_fields.items() for n in (name, f.alias) if n]
        near = closest(loc[-1], names) if loc else []
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return fld, f"unknown field{hint}"
    message = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if err.get("type") in ("int_type", "int_from_float", "int_parsing"):
        message = f"must be a whole number (got {err.get('input')!r})"
    return fld, message
