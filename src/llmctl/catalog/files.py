"""Read and validate one catalog file: entries as patches (only the fields the file sets),
with the line each entry starts on, every problem named by path, line, entry and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.errors import FileError, did_you_mean, where
from llmctl.files.cache import cached
from llmctl.files.io import key_lines, load

CATALOG_KEYS = ("llms",)


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
    salt = "catalog-2:" + ",".join(extra_groups)  # 2: null fields are left out
    data = cached(path, cache_dir, salt, lambda: _validate_catalog(path, extra_groups))
    return CatalogFile(path=path, entries=data["entries"], lines=data["lines"])


def entries_of(path: Path, data: Any) -> list[Any]:
    """Return the entry list of a parsed catalog document, or raise FileError for a wrong shape."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        unknown = [key for key in data if key not in CATALOG_KEYS]
        if unknown:
            raise FileError(
                path,
                f"unknown top-level key {unknown[0]!r}{did_you_mean(unknown[0], CATALOG_KEYS)}",
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
                first = f" (first defined on line {seen[raw_id]})" if seen[raw_id] else ""
                problems.append((f"duplicate id{first}", line, label, "id"))
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
        message, line, entry_label, fld = problems[0]
        raise FileError(
            path,
            message,
            line=line,
            entry=entry_label,
            field=fld,
            more=[where(path, ln, lb, f) + msg for msg, ln, lb, f in problems[1:]],
        )
    return {"entries": entries, "lines": lines}


class EntryInvalid(Exception):
    """Raised by validate_entry with a list of (field, message)."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__(problems[0][1])
        self.problems = problems


def validate_entry(raw: dict[str, Any], extra_groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate one entry; return the fields it sets (JSON-able), a null one as unset (a
    catalog written as JSON may say `"api_base": null`). Raises EntryInvalid."""
    from pydantic import ValidationError

    from llmctl.catalog.spec import LLMSpec
    from llmctl.files.validation import describe_error

    try:
        spec = LLMSpec.model_validate(raw, context={"extra_groups": extra_groups})
    except ValidationError as exc:
        raise EntryInvalid([describe_error(err, LLMSpec) for err in exc.errors()]) from None
    fields = spec.model_dump(mode="json", exclude_unset=True)
    return {key: value for key, value in fields.items() if value is not None}
