"""Reading an OpenAI chat body for `/v1/chat/completions`: the model, the messages and
parameters as a ChatRequest (anything llmctl cannot keep along a chain refused, naming the
parameter), and llmctl's own options (`extra_body={"llmctl": {...}}` in the OpenAI SDK):
the selection options of `llmctl prompt` and its sending options."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmctl.engine.options import REQUEST_KINDS
from llmctl.server.state import BadBody, Live

if TYPE_CHECKING:
    from llmctl.catalog.load import Catalog
    from llmctl.engine.options import SendOptions
    from llmctl.providers.wire import ChatRequest
    from llmctl.selection.request import Selection

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
_SENDING = REQUEST_KINDS


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
    model = model_of(body)
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


def model_of(body: dict[str, Any]) -> str:
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
