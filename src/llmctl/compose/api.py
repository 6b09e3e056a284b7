"""The Python API of jobs' work: `llmctl.render`, and `render_named`, which every surface
calls with a job's and a book's names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmctl.compose.render import Rendered, render_job
from llmctl.paths import Home


def render(
    job: str,
    *,
    book: str | None = None,
    vars: Mapping[str, Any] | None = None,
    input: str | None = None,
    home: Home | str | os.PathLike[str] | None = None,
) -> list[dict[str, str]]:
    """Return the messages the job `job` sends (`{"role", "content"}`, the system's first)
    for `input` with `vars` (over the book's values, over the job's defaults).

    Raises UnknownNameError for an unknown job, TemplateError for a variable missing or
    unknown or a template that cannot be rendered (both UsageError), FileError for a file
    of the home that cannot be read."""
    return render_named(job, book=book, given=vars, input=input or "", home=home).messages


def render_named(
    job: str,
    *,
    book: str | None = None,
    given: Mapping[str, Any] | None = None,
    input: str = "",
    params: Mapping[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
    home: Home | str | os.PathLike[str] | None = None,
) -> Rendered:
    """`render_job` for a job and a book given by name (the home's config, jobs and book
    file read). Raises as `render_job` does, and UnknownNameError for an unknown job."""
    from llmctl.prefs.books import load_book
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import get_job, load_jobs

    home = home if isinstance(home, Home) else Home.resolve(home)
    config = load_config(home)
    found = get_job(load_jobs(home, config), job)
    prefs = load_book(home, book, config.extra_groups) if book is not None else None
    return render_job(found, home=home, book=prefs, given=given, input=input, params=params, schema=schema)
