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
from llmctl.server.chat_body import chat_request, llmctl_options, model_of, selection_for, send_options
from llmctl.server.state import BadBody, Live, Problem, problem_of, waited

if TYPE_CHECKING:
    from llmctl.catalog.entry import LLM
    from llmctl.engine.options import SendOptions
    from llmctl.engine.records import Attempt, Result
    from llmctl.engine.sender import Plan, Sender
    from llmctl.providers.wire import ChatRequest

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "length": "length"}
_END, _GONE = object(), object()
MODEL_NOT_FOUND = "model_not_found"


# --- answering ----------------------------------------------------------------------------------


def attempts_header(attempts: list[Attempt]) -> str:
    """`acme/a@acme:429,acme/a@openrouter:ok`: each LLM tried or skipped, in order, through
    which deployment (when one was chosen), and what came of it."""
    return ",".join(f"{a.llm}{'@' + a.deployment if a.deployment else ''}:{_label(a)}" for a in attempts)


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
    model = model_of(body)
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
