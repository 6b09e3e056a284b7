"""Many prompts through one engine: `llmctl batch` and `LLMClient.batch` / `abatch`.

Input is JSONL, one object per line: `id` (unique) and `prompt` or `messages`, and
optionally `book`, `job`, `llm`, `system`, `max_tokens`, `temperature` (a line's own
values win over the run's). The whole input is checked before anything is sent. Lines
run concurrently over the async pool; each output line is handed on as its line
finishes, in completion order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from llmctl.engine.answers import BATCH, BatchLine, answer_json
from llmctl.engine.options import DEFAULT_CONCURRENCY, SendOptions
from llmctl.errors import AllFailedError, LlmctlError, UsageError, did_you_mean
from llmctl.files.io import json_value
from llmctl.providers.wire import ChatRequest, Message, messages_for
from llmctl.selection.request import Selection

if TYPE_CHECKING:
    from llmctl.engine.records import Attempt, Result
    from llmctl.engine.sender import Sender

FIELDS = ("id", "prompt", "messages", "book", "job", "llm", "system", "max_tokens", "temperature", "vars")
ROLES = ("system", "user", "assistant")


@dataclass
class BatchItem:
    """One input line, checked."""

    id: str
    line: int
    messages: list[Message]
    book: str | None = None
    job: str | None = None
    llm: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    vars: dict[str, Any] | None = None  # the line's values of its job's template variables
    prompt: str | None = None  # the line's `prompt` (its job's template's input)
    params: dict[str, Any] = field(default_factory=dict)  # the job's other parameters (top_p, stop)
    template_hash: str | None = None  # the version of the job's work its messages were rendered from
    output: str = "text"  # "json": the answer is JSON, checked against `schema` when set
    schema: dict[str, Any] | None = None


def parse_batch(text: str, source: str, *, system: str | None = None) -> list[BatchItem]:
    """Check every line of a batch input and return its items. Raises UsageError (exit 2)
    naming `SOURCE:LINE` and the problem; LINE counts every physical line from 1."""
    _unicode(system, "--system")
    items: list[BatchItem] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            raw = json_value(line)
        except ValueError as exc:  # a syntax error, or nested too deeply to read
            raise UsageError(f"{where}: not JSON ({getattr(exc, 'msg', exc)})") from None
        item = item_of(raw, where, system=system)
        if item.id in first_line:
            raise UsageError(f"{where}: id {item.id!r} repeats line {first_line[item.id]}")
        first_line[item.id] = number
        item.line = number
        items.append(item)
    return items


def item_of(raw: Any, where: str, *, system: str | None = None) -> BatchItem:
    """One batch line (a dict) checked and read. Raises UsageError prefixed with `where`."""
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a JSON object")
    for key in raw:
        if key not in FIELDS:
            raise UsageError(f"{where}: unknown field {key!r}{did_you_mean(str(key), FIELDS)}")
    if "id" not in raw:
        raise UsageError(f"{where}: no `id`")
    if not isinstance(raw["id"], str) or not raw["id"]:
        raise UsageError(f"{where}: `id` must be a non-empty string")
    for key in ("book", "job", "llm", "system"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise UsageError(f"{where}: `{key}` must be a string")
    for key in ("id", "prompt", "book", "job", "llm", "system"):
        _unicode(raw.get(key), f"{where}: `{key}`")
    own_system = raw.get("system") or system
    if ("prompt" in raw) == ("messages" in raw):
        problem = (
            "has both `prompt` and `messages`" if "prompt" in raw else "has neither `prompt` nor `messages`"
        )
        raise UsageError(f"{where}: {problem}")
    if "prompt" in raw:
        if not isinstance(raw["prompt"], str) or not raw["prompt"].strip():
            raise UsageError(f"{where}: `prompt` must be a non-empty string")
        messages = messages_for(raw["prompt"], own_system)
    else:
        messages = _messages(raw["messages"], where, own_system)
    max_tokens = raw.get("max_tokens")
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        raise UsageError(f"{where}: `max_tokens` must be a positive whole number")
    temperature = raw.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float) or not 0 <= temperature <= 2
    ):
        raise UsageError(f"{where}: `temperature` must be a number from 0 to 2")
    variables = raw.get("vars")
    if variables is not None and not isinstance(variables, dict):
        raise UsageError(f"{where}: `vars` must be an object of NAME: VALUE")
    if variables is not None and "prompt" not in raw:
        raise UsageError(f"{where}: `vars` fill the job's template around `prompt`; this line has `messages`")
    return BatchItem(
        raw["id"],
        0,
        messages,
        raw.get("book"),
        raw.get("job"),
        raw.get("llm"),
        max_tokens,
        temperature,
        variables,
        raw.get("prompt"),
    )


def _messages(value: Any, where: str, system: str | None) -> list[Message]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{where}: `messages` must be a non-empty list of {{role, content}}")
    out = []
    for n, message in enumerate(value, start=1):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise UsageError(f'{where}: message {n} must be {{"role": ..., "content": ...}}')
        if message["role"] not in ROLES or not isinstance(message["content"], str):
            raise UsageError(f"{where}: message {n}: role is one of {', '.join(ROLES)}, content a string")
        _unicode(message["content"], f"{where}: message {n}: content")
        out.append(Message(message["role"], message["content"]))
    if system and not any(m.role == "system" for m in out):
        out.insert(0, Message("system", system))
    return out


def _unicode(value: Any, what: str) -> None:
    """A string that cannot be written as UTF-8 (a lone surrogate, from a `\\ud800` escape)
    could be neither sent nor written to OUT. Raises UsageError naming it."""
    if not isinstance(value, str):
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        lone = f"{value[exc.start]!a} at character {exc.start + 1}"
        raise UsageError(f"{what} is not valid Unicode (a lone surrogate {lone})") from None


def check_names(
    items: Sequence[BatchItem], sender: Sender, source: str, selection: Selection | None = None
) -> None:
    """The run's own `selection` (the command line's --llm, --job, --book, --group...) and
    every LLM, job and book a line names must exist (a book: be a safe name). Raises
    UsageError (exit 2), naming `SOURCE:LINE` for a line's, before OUT is opened or anything
    is sent."""
    from llmctl.prefs.books import check_book_name
    from llmctl.prefs.jobs import get_job, load_jobs
    from llmctl.selection.request import build_request

    if selection is not None:
        build_request(sender.catalog, sender.home, selection)  # its job, group, tier, book...
        if selection.llm is not None:
            sender.catalog.resolve_id(selection.llm)
    jobs = None
    for item in items:
        try:
            if item.llm is not None:
                sender.catalog.resolve_id(item.llm)
            if item.book is not None:
                check_book_name(item.book)
            if item.job is not None:
                jobs = jobs if jobs is not None else load_jobs(sender.home, sender.catalog.config)
                get_job(jobs, item.job)
        except UsageError as exc:
            raise UsageError(f"{source}:{item.line}: {exc.message}", hint=exc.hint) from None


# --- running --------------------------------------------------------------------------------------


@dataclass
class BatchOptions:
    """What the run gives every line (a line's own values win)."""

    selection: Selection = field(default_factory=Selection)
    max_tokens: int | None = None
    temperature: float | None = None
    sending: SendOptions = field(default_factory=SendOptions)  # retries, timeout, max_cost...
    batch_id: str | None = None  # recorded with every attempt of the run


@dataclass
class Summary:
    """How a batch run went (`batch --json`'s object)."""

    total: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    wall_s: float = 0.0

    def add(self, line: BatchLine) -> None:
        if line["error"] is None:
            self.ok += 1
        else:
            self.failed += 1
        usage = line["usage"] or {}
        self.input_tokens += usage.get("input_tokens") or 0
        self.output_tokens += usage.get("output_tokens") or 0
        self.cost = round(self.cost + (line["cost"] or 0.0), 8)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": self.cost,
            "wall_s": round(self.wall_s, 3),
        }


async def run_batch(
    sender: Sender,
    items: Sequence[BatchItem],
    options: BatchOptions,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    emit: Callable[[BatchLine], None],
    summary: Summary | None = None,
) -> Summary:
    """Run every item, at most `concurrency` at once; `emit` receives each output line as
    its item finishes. Returns the summary (`summary`, filled in, when one is given)."""
    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1 (got {concurrency})")
    summary = summary or Summary(total=len(items))
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(item: BatchItem) -> None:
        async with gate:
            line = await run_item(sender, item, options)
        summary.add(line)
        emit(line)

    try:
        await asyncio.gather(*(one(item) for item in items))
    finally:
        summary.wall_s = time.monotonic() - started
    return summary


async def run_item(sender: Sender, item: BatchItem, options: BatchOptions) -> BatchLine:
    """Send one item down the chain its selection gets; return its output line."""
    base = options.selection
    selection = replace(base, book=item.book or base.book, job=item.job or base.job, llm=item.llm or base.llm)
    max_tokens = item.max_tokens if item.max_tokens is not None else options.max_tokens
    temperature = item.temperature if item.temperature is not None else options.temperature
    req = ChatRequest(item.messages, temperature, max_tokens, dict(item.params), item.output, item.schema)
    if req.wants_json:  # only LLMs that can answer in JSON
        caps = [*(selection.props.get("capabilities") or []), "json"]
        selection = replace(selection, props={**selection.props, "capabilities": caps})
    try:
        plan = sender.plan(selection, req, no_fallback=options.sending.no_fallback)
        plan.template_hash = item.template_hash
        result = await sender.aexecute(plan, req, options.sending, batch_id=options.batch_id)
    except AllFailedError as exc:
        error = "; ".join([exc.message, *exc.more])  # one line: what failed, and how
        return output_line(item.id, error=error, attempts=exc.attempts)
    except LlmctlError as exc:
        return output_line(item.id, error=exc.message)
    except Exception as exc:  # one line's surprise must not take the other lines down
        return output_line(item.id, error=f"unexpected {type(exc).__name__}: {exc}")
    return output_line(item.id, result=result)


def output_line(
    item_id: str, *, result: Result | None = None, error: str | None = None, attempts: Sequence[Attempt] = ()
) -> BatchLine:
    """One output line: `{"id", "text", "llm", "provider", "attempts", "usage", "cost",
    "latency_ms", "cached", "error"}` (`error` null on success, else one line)."""
    if result is None:
        error = (error or "failed").splitlines()[0]
    line = answer_json(BATCH, result, error=error, attempts=attempts, item_id=item_id)
    return cast(BatchLine, line)


def output_text(line: Mapping[str, Any]) -> str:
    """One output line as JSON text with its newline. Text that cannot be written as UTF-8
    (a lone surrogate in an answer) is escaped (`\\ud800`) rather than failing the write."""
    text = json.dumps(line, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(line)
    return text + "\n"


def finished_ids(path: Path) -> set[str]:
    """The ids an earlier run answered (the last line for an id wins). A partial last line
    left by a crash is cut off the file, so new lines start on a line of their own."""
    if not path.is_file():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    latest: dict[str, bool] = {}
    for raw in data.decode("utf-8", "replace").split("\n"):
        try:
            line = json_value(raw)
        except ValueError:
            continue  # not a line of ours: it runs again
        if isinstance(line, dict) and isinstance(line.get("id"), str):
            latest[line["id"]] = line.get("error") is None
    return {item_id for item_id, ok in latest.items() if ok}
