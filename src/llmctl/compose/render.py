"""A job's work made into what is sent: its messages (system, then user), its parameters,
the shape of its answer and the hash that names this version of its work.

`render_job` is the one call every surface makes (`job render`, `prompt`, `batch`,
`estimate`, `serve`, `llmctl.render`): nothing is sent when it raises, and it raises before
anything is half made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from llmctl.compose import templates
from llmctl.compose.schema import read_schema_file, schema_problem
from llmctl.compose.variables import Value, read_home_file, resolve
from llmctl.errors import FileError, TemplateError, UsageError
from llmctl.files.io import line_in_table, read_text

if TYPE_CHECKING:
    from llmctl.paths import Home
    from llmctl.prefs.books import Book
    from llmctl.prefs.jobs import Job
    from llmctl.providers.wire import ChatRequest

INPUT = "input"  # the template name of the prompt text (TEXT or stdin)
PASSED_AS_PARAMS = ("top_p", "stop")  # the parameters a ChatRequest carries in `params`


class RenderedDict(TypedDict):
    """The JSON shape of a rendered job (`job render --json`, `prompt --dry-run --json`)."""

    job: str
    book: str | None
    messages: list[dict[str, str]]
    vars: dict[str, dict[str, Any]]
    params: dict[str, Any]
    output: str
    schema: dict[str, Any] | None
    template_hash: str | None


@dataclass(frozen=True, slots=True)
class Work:
    """A job's work as read from its files: template texts, the prompt file, the schema."""

    system: str | None = None
    prompt: str | None = None
    prompt_path: Path | None = None
    schema: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a job sends: `messages` ({"role", "content"}, the system's first), each variable's
    value and source, the parameters (the job's, under those given), the answer's shape
    (`output` "text" or "json", `schema`) and `template_hash`."""

    job: str
    book: str | None
    messages: list[dict[str, str]]
    values: dict[str, Value] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    output: str = "text"
    schema: dict[str, Any] | None = None
    template_hash: str | None = None

    def to_dict(self) -> RenderedDict:
        return RenderedDict(
            job=self.job,
            book=self.book,
            messages=[dict(m) for m in self.messages],
            vars={name: value.to_dict() for name, value in self.values.items()},
            params=dict(self.params),
            output=self.output,
            schema=self.schema,
            template_hash=self.template_hash,
        )


def render_job(
    job: Job,
    *,
    home: Home,
    book: Book | None = None,
    given: Mapping[str, Any] | None = None,
    input: str = "",
    params: Mapping[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
) -> Rendered:
    """Return what `job` sends for `input` (the prompt text) with the variables `given`
    (the command line's or the caller's, over the book's, over the job's defaults).
    `params` (the command line's; None values ignored) win over the job's; `schema`
    (`--json-schema`) over the job's.

    Raises TemplateError (exit 2: a variable missing or unknown, a template that cannot be
    rendered, a file given that cannot be read), UsageError (nothing to send) or FileError
    (exit 3: a file of the home that cannot be read, a schema that is not JSON Schema)."""
    work = read_work(job, home)
    values = resolve(job, home=home, given=given or {}, book=book)
    data = {name: value.value for name, value in values.items()}
    data[INPUT] = input
    messages = []
    if work.system is not None:
        messages.append({"role": "system", "content": fill(job, "system", work, data)})
    messages.append({"role": "user", "content": _user_text(job, work, data, input)})
    sent_params = {**job.params.to_dict(), **{k: v for k, v in (params or {}).items() if v is not None}}
    sent_schema = schema if schema is not None else work.schema
    output = "json" if job.answers_json or sent_schema is not None else "text"
    return Rendered(
        job=job.name,
        book=book.name if book is not None else None,
        messages=messages,
        values=values,
        params=sent_params,
        output=output,
        schema=sent_schema,
        template_hash=template_hash(work.system, work.prompt, sent_schema, sent_params),
    )


def chat_request(rendered: Rendered, system: str | None = None) -> ChatRequest:
    """The request that sends a rendered job (`system`, the caller's, in place of the job's)."""
    from llmctl.providers.wire import ChatRequest, Message

    messages = [Message(m["role"], m["content"]) for m in rendered.messages]
    if system is not None:
        messages = [Message("system", system)] + [m for m in messages if m.role != "system"]
    params = rendered.params
    extra = {name: params[name] for name in PASSED_AS_PARAMS if params.get(name) is not None}
    return ChatRequest(
        messages,
        params.get("temperature"),
        params.get("max_tokens"),
        extra,
        output=rendered.output,
        schema=rendered.schema,
    )


def read_work(job: Job, home: Home) -> Work:
    """Return the job's templates and schema, its files read (paths relative to the home).
    Raises FileError (exit 3) for a file that cannot be read or a schema that is not valid."""
    prompt, prompt_path = job.prompt, None
    if job.prompt_file is not None:
        prompt_path = home_path(home, job.prompt_file)
        prompt = read_home_file(prompt_path, f"prompt_file of job {job.name!r} ({job.path})")
    schema = job.json_schema
    if job.schema_file is not None:
        path = home_path(home, job.schema_file)
        try:
            schema = read_schema_file(path)
        except FileError as exc:
            raise FileError(
                exc.path, exc.problem, line=exc.line, hint=f"named by schema_file of job {job.name!r}"
            ) from None
    elif schema is not None:
        problem = schema_problem(schema)
        if problem:
            raise FileError(
                job.path or "jobs.toml",
                problem,
                line=field_line(job, "schema"),
                entry=job.name,
                field="schema",
            )
    return Work(job.system, prompt, prompt_path, schema)


def fill(job: Job, which: str, work: Work, data: Mapping[str, Any]) -> str:
    """Render the job's `system` or `prompt` template. Raises TemplateError naming the job,
    the variable and the template's file and line."""
    source = work.system if which == "system" else work.prompt
    try:
        return templates.render(source or "", data)
    except templates.TemplateFault as fault:
        path, line = template_place(job, which, work, fault.line)
        hint = None
        if fault.kind == templates.UNDEFINED and fault.variable:
            hint = f"declare it in jobs.toml: [jobs.{job.name}.vars.{fault.variable}]"
        raise TemplateError(
            job.name,
            f"{which} template: {fault.message}",
            variable=fault.variable,
            path=path,
            line=line,
            hint=hint,
        ) from None


def _user_text(job: Job, work: Work, data: Mapping[str, Any], input: str) -> str:
    """The user message: the prompt template rendered; the input after a blank line when
    the template does not place it with `{{ input }}`; the input alone without a template."""
    if work.prompt is None:
        text = input
    else:
        text = fill(job, "prompt", work, data)
        if input and INPUT not in _names(job, work):
            text = after_blank_line(text, input)
    if not text.strip():
        raise UsageError(f"job {job.name!r}: the prompt is empty", hint="give TEXT, or pipe it on stdin")
    return text


def _names(job: Job, work: Work) -> frozenset[str]:
    try:
        return templates.names_used(work.prompt or "")
    except templates.TemplateFault:  # rendered already: cannot happen
        return frozenset()


def after_blank_line(text: str, input: str) -> str:
    """`text`, one blank line, then `input` (the template's trailing newlines count)."""
    if not text:
        return input
    tail = len(text) - len(text.rstrip("\n"))
    return text + "\n" * max(0, 2 - tail) + input


def template_hash(
    system: str | None, prompt: str | None, schema: dict[str, Any] | None, params: Mapping[str, Any]
) -> str | None:
    """Return the hash naming a version of a job's work (its system and prompt templates as
    written, its schema and the parameters as sent), or None for a job without any."""
    if system is None and prompt is None and schema is None and not params:
        return None
    blob = json.dumps(
        {"system": system, "prompt": prompt, "schema": schema, "params": dict(params)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def home_path(home: Home, name: str) -> Path:
    """A path named in the home's files: relative to the home."""
    return home.config_dir / os.path.expanduser(name)


def template_place(job: Job, which: str, work: Work, line: int | None) -> tuple[Path | None, int | None]:
    """The file and line of a template's line: the prompt file's own, or the line inside
    jobs.toml of an inline template."""
    if which == "prompt" and work.prompt_path is not None:
        return work.prompt_path, line
    start = field_line(job, which)
    if start is None or job.path is None:
        return job.path, None
    text = read_text(job.path)
    value_start = text.splitlines()[start - 1].split("=", 1)[-1].lstrip()
    # A multi-line string's first newline is not part of its value.
    opens_alone = re.fullmatch(r'("""|\'\'\')\s*', value_start) is not None
    return job.path, start + (line or 1) - 1 + (1 if opens_alone else 0)


def field_line(job: Job, name: str) -> int | None:
    """The line of `name = ...` in the job's table of its jobs file, where it can be found."""
    if job.path is None:
        return None
    try:
        text = read_text(job.path)
    except FileError:
        return None
    return line_in_table(text, f"jobs.{job.name}", name)
