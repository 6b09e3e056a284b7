"""`job check`: every job's templates, schema and files, and every book's job values, read
and checked; each problem one line naming the file and line where it is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from llmctl.compose import templates
from llmctl.compose.render import INPUT, Work, field_line, home_path, template_place
from llmctl.compose.schema import read_schema_file, schema_problem
from llmctl.compose.variables import default_file
from llmctl.errors import FileError, did_you_mean, where
from llmctl.files.io import read_text, table_line

if TYPE_CHECKING:
    from llmctl.paths import Home
    from llmctl.prefs.books import Book
    from llmctl.prefs.jobs import Job


def check_jobs(home: Home) -> tuple[int, list[str]]:
    """Return (the number of jobs checked, every problem as `FILE[:LINE]: ...`), the jobs
    file's and the books' included; no problems means every job can be rendered."""
    from llmctl.prefs.books import list_books, load_book
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import load_jobs

    try:
        config = load_config(home)
        jobs = load_jobs(home, config)
    except FileError as exc:
        return 0, exc.problems
    problems: list[str] = []
    for job in jobs.values():
        problems += job_problems(job, home)
    for name in list_books(home):
        try:
            book = load_book(home, name, config.extra_groups)
        except FileError as exc:
            problems += exc.problems
            continue
        problems += book_problems(book, jobs, home)
    return len(jobs), problems


def job_problems(job: Job, home: Home) -> list[str]:
    """The problems of one job's templates, schema and files."""
    problems: list[str] = []
    prompt, prompt_path = job.prompt, None
    if job.prompt_file is not None:
        prompt_path = home_path(home, job.prompt_file)
        prompt = _read(prompt_path, job, "prompt_file", problems)
    work = Work(job.system, prompt, prompt_path)
    for which in ("system", "prompt"):
        source = work.system if which == "system" else work.prompt
        if source is not None:
            problems += _template_problems(job, which, work, source)
    if job.schema_file is not None:
        try:
            read_schema_file(home_path(home, job.schema_file))
        except FileError as exc:
            problems.append(_at(job, "schema_file", f"{exc.first}"))
    elif job.json_schema is not None:
        problem = schema_problem(job.json_schema)
        if problem:
            problems.append(_at(job, "schema", problem))
    for name, spec in job.vars.items():
        named = default_file(spec)
        if named is not None:
            _read(home_path(home, named), job, f"vars.{name}.default", problems)
    return problems


def book_problems(book: Book, jobs: dict[str, Job], home: Home) -> list[str]:
    """The problems of a book's job values: unknown jobs or variables, files not readable."""
    problems: list[str] = []
    if book.path is None:  # a book without a file sets no job values
        return problems
    text = read_text(book.path)
    for job_name, values in book.jobs.items():
        job = jobs.get(job_name)
        if job is None:
            line = table_line(text, ["jobs", job_name, "vars"])
            problems.append(
                f"{where(book.path, line, None, None)}unknown job {job_name!r}{did_you_mean(job_name, jobs)}"
            )
            continue
        for name, value in values.vars.items():
            line = table_line(text, ["jobs", job_name, "vars", name])
            here = where(book.path, line, None, None)
            if name not in job.vars:
                problems.append(
                    f"{here}job {job_name!r} has no variable {name!r}{did_you_mean(name, job.vars)}"
                )
            elif not isinstance(value, str) or job.vars[name].file:
                path = home_path(home, value if isinstance(value, str) else value.file)
                try:
                    read_text(path)
                except FileError as exc:
                    problems.append(f"{here}variable {name!r}: {exc.first}")
    return problems


def _template_problems(job: Job, which: str, work: Work, source: str) -> list[str]:
    try:
        compiled = templates.compile_template(source)
    except templates.TemplateFault as fault:
        return [_in_template(job, which, work, fault.line, f"{which} template: {fault.message}")]
    undeclared = sorted(compiled.names - job.vars.keys() - {INPUT})
    return [
        _in_template(
            job,
            which,
            work,
            compiled.line_of(name),
            f"{which} template uses {name!r}, which the job does not declare{did_you_mean(name, job.vars)}",
        )
        for name in undeclared
    ]


def _in_template(job: Job, which: str, work: Work, line: int | None, problem: str) -> str:
    path, at = template_place(job, which, work, line)
    if at is None and path == job.path:
        at = field_line(job, which)
    return f"{where(path or 'jobs.toml', at, None, None)}job {job.name!r}: {problem}"


def _read(path: Path, job: Job, what: str, problems: list[str]) -> str | None:
    """The file's text, or None with its problem added (placed at the jobs file's line)."""
    try:
        return read_text(path)
    except FileError as exc:
        problems.append(_at(job, what, exc.first))
        return None


def _at(job: Job, what: str, problem: str) -> str:
    """A problem of the job's `what` field, placed at its line in the jobs file."""
    line = None
    if job.path is not None:
        try:
            line = table_line(read_text(job.path), ["jobs", job.name, *what.split(".")])
        except FileError:
            line = None
    return f"{where(job.path or 'jobs.toml', line, None, None)}job {job.name!r}: {what}: {problem}"
