"""The request a command sends for a job that carries work: its messages rendered with the
variables given (`--var`, `--vars-file`), its parameters under the command line's.

Shared by `prompt` and `estimate` (and `batch` per line); a job without work and no
variables given sends the prompt as it is, and nothing of `compose` (Jinja2) is imported.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmctl.errors import UsageError

if TYPE_CHECKING:
    from llmctl.compose.render import Rendered
    from llmctl.paths import Home
    from llmctl.prefs.jobs import Job
    from llmctl.providers.wire import ChatRequest


@dataclass(frozen=True, slots=True)
class Asked:
    """What the command line asks to send: TEXT, `--system`, `--temperature`,
    `--max-tokens`, `--var` and `--vars-file`."""

    text: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    var: list[str] | None = None
    vars_file: Path | None = None
    json_schema: Path | None = None  # --json-schema FILE: the answer is JSON checked against it

    @property
    def gives_vars(self) -> bool:
        return bool(self.var) or self.vars_file is not None


def job_with_work(home: Home, job: str | None, asked: Asked) -> Job | None:
    """The job whose work is rendered: the `--job` named, when it carries work or variables
    are given. Raises UsageError for variables given without a job, UnknownNameError for
    an unknown job."""
    if job is None:
        if asked.gives_vars:
            raise UsageError("--var and --vars-file fill a job's template: name the job with --job")
        return None
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import get_job, load_jobs

    found = get_job(load_jobs(home, load_config(home)), job)
    return found if found.has_work or asked.gives_vars else None


def build_request(
    home: Home, options: dict[str, Any], asked: Asked, stdin: Any = None
) -> tuple[ChatRequest, Rendered | None]:
    """The request to send and, for a job with work, what was rendered (None otherwise).
    Raises UsageError (exit 2: an empty prompt, a bad `--var`, a variable missing or
    unknown, a template error) or FileError (exit 3: a file of the home)."""
    from llmctl.providers.wire import ChatRequest, messages_for

    stdin = sys.stdin if stdin is None else stdin
    job = job_with_work(home, options.get("job"), asked)
    if job is None:
        from llmctl.cli.input import read_prompt

        text = read_prompt(asked.text, stdin)
        schema = _schema(asked)
        req = ChatRequest(messages_for(text, asked.system), asked.temperature, asked.max_tokens)
        return (req if schema is None else replace(req, output="json", schema=schema)), None
    rendered = render_for(home, job, options.get("book"), asked, stdin)
    return request_of(rendered, asked.system), rendered


def render_for(home: Home, job: Job, book: str | None, asked: Asked, stdin: Any) -> Rendered:
    """The job's work rendered for TEXT (or stdin) with the variables given."""
    from llmctl.cli.vars_options import given_vars, prompt_text
    from llmctl.compose.render import render_job
    from llmctl.prefs.books import load_book
    from llmctl.prefs.config import load_config

    given = given_vars(asked.var, asked.vars_file, stdin)
    text = prompt_text(asked.text, asked.var, stdin)
    prefs = load_book(home, book, load_config(home).extra_groups) if book is not None else None
    params = {"temperature": asked.temperature, "max_tokens": asked.max_tokens}
    schema = _schema(asked)
    return render_job(job, home=home, book=prefs, given=given, input=text, params=params, schema=schema)


def _schema(asked: Asked) -> dict[str, Any] | None:
    """The schema of `--json-schema FILE`. Raises UsageError (exit 2) for a file that cannot
    be read or is not JSON Schema."""
    if asked.json_schema is None:
        return None
    from llmctl.compose.schema import schema_option

    return schema_option(asked.json_schema)


def json_selection(selection: Any, req: ChatRequest) -> Any:
    """`selection`, needing LLMs with the `json` capability when the answer is JSON (the
    others are skipped with that reason)."""
    if not req.wants_json:
        return selection
    caps = list(selection.props.get("capabilities") or [])
    return replace(selection, props={**selection.props, "capabilities": [*caps, "json"]})


def answer_data(req: ChatRequest, text: str) -> dict[str, Any]:
    """`{"data": ...}` (the parsed answer) for a JSON answer, else nothing."""
    if not req.wants_json:
        return {}
    from llmctl.compose.schema import parse_answer

    return {"data": parse_answer(text, req.schema)}


def request_of(rendered: Rendered, system: str | None = None) -> ChatRequest:
    """The request of a rendered job (`system`, `--system`, in place of the job's)."""
    from llmctl.compose.render import chat_request

    return chat_request(rendered, system)


def rendered_view(rendered: Rendered | None) -> dict[str, Any]:
    """The keys a dry run adds for a rendered job: its messages, each variable's value and
    source, the parameters and the template hash."""
    if rendered is None:
        return {}
    data = rendered.to_dict()
    return {
        "job": data["job"],
        "messages": data["messages"],
        "vars": data["vars"],
        "params": data["params"],
        "template_hash": data["template_hash"],
    }


def render_batch(home: Home, items: list[Any], options: dict[str, Any], asked: Asked, source: str) -> None:
    """Render each batch line whose job carries work (or that has variables): its `prompt`
    the input, its `vars` over the command line's key by key; the line's messages,
    parameters and template hash set in place. Every line is rendered before anything is
    sent. Raises UsageError naming `SOURCE:LINE` (exit 2), FileError for a file of the home."""
    from llmctl.errors import FileError

    given = None
    jobs: dict[str, Job] | None = None
    schema = _schema(asked)  # --json-schema: every line's answer is JSON checked against it
    for item in items:
        if schema is not None:
            item.output, item.schema = "json", schema
        name = item.job or options.get("job")
        if name is None and not (item.vars or asked.gives_vars):
            continue
        try:
            if name is None:
                raise UsageError("`vars` and --var fill a job's template: name the job (`job` or --job)")
            jobs = jobs if jobs is not None else _jobs(home)
            job = _get(jobs, name)
            if not (job.has_work or item.vars or asked.gives_vars) or item.prompt is None:
                continue
            given = given if given is not None else _given(asked)
            _render_item(home, job, item, options, asked, given, schema)
        except FileError:
            raise
        except UsageError as exc:
            raise UsageError(f"{source}:{item.line}: {exc.message}", hint=exc.hint) from None


def _jobs(home: Home) -> dict[str, Job]:
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import load_jobs

    return load_jobs(home, load_config(home))


def _get(jobs: dict[str, Job], name: str) -> Job:
    from llmctl.prefs.jobs import get_job

    return get_job(jobs, name)


def _given(asked: Asked) -> dict[str, Any]:
    from llmctl.cli.vars_options import given_vars

    return given_vars(asked.var, asked.vars_file)


def _render_item(
    home: Home, job: Job, item: Any, options: dict[str, Any], asked: Asked, given: dict, schema: Any
) -> None:
    from llmctl.compose.render import render_job
    from llmctl.prefs.books import load_book
    from llmctl.prefs.config import load_config

    book = item.book or options.get("book")
    prefs = load_book(home, book, load_config(home).extra_groups) if book is not None else None
    params = {
        "temperature": item.temperature if item.temperature is not None else asked.temperature,
        "max_tokens": item.max_tokens if item.max_tokens is not None else asked.max_tokens,
    }
    merged = {**given, **(item.vars or {})}
    rendered = render_job(
        job, home=home, book=prefs, given=merged, input=item.prompt, params=params, schema=schema
    )
    own_system = next((m.content for m in item.messages if m.role == "system"), None)
    req = request_of(rendered, own_system)
    item.messages, item.params, item.template_hash = req.messages, req.params, rendered.template_hash
    item.temperature, item.max_tokens = req.temperature, req.max_tokens
    item.output, item.schema = req.output, req.schema
