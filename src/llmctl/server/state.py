"""What the server keeps between requests: the home, the catalog (read again as soon as one
of its files changes, so the server sees what the commands change while it runs), one
sender with its pools and usage store, and the mapping of llmctl's errors to HTTP.

The REST endpoints run in worker threads (they read and write files under locks); the
OpenAI endpoints run on the event loop. Both ask `Live` for the catalog.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from llmctl.catalog.load import Catalog, base_catalog_path, load_catalog
from llmctl.engine.sender import Sender
from llmctl.errors import (
    AllFailedError,
    FileError,
    LlmctlError,
    NoMatchError,
    OverBudget,
    RateLimited,
    UnknownNameError,
    UsageError,
)
from llmctl.files.cache import identity
from llmctl.paths import USER_CATALOG_NAMES, Home

DEFAULT_HOST = "127.0.0.1"  # `llmctl serve` listens on loopback unless told otherwise
DEFAULT_PORT = 8765
GRACE_SECONDS = 10.0  # how long requests in flight may finish after SIGINT/SIGTERM
MAX_BODY_BYTES = 16 * 1024 * 1024  # the largest request body read (413 above it)
DEFAULT_RETRY_AFTER = 10  # seconds, on a 429 or 503 when nothing says how long the wait is


class Live:
    """The catalog as the files say now, and the sender built on it."""

    def __init__(
        self, home: Home, env: Mapping[str, str] | None = None, catalog_arg: str | None = None
    ) -> None:
        self.home = home
        self.catalog_arg = catalog_arg  # --catalog: the base catalog instead of the bundled one
        self.env = os.environ if env is None else env
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._catalog: Catalog | None = None
        self._sender: Sender | None = None
        self.sending: set[Any] = set()  # the sends in flight (asyncio tasks)
        names = (*USER_CATALOG_NAMES, home.config_file.name)
        self._user_files = tuple(str(home.config_dir / name) for name in names)

    def _files_key(self) -> tuple[Any, ...]:
        """The identity of every file the catalog is made of (a changed one is read again):
        plain stats, since this runs on every request."""
        return tuple(identity(path) for path in (str(base_catalog_path(self.catalog_arg)), *self._user_files))

    def catalog(self) -> Catalog:
        """The merged catalog, read again when a file changed. Raises FileError."""
        key = self._files_key()
        with self._lock:
            if self._catalog is None or key != self._key:
                self._catalog = load_catalog(self.home, self.catalog_arg)
                self._key = key
            return self._catalog

    def sender(self) -> Sender:
        """The sender over the current catalog: its async pool and usage store live as long
        as the server; a changed catalog or config gets a new sender sharing them."""
        catalog = self.catalog()
        with self._lock:
            old = self._sender
            if old is None:
                self._sender = Sender.create(self.home, catalog, self.env)
            elif old.catalog is not catalog:
                self._sender = old.renewed(catalog)
            return self._sender

    async def aclose(self) -> None:
        """At shutdown, in the server's loop: sends still in flight (past the grace period)
        are cancelled and recorded as interrupted; then the pools and the store close."""
        import asyncio

        for task in self.sending:
            task.cancel()
        if self.sending:
            await asyncio.wait(self.sending, timeout=5)
        if self._sender is not None:
            if self._sender.apool is not None:
                await self._sender.apool.aclose()
            self._sender.close()


@dataclass(frozen=True)
class Problem:
    """An error as HTTP says it: status, OpenAI-style `type` and `code`, and the message."""

    status: int
    type: str
    code: str | None
    message: str
    param: str | None = None  # the request field at fault
    retry_after: float | None = None  # seconds until a retry may succeed (429, 503)

    def body(self, **more: Any) -> dict[str, Any]:
        """The error object: `{"error": {"message", "type", "param", "code"}}`."""
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return {"error": error, **more}

    def advice(self) -> dict[str, str]:
        """The headers that tell a retrying client (the OpenAI SDKs retry 429 and 5xx twice)
        what to do: `x-should-retry: false` on every 4xx and on a 502 (the chain already
        retried and fell back: asking again would multiply the work), and `retry-after`
        (whole seconds) on a 429 or 503."""
        out = {}
        if 400 <= self.status < 500 or self.status == 502:
            out["x-should-retry"] = "false"
        if self.status in (429, 503):
            out["retry-after"] = str(max(1, math.ceil(self.retry_after or DEFAULT_RETRY_AFTER)))
        return out

    def headers(self) -> list[tuple[bytes, bytes]]:
        """`advice()` as raw ASGI headers."""
        return [(k.encode(), v.encode()) for k, v in self.advice().items()]


class BadBody(UsageError):
    """A request body that is not what the endpoint takes (400); `param` names the field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def problem_of(exc: LlmctlError, *, not_found: str = "not_found") -> Problem:
    """The HTTP form of an llmctl error: an unknown LLM, job or book is 404 (`not_found`
    is its code), any other bad value 400, a broken file 500 (its path named), nothing
    fitting the request 422. A send that did not answer: 402 when only budgets or
    --max-cost stood in the way, 429 when every LLM tried was rate limited, 502 when every
    LLM failed, 503 when every LLM is cooling down."""
    message = exc.message + (f" ({exc.hint})" if exc.hint else "")
    if isinstance(exc, UnknownNameError) and exc.kind in ("LLM", "job", "book"):
        return Problem(404, "invalid_request_error", not_found, message)
    if isinstance(exc, UsageError):
        return Problem(400, "invalid_request_error", None, message, getattr(exc, "param", None))
    if isinstance(exc, FileError):
        return Problem(500, "server_error", "file_error", message)
    if isinstance(exc, OverBudget):
        return Problem(402, "insufficient_quota", "over_budget", message)
    if isinstance(exc, NoMatchError):
        if exc.runtime:
            return Problem(503, "upstream_error", "unavailable", message)
        return Problem(422, "invalid_request_error", "no_llm_fits", message)
    if isinstance(exc, AllFailedError):
        return _failed(exc)
    return Problem(500, "server_error", None, message)


def _failed(exc: AllFailedError) -> Problem:
    tried = [a for a in exc.attempts if a.tries or a.limited]
    if tried and all(a.limited or (a.failure and issubclass(a.failure, RateLimited)) for a in tried):
        return Problem(429, "rate_limit_error", "rate_limited", exc.message)
    message = exc.message + (": " + "; ".join(exc.more) if exc.more else "")
    return Problem(502, "upstream_error", "all_failed", message)


def waited(problem: Problem, exc: LlmctlError, live: Live | None) -> Problem:
    """`problem` with its `retry_after` when it is a 429 or 503: the soonest time an LLM of
    the request may be tried again, each LLM counted from the later of its own wait (a
    provider's Retry-After, a rate-limit slot) and its cooldown's end."""
    if problem.status not in (429, 503) or live is None:
        return problem
    sender, waits = live.sender(), []
    for llm_id, own in _held_back(exc):
        entry = sender.catalog.entries.get(llm_id)
        cooling = sender.cooldown.remaining(entry) if sender.cooldown and entry else 0.0
        waits.append(max(own or 0.0, cooling))
    known = [w for w in waits if w > 0]
    return replace(problem, retry_after=min(known)) if known else problem


def _held_back(exc: LlmctlError) -> list[tuple[str, float | None]]:
    """(LLM id, its own wait if known) of each LLM that failed or was held back for now."""
    if isinstance(exc, AllFailedError):
        return [(a.llm, a.retry_after) for a in exc.attempts if a.tries or a.limited or a.runtime]
    decision = getattr(exc, "decision", None)
    if decision is None:
        return []
    held = [(e.id, why) for e, why in decision.candidates or ()] + list(decision.passed_over)
    return [(llm_id, None) for llm_id, why in held if why is not None and why.runtime]


def payload_of(exc: LlmctlError) -> dict[str, Any]:
    """What an error's response carries beside the error object: when nothing fits, the
    picker's partial decision (as `pick --json` prints it)."""
    decision = getattr(exc, "decision", None)
    return decision.to_dict() if isinstance(exc, NoMatchError) and decision is not None else {}
