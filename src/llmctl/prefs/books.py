"""Per-book preferences: one TOML file per book under `books/` (override + default per group,
and values of the jobs' template variables: `[jobs.JOB.vars]`)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmctl.catalog.entry import Text
from llmctl.catalog.load import Catalog
from llmctl.errors import FileError, UnknownNameError, UsageError
from llmctl.files.cache import cached
from llmctl.files.io import atomic_write, line_in_table, load, locked, table_line
from llmctl.files.toml_edit import dump_update
from llmctl.files.validation import describe_error, spec_of
from llmctl.paths import Home

if TYPE_CHECKING:
    from pydantic import BaseModel

    from llmctl.prefs.audit import Change

MAX_BOOK_NAME = 100
_SAFE_BOOK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # matched whole: no trailing newline
OVERRIDE_GROUP = "override"
NOT_IN_FILE = {"file": False}


@dataclass(slots=True)
class FileValue:
    """A variable's value read from a file (`style = { file = "moby/style.md" }`, relative
    to the home)."""

    file: str


@dataclass(slots=True)
class BookJob:
    """A book's values for one job's template variables."""

    vars: dict[str, str | FileValue] = field(default_factory=dict)


@dataclass(slots=True)
class Book:
    """A book's LLM preferences (the one definition of a book file's fields). `exists` is
    False for a book without a file (no preferences)."""

    name: str = field(metadata=NOT_IN_FILE)
    override: Text | None = None
    defaults: dict[str, Text] = field(default_factory=dict)
    jobs: dict[str, BookJob] = field(default_factory=dict)
    path: Path | None = field(default=None, metadata=NOT_IN_FILE)
    exists: bool = field(default=False, metadata=NOT_IN_FILE)

    def to_dict(self) -> dict[str, Any]:
        """The `book show --json` shape (`jobs` only when the book sets job values)."""
        out: dict[str, Any] = {"book": self.name, "override": self.override, "defaults": dict(self.defaults)}
        if self.jobs:
            out["jobs"] = {
                job: {
                    "vars": {k: v if isinstance(v, str) else {"file": v.file} for k, v in values.vars.items()}
                }
                for job, values in self.jobs.items()
            }
        return out

    def job_vars(self, job: str) -> dict[str, str | FileValue]:
        """The book's values for `job`'s variables (empty when it sets none)."""
        found = self.jobs.get(job)
        return dict(found.vars) if found else {}


def check_book_name(name: str) -> str:
    """Return `name` if it is safe as a file name; raise UsageError (exit 2) otherwise."""
    if not name:
        raise UsageError("a book name cannot be empty")
    if len(name) > MAX_BOOK_NAME:
        raise UsageError(f"book name too long ({len(name)} characters; at most {MAX_BOOK_NAME})")
    if not _SAFE_BOOK.fullmatch(name) or ".." in name:
        raise UsageError(
            f"unsafe book name {name!r}",
            hint="use letters, digits, '.', '_' and '-' (no path separators, no '..', no control characters)",
        )
    return name


def book_path(home: Home, name: str) -> Path:
    return home.books_dir / f"{check_book_name(name)}.toml"


def load_book(home: Home, name: str, groups: tuple[str, ...] = ()) -> Book:
    """Return the book's preferences (empty when it has no file).

    Raises UsageError for an unsafe name and FileError (exit 3) for a file with problems.
    """
    path = book_path(home, name)
    if path.is_dir():
        raise FileError(path, "is a directory, not a book file")
    if not path.is_file():
        return Book(name=name, path=path)
    data = cached(path, home.cache_dir, "book:" + ",".join(groups), lambda: _validate(path, groups))
    jobs = {
        job: BookJob(
            {k: v if isinstance(v, str) else FileValue(**v) for k, v in values.get("vars", {}).items()}
        )
        for job, values in data.get("jobs", {}).items()
    }
    return Book(
        name=name,
        override=data.get("override"),
        defaults=data.get("defaults", {}),
        jobs=jobs,
        path=path,
        exists=True,
    )


def list_books(home: Home) -> list[str]:
    """Return the names of the books that have a file, sorted."""
    if not home.books_dir.is_dir():
        return []
    return sorted(
        p.stem for p in home.books_dir.glob("*.toml") if p.is_file() and _SAFE_BOOK.fullmatch(p.stem)
    )


def _validate(path: Path, groups: tuple[str, ...], data: Any = None, text: str = "") -> dict[str, Any]:
    from pydantic import ValidationError

    BookSpec = book_spec()

    if data is None:
        data, text = load(path)
    try:
        spec = BookSpec.model_validate(data, context={"extra_groups": groups})
    except ValidationError as exc:
        err = exc.errors()[0]
        fld, message = describe_error(err, BookSpec)
        loc = [str(p) for p in err.get("loc", ())]
        line = None
        if loc and loc[0] == "defaults":
            line = line_in_table(text, "defaults", None)
        elif loc and loc[0] == "jobs":
            line = table_line(text, loc + _first_bad_value(data, loc))
        raise FileError(path, message, line=line, field=fld) from None
    return spec.model_dump(mode="json", exclude_defaults=True)


def _first_bad_value(data: Any, loc: list[str]) -> list[str]:
    """[NAME] of the first bad value when the error is about a job's `vars` table, else []."""
    from llmctl.prefs.specs import bad_var_values

    if len(loc) != 3 or loc[2] != "vars":
        return []
    try:
        return bad_var_values(data["jobs"][loc[1]]["vars"])[:1]
    except (KeyError, TypeError):
        return []


@functools.cache
def book_spec() -> type[BaseModel]:
    """The pydantic model of a book file, derived from `Book`."""
    from llmctl.prefs.specs import BookChecks, BookJobChecks, Strict

    return spec_of(Book, BookChecks, nested={BookJob: BookJobChecks, FileValue: Strict})


def check_llm_for_group(catalog: Catalog, llm: str, group: str) -> str:
    """Return the id of `llm` if it exists, is enabled and is valid for `group`; else raise (exit 2)."""
    entry = catalog.get(llm)
    if not entry.enabled:
        raise UsageError(f"{entry.id} is disabled", hint=f"`llmctl enable {entry.id}` first")
    if entry.retired(catalog.today):
        raise UsageError(
            f"{entry.id} was retired on {entry.deprecation_date}",
            hint=f"use {entry.replacement}" if entry.replacement else None,
        )
    if group not in entry.valid_groups:
        valid = [e.id for e in catalog if group in e.valid_groups and e.enabled][:5]
        its = ", ".join(entry.valid_groups) or "none"
        raise UsageError(
            f"{entry.id} is not valid for group {group!r} (its groups: {its})",
            hint=f"LLMs valid for {group}: {', '.join(valid)}..." if valid else None,
        )
    return entry.id


def change_book(
    home: Home,
    catalog: Catalog,
    name: str,
    command: str,
    override: str | None = None,
    group: str | None = None,
    llm: str | None = None,
    clear: bool = False,
) -> Change:
    """Set or clear a book's override (group None) or a group default; write the file and the audit.

    Raises UsageError for an unsafe name, unknown group or unsuitable LLM; FileError
    when the book file has problems (it is then left as it was).
    """
    from llmctl.prefs import audit

    check_book_name(name)
    groups = catalog.config.groups
    if group is not None and group not in groups:
        raise UnknownNameError("group", group, groups, hint=f"groups: {', '.join(groups)}")
    target_group = OVERRIDE_GROUP if group is None else group
    llm_id = None if clear else check_llm_for_group(catalog, llm or override or "", target_group)
    path = book_path(home, name)
    with locked(home.lock_file):
        raw: dict[str, Any] = {}
        if path.is_file():
            raw, text = load(path)
            _validate(path, catalog.config.extra_groups, raw, text)
        before = Book(name, raw.get("override"), dict(raw.get("defaults", {}))).to_dict()
        if group is None:
            if llm_id is None:
                raw.pop("override", None)
            else:
                raw["override"] = llm_id
        else:
            defaults = raw.setdefault("defaults", {})
            if llm_id is None:
                defaults.pop(group, None)
            else:
                defaults[group] = llm_id
            if not defaults:
                raw.pop("defaults")
        after = Book(name, raw.get("override"), dict(raw.get("defaults", {}))).to_dict()
        change = audit.Change(f"book:{name}", before, after)
        if before != after:
            text = dump_update(path, _ordered(raw))
            audit.record(home, command, [change])  # first: no change without its record
            atomic_write(path, text)
    return change


def _ordered(raw: dict[str, Any]) -> dict[str, Any]:
    """TOML needs plain keys before tables: override first, then [defaults]."""
    out = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    out.update({k: v for k, v in raw.items() if isinstance(v, dict)})
    return out
