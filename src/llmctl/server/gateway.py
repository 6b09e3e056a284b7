"""The OpenAI-compatible endpoints: `/v1/chat/completions` (plain and streamed as SSE
chunks), `/v1/embeddings` and `/v1/models`.

`model` is an LLM id or alias, `job:JOB` or `book:BOOK/JOB`: the picker chooses as
`llmctl prompt` would, and the sender walks the chain with budgets, rate limits, cache
and usage records, on the server's event loop. A streamed answer starts (status 200)
only when its first text is ready, so a chain that fails before any byte gets its error
status; after the first byte nothing falls back, and a break is sent as an error event.
A client that goes away cancels the attempt, which is recorded as interrupted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from llmctl.engine.records import Outcome
from llmctl.errors import (
    LlmctlError,
)
from llmctl.server.state import BadBody, Live, Problem, problem_of, waited

if TYPE_CHECKING:
    from llmctl.catalog.entry import LLM
    from llmctl.catalog.load import Catalog
    from llmctl.engine.options import SendOptions
    from llmctl.engine.records import Attempt, Result
    from llmctl.engine.sender import Plan, Sender
    from llmctl.providers.wire import ChatRequest
    from llmctl.selection.request import Selection

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# Parameters that change the answer in ways llmctl cannot keep along a chain of providers:
# refused unless given their neutral value.
_NEUTRAL: dict[str, Callable[[Any], bool]] = {
    "n": lambda v: v in (None, 1),
    "tools": lambda v: not v,
    "tool_choice": lambda v: v in (None, "none"),
    "functions": lambda v: not v,
    "function_call": lambda v: v in (None, "none"),
    "parallel_tool_calls": lambda v: True,
    "logprobs": lambda v: not v,
    "top_logprobs": lambda v: v in (None, 0),
    "response_format": lambda v: v is None or (isinstance(v, dict) and v.get("type") == "text"),
    "stop": lambda v: not v,
    "presence_penalty": lambda v: v in (None, 0),
    "frequency_penalty": lambda v: v in (None, 0),
    "logit_bias": lambda v: not v,
    "audio": lambda v: v is None,
    "modalities": lambda v: v in (None, ["text"]),
    "prediction": lambda v: v is None,
}
_IGNORED = ("user", "seed", "store", "metadata", "service_tier", "stream_options")
_KNOWN = (
    "model",
    "messages",
    "stream",
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "llmctl",
)
# llmctl's own request options (`extra_body={"llmctl": {...}}` in the OpenAI SDK): the
# selection options of `llmctl prompt`, and its sending options.
_SELECTION = {"scope": str, "strategy": str, "tier": str, "provider": str, "max_attempts": int}
_SENDING = {"max_cost": float, "cache": bool, "no_fallback": bool, "retries": int, "timeout": float}
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "length": "length"}
_END, _GONE = object(), object()
MODEL_NOT_FOUND = "model_not_found"


# --- reading the request ---------------------------------------------------------------------


def chat_request(body: Any) -> tuple[str, ChatRequest, bool, bool]:
    """The model, the ChatRequest, whether to stream and whether to end the stream with
    usage, from an OpenAI chat body. Raises BadBody (400) naming the parameter."""
    from llmctl.providers.wire import ChatRequest, Message

    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    for name, value in body.items():
        if name in _NEUTRAL:
            if not _NEUTRAL[name](value):
                raise BadBody(f"{name!r} is not supported by llmctl serve", name)
        elif name not in _KNOWN and name not in _IGNORED:
            raise BadBody(f"unrecognized request argument supplied: {name}", name)
    model = _model_of(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadBody("'messages' must be a non-empty array of messages", "messages")
    out = [Message(*_message(m, n)) for n, m in enumerate(messages)]
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise BadBody("'stream' must be true or false", "stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise BadBody("'stream_options' must be an object", "stream_options")
    temperature = _number(body, "temperature", 0, 2)
    top_p = _number(body, "top_p", 0, 1)
    max_tokens = _count(body, "max_completion_tokens") or _count(body, "max_tokens")
    req = ChatRequest(out, temperature, max_tokens, {} if top_p is None else {"top_p": top_p})
    return model, req, stream, bool(options.get("include_usage"))


def _model_of(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadBody("'model' is required: an LLM id or alias, job:JOB or book:BOOK/JOB", "model")
    return model.strip()


def _message(message: Any, n: int) -> tuple[str, str]:
    where = f"messages[{n}]"
    if not isinstance(message, dict):
        raise BadBody(f"{where} must be an object with 'role' and 'content'", where)
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:  # a list or object is no role (and unhashable)
        raise BadBody(
            f"{where}.role {role!r} is not supported (use system, developer, user or assistant)", where
        )
    content = message.get("content")
    if isinstance(content, str):
        return ROLES[role], content
    if isinstance(content, list):
        texts = []
        for k, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text" or not isinstance(part.get("text"), str):
                shown = kind if isinstance(kind, str) else type(part).__name__
                raise BadBody(
                    f"{where}.content[{k}]: only text parts are supported, not {shown!r}", f"{where}.content"
                )
            texts.append(part["text"])
        return ROLES[role], "".join(texts)
    raise BadBody(f"{where}.content must be a string or a list of text parts", f"{where}.content")


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BadBody(f"{name!r} must be a number from {low:g} to {high:g}", name)
    return float(value)


def _count(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadBody(f"{name!r} must be a whole number of 1 or more", name)
    return value


def llmctl_options(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(selection options, sending options) of the body's `llmctl` object. Raises BadBody
    naming a field that is unknown or of the wrong type."""
    given = body.get("llmctl") if isinstance(body, dict) else None
    if given is None:
        return {}, {}
    if not isinstance(given, dict):
        raise BadBody("'llmctl' must be an object of llmctl's options", "llmctl")
    selection: dict[str, Any] = {}
    sending: dict[str, Any] = {}
    for name, value in given.items():
        if name == "prefer_providers":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadBody("'llmctl.prefer_providers' must be an array of provider names", "llmctl")
            selection[name] = value
            continue
        kind = _SELECTION.get(name) or _SENDING.get(name)
        if kind is None:
            known = ", ".join([*_SELECTION, "prefer_providers", *_SENDING])
            raise BadBody(f"unknown llmctl option {name!r} (options: {known})", f"llmctl.{name}")
        wrong = isinstance(value, bool) != (kind is bool) or not isinstance(
            value, int | float if kind is float else kind
        )
        if wrong or (kind is float and not 0 <= value < float("inf")):
            raise BadBody(f"'llmctl.{name}' must be {_KIND_WORDS[kind]}", f"llmctl.{name}")
        (selection if name in _SELECTION else sending)[name] = value
    return selection, sending


_KIND_WORDS = {str: "a string", int: "a whole number", float: "a number of 0 or more", bool: "true or false"}


def selection_for(
    live: Live, model: str, catalog: Catalog | None = None, options: dict[str, Any] | None = None
) -> Selection:
    """The picker's selection for a `model`: an LLM id or alias, `job:JOB` or
    `book:BOOK/JOB`, with llmctl's selection `options`. Raises UnknownNameError (404) for an
    unknown LLM or book."""
    from llmctl.selection.request import Selection

    options = {"source": "request", **(options or {})}
    if model.startswith("job:"):
        return Selection(job=model[4:], **options)
    if model.startswith("book:"):
        book, sep, job = model[5:].partition("/")
        if not sep or not job:
            raise BadBody(f"{model!r}: write book:BOOK/JOB", "model")
        from llmctl.server.rest import known_book

        known_book(live, book)
        return Selection(book=book, job=job, **options)
    (catalog or live.catalog()).resolve_id(model)  # an unknown id is 404 with the closest ids
    return Selection(llm=model, **options)


# --- answering ----------------------------------------------------------------------------------


def attempts_header(attempts: list[Attempt]) -> str:
    """`acme/a:429,acme/b:ok`: each LLM tried or skipped, in order, and what came of it."""
    return ",".join(f"{a.llm}:{_label(a)}" for a in attempts)


def _label(a: Attempt) -> str:
    if a.outcome in (Outcome.OK, Outcome.SKIPPED):
        return a.outcome.value
    if a.outcome == Outcome.CACHE_HIT:
        return "cache"
    if a.status:
        return str(a.status)
    return a.failure.kind if a.failure is not None else a.outcome


def headers_of(llm: LLM | None, attempts: list[Attempt]) -> dict[str, str]:
    out = {"x-llmctl-attempts": _latin1(attempts_header(attempts))}
    if llm is not None:
        out["x-llmctl-llm"] = _latin1(llm.id)
    return out


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


class ChatAnswer:
    """The ASGI response of one chat completion: sends the planned request down its chain
    and answers with a completion, an SSE stream of chunks, or the error."""

    def __init__(
        self,
        live: Live,
        sender: Sender,
        plan: Plan,
        req: ChatRequest,
        stream: bool,
        usage_chunk: bool,
        sending: SendOptions | None = None,
    ) -> None:
        self.live, self.sender, self.plan, self.req = live, sender, plan, req
        self.sending = sending  # retries, timeout, max_cost, cache
        self.stream, self.usage_chunk = stream, usage_chunk
        self.id = "chatcmpl-" + uuid.uuid4().hex
        self.created = int(time.time())
        self.started: tuple[LLM, list[Attempt]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def on_start(entry: LLM, attempts: list[Attempt]) -> None:
            self.started = (entry, attempts)

        task = asyncio.ensure_future(
            self.sender.aexecute(
                self.plan,
                self.req,
                self.sending,
                on_text=queue.put_nowait if self.stream else None,
                on_start=on_start,
            )
        )
        self.live.sending.add(task)
        task.add_done_callback(self.live.sending.discard)
        task.add_done_callback(lambda _t: queue.put_nowait(_END))
        watcher = asyncio.ensure_future(_watch(receive, task, queue))
        try:
            first = await queue.get()
            if first is _GONE or task.cancelled():
                return
            if first is _END:
                await self._whole(send, task)
            else:
                await self._streamed(send, task, queue, first)
        finally:
            watcher.cancel()
            if not task.done():
                task.cancel()
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()  # retrieved: an error after the client left is not "never retrieved"

    async def _whole(self, send: Send, task: asyncio.Future[Result]) -> None:
        """The chain ended before any text went out: the error, or the answer whole (a plain
        request, or a stream of an empty or cached answer)."""
        exc = task.exception()
        if exc is not None:
            attempts = getattr(exc, "attempts", [])
            if isinstance(exc, LlmctlError):
                problem = waited(problem_of(exc, not_found=MODEL_NOT_FOUND), exc, self.live)
            else:  # a bug: the client gets a JSON 500, the server's log the traceback
                import logging

                logging.getLogger("llmctl.serve").error("a chat completion failed", exc_info=exc)
                problem = Problem(
                    500, "server_error", "internal", f"llmctl serve failed: {type(exc).__name__}"
                )
            headers = {**headers_of(None, attempts), **problem.advice()}
            await _send_json(send, problem.status, problem.body(), headers)
            return
        result = task.result()
        headers = headers_of(result.llm, result.attempts)
        if not self.stream:
            await _send_json(send, 200, self.completion(result), headers)
            return
        await _start_sse(send, headers)
        for piece in (self.chunk(result.llm, role=True), self.chunk(result.llm, text=result.text)):
            await _send_sse(send, piece)
        await self._finish(send, result)

    async def _streamed(
        self, send: Send, task: asyncio.Future[Result], queue: asyncio.Queue, first: str
    ) -> None:
        if self.started is None:  # a cached answer replayed whole: its result is ready at once
            await asyncio.wait({task})
            if task.cancelled():
                return
            result = task.result()
            entry, attempts = result.llm, result.attempts
        else:  # the attempt streaming now is labelled ok
            entry, attempts = self.started
            attempts = [*attempts[:-1], _ok(attempts[-1])]
        await _start_sse(send, headers_of(entry, attempts))
        await _send_sse(send, self.chunk(entry, role=True))
        item: Any = first
        while item is not _END:
            if item is _GONE:
                return
            await _send_sse(send, self.chunk(entry, text=item))
            item = await queue.get()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            message = exc.message if isinstance(exc, LlmctlError) else "the answer broke off"
            error = Problem(502, "upstream_error", "stream_interrupted", message).body()
            await send({"type": "http.response.body", "body": _sse(error), "more_body": False})
            return
        await self._finish(send, task.result())

    async def _finish(self, send: Send, result: Result) -> None:
        await _send_sse(send, self.chunk(result.llm, finish=_finish_reason(result)))
        if self.usage_chunk:
            await _send_sse(send, {**self.chunk(result.llm), "choices": [], "usage": _usage(result)})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})

    def completion(self, result: Result) -> dict[str, Any]:
        """The `chat.completion` object; `model` is the LLM that answered."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": result.llm.id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text},
                    "finish_reason": _finish_reason(result),
                    "logprobs": None,
                }
            ],
            "usage": _usage(result),
        }

    def chunk(self, entry: LLM, *, role: bool = False, text: str | None = None, finish: str | None = None):
        delta: dict[str, Any] = {}
        if role:
            delta = {"role": "assistant", "content": ""}
        elif text is not None:
            delta = {"content": text}
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": entry.id,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }


def _ok(attempt: Attempt) -> Attempt:
    from dataclasses import replace

    return replace(attempt, outcome=Outcome.OK, status=None, failure=None)


async def _watch(receive: Receive, task: asyncio.Future[Any], queue: asyncio.Queue) -> None:
    """The client went away: the attempt is cancelled (and recorded as interrupted)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    if not task.done():
        task.cancel()
    queue.put_nowait(_GONE)


def _finish_reason(result: Result) -> str:
    return _FINISH.get(result.finish_reason or "stop", result.finish_reason or "stop")


def _usage(result: Result) -> dict[str, int]:
    prompt = result.usage.input_tokens or 0
    completion = result.usage.output_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


async def _start_sse(send: Send, headers: dict[str, str]) -> None:
    raw = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
    raw += [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": 200, "headers": raw})


async def _send_sse(send: Send, data: dict[str, Any]) -> None:
    await send({"type": "http.response.body", "body": _sse(data), "more_body": True})


async def _send_json(send: Send, status: int, data: Any, headers: dict[str, str]) -> None:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


# --- the endpoints' work --------------------------------------------------------------------------


def plan_chat(live: Live, body: Any) -> ChatAnswer:
    """Read a chat body and plan it (the picker's choice and chain). Raises BadBody and
    what the picker raises (an unknown model, nothing fits)."""
    model, req, stream, usage_chunk = chat_request(body)
    chosen, given = llmctl_options(body)
    sending = send_options(given)
    sender = live.sender()
    selection = selection_for(live, model, sender.catalog, chosen)
    plan = sender.plan(selection, req, no_fallback=sending.no_fallback)
    return ChatAnswer(live, sender, plan, req, stream, usage_chunk, sending)


def send_options(given: dict[str, Any]) -> SendOptions:
    """The SendOptions of the body's `llmctl` sending options. Raises BadBody (400) for a
    time limit or retries out of range."""
    from llmctl.engine.options import SendOptions, retry_count, time_limit
    from llmctl.errors import UsageError

    for name, check in (("timeout", time_limit), ("retries", retry_count)):
        try:
            if name in given:
                check(given[name])
        except UsageError as exc:
            raise BadBody(f"'llmctl.{name}': {exc.message}", f"llmctl.{name}") from None
    return SendOptions(**given)


async def embeddings(live: Live, body: Any) -> tuple[dict[str, Any], Result]:
    """`/v1/embeddings`: vectors as floats, or base64 of little-endian float32 (as the
    OpenAI SDK asks by default). Raises BadBody, UnknownNameError, AllFailedError."""
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    for name in body:
        if name not in ("model", "input", "encoding_format", "user", "dimensions"):
            raise BadBody(f"unrecognized request argument supplied: {name}", name)
    if body.get("dimensions") is not None:
        raise BadBody("'dimensions' is not supported by llmctl serve", "dimensions")
    model = _model_of(body)
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise BadBody("'input' must be a non-empty string or a non-empty array of strings", "input")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise BadBody("'encoding_format' must be float or base64", "encoding_format")
    sender = live.sender()
    entry = _embedding_llm(live, sender, model)
    result = await sender.aembed(entry, texts)
    vectors = result.vectors or []
    usage = {"prompt_tokens": result.usage.input_tokens or 0, "total_tokens": result.usage.input_tokens or 0}
    answer = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": n, "embedding": _encoded(v, encoding)}
            for n, v in enumerate(vectors)
        ],
        "model": result.llm.id,
        "usage": usage,
    }
    return answer, result


def _embedding_llm(live: Live, sender: Sender, model: str) -> LLM:
    if model.startswith(("job:", "book:")):
        decision, _warnings = sender.decide(selection_for(live, model))
        return decision.llm
    from llmctl.api import get_llm

    return get_llm(model, catalog=sender.catalog, home=live.home)  # refuses disabled and retired ones


def _encoded(vector: list[float], encoding: str) -> Any:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def models(live: Live) -> dict[str, Any]:
    """`/v1/models`: the enabled LLMs (not retired) and a `job:` name per job type."""
    from llmctl.prefs.jobs import load_jobs

    catalog = live.catalog()
    data = [_model(e.id, e.provider) for e in catalog if e.enabled and not e.retired(catalog.today)]
    data += [_model(f"job:{name}", "llmctl") for name in load_jobs(live.home, catalog.config)]
    return {"object": "list", "data": data}


def model(live: Live, name: str) -> dict[str, Any]:
    """`/v1/models/{id}`: OpenAI's model object for an LLM id or alias, or a `job:` name,
    as `/v1/models` lists them. Raises UnknownNameError (404) for any other name, a
    disabled or retired LLM included."""
    from llmctl.errors import UnknownNameError
    from llmctl.prefs.jobs import load_jobs

    catalog = live.catalog()
    if name.startswith("job:"):
        jobs = load_jobs(live.home, catalog.config)
        if name[4:] not in jobs:
            raise UnknownNameError("job", name[4:], list(jobs))
        return _model(name, "llmctl")
    entry = catalog.get(name)
    if not entry.enabled or entry.retired(catalog.today):
        state = "disabled" if not entry.enabled else "retired"
        raise UnknownNameError(
            "LLM", name, [], hint=f"{entry.id} is {state}: /v1/models lists what may be used"
        )
    return _model(entry.id, entry.provider)


def _model(name: str, owner: str | None) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": owner}
