"""A job's variables and where each value comes from: the command line (or the caller),
then the book, then the job's default. A `file = true` variable's value is a path whose text
is used; a book's `{ file = "..." }` value is one too. Paths in the home's files are relative
to the home; paths given on the command line, to the working directory.

A file named on the command line that cannot be read is a bad command (exit 2); one named
in the user's files is a problem of those files (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmctl.errors import FileError, TemplateError, UsageError, did_you_mean
from llmctl.files.io import load, read_text, table_line

if TYPE_CHECKING:
    from llmctl.paths import Home
    from llmctl.prefs.books import Book
    from llmctl.prefs.jobs import Job, JobVar

SOURCE_CLI = "cli"
SOURCE_JOB = "job"
STDIN = "-"


def book_source(book: str) -> str:
    """The source label of a book's value: `book:NAME`."""
    return f"book:{book}"


@dataclass(frozen=True, slots=True)
class Given:
    """A value given on the command line or by a caller: `value` as given, or the text of the
    file `path` it was read from (`NAME=@FILE`)."""

    value: Any
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class Value:
    """A variable's value as the template gets it, its source (`cli`, `book:B`, `job`) and
    the file its text was read from, if any."""

    value: Any
    source: str
    path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "file": str(self.path) if self.path else None}


def parse_var_options(items: Sequence[str], *, read_stdin: Callable[[], str]) -> dict[str, Given]:
    """Return the values of `--var NAME=VALUE` options (the last one of a name wins):
    `NAME=@FILE` is the file's text, `NAME=@-` stdin's (`read_stdin` is called once at most).
    Raises UsageError for a malformed option, a file that cannot be read or stdin asked twice."""
    found: dict[str, Given] = {}
    stdin_used = None
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--var takes NAME=VALUE (got {item!r})", hint="e.g. --var pov=Ishmael")
        if value == "@" + STDIN:
            if stdin_used is not None:
                raise UsageError(f"--var {name}=@- and --var {stdin_used}=@- both read stdin: one can")
            stdin_used = name
            found[name] = Given(read_stdin())
        elif value.startswith("@"):
            path = Path(value[1:]).expanduser()
            try:
                found[name] = Given(read_text(path), path)
            except FileError as exc:
                raise UsageError(f"--var {name}: {exc.message}") from None
        else:
            found[name] = Given(value)
    return found


def read_vars_file(path: Path) -> dict[str, Given]:
    """Return the values of a `--vars-file` (a TOML table or a JSON object, by its suffix).
    Raises UsageError when it cannot be read or is not a table of values."""
    try:
        data, _text = load(path)
    except FileError as exc:
        raise UsageError(f"--vars-file {exc.message}") from None
    if not isinstance(data, dict):
        raise UsageError(f"--vars-file {path}: must hold a table of NAME = VALUE (got {type(data).__name__})")
    return {str(name): Given(value) for name, value in data.items()}


def resolve(job: Job, *, home: Home, given: Mapping[str, Any], book: Book | None = None) -> dict[str, Value]:
    """Return every variable of `job` with its value and source: `given` (the command line or
    the caller; a plain value or a `Given`) over the book's value over the job's default; an
    optional variable without a default is "".

    Raises TemplateError (exit 2) for a name the job does not declare, a missing required
    variable or a file given that cannot be read; FileError (exit 3) for a book's value of
    an unknown variable or a file named in the home's files that cannot be read."""
    for name in given:
        if name not in job.vars:
            raise _unknown(job, name)
    book_values = book.job_vars(job.name) if book is not None else {}
    for name in book_values:
        if name not in job.vars:
            raise _unknown_in_book(job, book, name)  # type: ignore[arg-type]
    return {name: _value(job, name, spec, home, given, book, book_values) for name, spec in job.vars.items()}


def _value(
    job: Job, name: str, spec: JobVar, home: Home, given: Mapping, book: Any, book_values: dict
) -> Value:
    if name in given:
        item = given[name] if isinstance(given[name], Given) else Given(given[name])
        if spec.file and item.path is None:
            if not isinstance(item.value, str):
                raise TemplateError(job.name, f"variable {name!r} takes a file's path", variable=name)
            path = Path(item.value).expanduser()
            try:
                return Value(read_text(path), SOURCE_CLI, path)
            except FileError as exc:
                raise TemplateError(job.name, f"variable {name!r}: {exc.message}", variable=name) from None
        return Value(item.value, SOURCE_CLI, item.path)
    if name in book_values:
        raw = book_values[name]
        where = f"variable {name!r} of book {book.name!r} ({book.path})"
        if isinstance(raw, str) and not spec.file:
            return Value(raw, book_source(book.name))
        path = home.config_dir / Path(raw if isinstance(raw, str) else raw.file).expanduser()
        return Value(read_home_file(path, where), book_source(book.name), path)
    if spec.default is not None:
        named = default_file(spec)
        if named is None:
            return Value(spec.default, SOURCE_JOB)
        path = home.config_dir / Path(named).expanduser()
        return Value(
            read_home_file(path, f"the default of variable {name!r} of job {job.name!r}"), SOURCE_JOB, path
        )
    if spec.required:
        about = f" ({spec.description})" if spec.description else ""
        raise TemplateError(
            job.name, f"variable {name!r} is required{about}", variable=name, hint=f"pass --var {name}=VALUE"
        )
    return Value("", SOURCE_JOB)


def default_file(spec: JobVar) -> str | None:
    """The file a variable's default names: only a `file = true` variable's, and an empty
    default names none (its value is no text)."""
    return spec.default if spec.file and spec.default else None


def read_home_file(path: Path, named_by: str) -> str:
    """The text of a file named in the home's files. Raises FileError (exit 3) naming it and
    what named it."""
    try:
        return read_text(path)
    except FileError as exc:
        raise FileError(exc.path, exc.problem, hint=f"named by {named_by}") from None


def _unknown(job: Job, name: str) -> TemplateError:
    known = ", ".join(job.vars) or "none"
    return TemplateError(
        job.name,
        f"unknown variable {name!r}{did_you_mean(name, job.vars)}",
        variable=name,
        hint=f"the job's variables: {known}",
    )


def _unknown_in_book(job: Job, book: Book, name: str) -> FileError:
    line = None
    if book.path is not None:
        text = read_text(book.path)
        line = table_line(text, ["jobs", job.name, "vars", name])
    known = ", ".join(job.vars) or "none"
    return FileError(
        book.path or "book",
        f"job {job.name!r} has no variable {name!r}{did_you_mean(name, job.vars)}",
        line=line,
        hint=f"the job's variables: {known}",
    )
