"""`job show`: what a job needs and carries, and where each of its values comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from llmctl.compose.render import read_work, template_hash
from llmctl.compose.variables import SOURCE_JOB, book_source
from llmctl.prefs.jobs import field_origin

if TYPE_CHECKING:
    from llmctl.paths import Home
    from llmctl.prefs.books import Book
    from llmctl.prefs.jobs import Job


class JobReport(TypedDict):
    """The `job show --json` shape: each part with `from`, where it comes from (`bundled
    jobs`, `jobs file`, a file's path, `book:B`)."""

    job: str
    description: str | None
    group: dict[str, Any]
    needs: dict[str, Any]
    system: dict[str, Any] | None
    prompt: dict[str, Any] | None
    vars: dict[str, dict[str, Any]]
    params: dict[str, dict[str, Any]]
    output: dict[str, Any]
    schema: dict[str, Any] | None
    template_hash: str | None


def job_report(job: Job, *, home: Home, book: Book | None = None) -> JobReport:
    """Return what `job` needs and carries, each part with where it comes from; with `book`,
    each variable's value as the book sets it. Raises FileError (exit 3) when the job's
    prompt or schema file cannot be read or its schema is not valid."""
    work = read_work(job, home)
    params = job.params.to_dict()
    return JobReport(
        job=job.name,
        description=job.description,
        group={"value": job.group, "from": field_origin(job, "group")},
        needs={
            "tier": job.tier,
            "capabilities": list(job.capabilities),
            "min_context": job.min_context,
            "from": job.origin,
        },
        system=None if work.system is None else {"text": work.system, "from": field_origin(job, "system")},
        prompt=None
        if work.prompt is None
        else {
            "text": work.prompt,
            "from": str(work.prompt_path) if work.prompt_path else field_origin(job, "prompt"),
        },
        vars={name: _var(job, name, book) for name in job.vars},
        params={
            name: {"value": value, "from": field_origin(job, "params")} for name, value in params.items()
        },
        output={"value": "json" if job.answers_json else "text", "from": field_origin(job, "output")},
        schema=None
        if work.schema is None
        else {
            "value": work.schema,
            "from": job.schema_file if job.schema_file else field_origin(job, "json_schema"),
        },
        template_hash=template_hash(work.system, work.prompt, work.schema, params),
    )


def _var(job: Job, name: str, book: Book | None) -> dict[str, Any]:
    """A variable's declaration and the value it gets without a command line."""
    spec = job.vars[name]
    out: dict[str, Any] = {**spec.to_dict(), "from": field_origin(job, "vars")}
    set_by_book = book.job_vars(job.name).get(name) if book is not None else None
    if set_by_book is not None:
        value = set_by_book if isinstance(set_by_book, str) else {"file": set_by_book.file}
        out.update(value=value, source=book_source(book.name))  # type: ignore[union-attr]
    elif spec.default is not None or not spec.required:
        out.update(value=spec.default if spec.default is not None else "", source=SOURCE_JOB)
    else:
        out.update(value=None, source=None)  # required: the command line must give it
    return out
