"""One exception tree. Each error carries its exit code and, where it helps, a hint.

The core raises these, complete; only `llmctl.cli` turns them into a message and an
exit code. Provider failures have one class per kind, and each class says what the
sending engine does about it (retry the same LLM? cool down the LLM or its endpoint?),
so no code reads a message's text to decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar


class LlmctlError(Exception):
    """Base of every error llmctl reports to its user (exit code 1: failed at run time).

    `more` holds further lines (one per problem or attempt) shown under the message."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, more: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.more = list(more)


class LlmctlWarning(UserWarning):
    """A warning of the Python API: a named LLM was skipped (and why), or is deprecated."""


class UsageError(LlmctlError):
    """A bad value typed on the command line or passed to the API (exit 2)."""

    exit_code = 2


class TextNotUnicode(UsageError, ValueError):
    """Prompt text that is not valid Unicode (a lone surrogate): refused before anything is
    sent (exit 2; 400 on `serve`). A ValueError too, for Python callers."""


class TemplateError(UsageError):
    """A job's template or variables that cannot make a prompt (exit 2): a syntax error, an
    undefined or missing variable, an unknown `--var`, a reach into Python internals. Names
    the job, the variable and the template's file and line where known; nothing is sent."""

    def __init__(
        self,
        job: str,
        problem: str,
        *,
        variable: str | None = None,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.job = job
        self.variable = variable
        self.path = Path(path) if path is not None else None
        self.line = line
        self.problem = problem
        place = f"{path}{f':{line}' if line else ''}: " if path is not None else ""
        super().__init__(f"job {job!r}: {place}{problem}", hint=hint)


class UnknownNameError(UsageError):
    """A name (LLM id, group, job, tier...) that does not exist; suggests the closest ones."""

    def __init__(self, kind: str, name: str, known: Iterable[str], *, hint: str | None = None):
        self.kind = kind
        self.name = name
        self.suggestions = closest(name, known)
        message = f"unknown {kind} {name!r}"
        if self.suggestions:
            message += f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
        super().__init__(message, hint=hint)


class FileError(LlmctlError):
    """A file that cannot be read, parsed or holds invalid content (exit 3).

    The message names the path, and the line, entry and field where known.
    """

    exit_code = 3

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        line: int | None = None,
        entry: str | None = None,
        field: str | None = None,
        hint: str | None = None,
        more: Sequence[str] = (),
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.entry = entry
        self.field = field
        self.problem = problem
        self.first = where(path, line, entry, field) + problem
        message = self.first
        if more:
            message += f" (and {len(more)} more problem{'s' if len(more) > 1 else ''})"
        super().__init__(message, hint=hint, more=more)

    @property
    def problems(self) -> list[str]:
        """Every problem as one line each, the first included."""
        return [self.first, *self.more]


def where(path: Path | str, line: int | None, entry: str | None, field: str | None) -> str:
    """`PATH[:LINE]: [entry 'E', ][field 'F': ]`, the prefix of a file problem."""
    parts = [p for p in (f"entry {entry!r}" if entry else "", f"field {field!r}" if field else "") if p]
    return f"{path}{f':{line}' if line else ''}: " + (", ".join(parts) + ": " if parts else "")


class NoMatchError(LlmctlError):
    """No LLM fits the request (exit 4). `decision` is the picker's partial decision,
    which still explains why (for `pick --explain` and `--json`).

    With `runtime` the LLMs exist and fit but cannot be used right now (cooldown, rate
    limit): a run-time failure (exit 1), not a problem of the request or the setup."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        decision: Any = None,
        runtime: bool = False,
        more: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint=hint, more=more)
        self.decision = decision
        self.runtime = runtime
        self.exit_code = 1 if runtime else 4


class OverBudget(NoMatchError):
    """Nothing was sent because budgets or --max-cost let no LLM of the chain be paid for
    (exit 4, like any request that fits no LLM)."""


def closest(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Return up to `n` names from `known` that look like `name`, best first."""
    import difflib

    known = list(known)
    found = difflib.get_close_matches(name, known, n=n, cutoff=0.6)
    if len(found) < n:
        lowered = name.lower()
        for candidate in sorted(known):
            if len(found) >= n:
                break
            if lowered and lowered in candidate.lower() and candidate not in found:
                found.append(candidate)
    return found


def did_you_mean(name: str, known: Iterable[str], *, sep: str = "; ") -> str:
    """`"; did you mean 'x'?"` for the closest known name, or "" when none is close."""
    near = closest(name, known)
    return f"{sep}did you mean {near[0]!r}?" if near else ""


# --- provider failures --------------------------------------------------------------------------

COOL_ENDPOINT = "endpoint"
COOL_LLM = "llm"  # the deployment the LLM was reached through
COOL_KEY = "key"  # the key (its env var name), for every deployment using it


class ProviderError(LlmctlError):
    """A provider request failed (exit 1 when nothing else answers).

    Class attributes say what the engine does about it: `retryable` (try the same LLM
    again after a backoff), `cools` (count the failure against the `endpoint`, the `llm`,
    or nothing). `kind` names the failure in records and JSON."""

    exit_code = 1
    kind: ClassVar[str] = "error"
    retryable: ClassVar[bool] = False
    cools: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.retry_after = retry_after


class ConnectFailed(ProviderError):
    """Refused, DNS or TLS failure, or a connect timeout: the endpoint itself is unreachable.
    Not retried against the same endpoint; the next LLM is tried at once."""

    kind, retryable, cools = "connection", False, COOL_ENDPOINT


class TimedOut(ProviderError):
    """A read timeout, or HTTP 408: this model is slow, not the endpoint down."""

    kind, retryable, cools = "timeout", True, COOL_LLM


class RateLimited(ProviderError):
    """HTTP 429; `retry_after` holds the server's Retry-After."""

    kind, retryable, cools = "rate_limit", True, COOL_LLM


class ServerFailed(ProviderError):
    """HTTP 5xx, or an error event inside a stream."""

    kind, retryable, cools = "server", True, COOL_LLM


class BadRequest(ProviderError):
    """HTTP 400 and other 4xx the request itself caused: another LLM may take it."""

    kind = "bad_request"


class AuthFailed(ProviderError):
    """HTTP 401 or 403: the key is wrong or lacks access."""

    kind, cools = "auth", COOL_KEY


class ModelNotFound(ProviderError):
    """HTTP 404: the provider does not serve this model (here)."""

    kind, cools = "not_found", COOL_LLM


class ContextTooLong(ProviderError):
    """The prompt does not fit the model's context: only a larger context can help."""

    kind = "context_length"


class Malformed(ProviderError):
    """An answer whose shape cannot be read."""

    kind, retryable, cools = "malformed", True, COOL_LLM


class TooLarge(ProviderError):
    """An answer larger than `max_response_bytes`: refused before it exhausts memory."""

    kind = "too_large"


class StreamUnreadable(Malformed):
    """A stream in a form the adapter cannot read (a proxy that mangles streaming, say):
    trying again would only fail the same way."""

    kind, retryable = "stream_unreadable", False


class StreamBroken(ProviderError):
    """The connection or stream broke off before the answer was complete."""

    kind, retryable, cools = "stream_broken", True, COOL_LLM


class InvalidOutput(ProviderError):
    """An answer that is not the JSON the job asked for, or breaks its schema (retried once
    on the same LLM with the problem added to the conversation, then a failed attempt).
    `answer` is the text received; `problem` says what is wrong with it; `usage` (the
    provider's token counts of every try, when the answers came from a provider) is what
    the failed attempt is billed: the provider charged for both answers."""

    kind = "invalid_output"

    def __init__(self, problem: str, *, answer: str = "", usage: Any = None) -> None:
        super().__init__(f"the answer is not the JSON asked for: {problem}")
        self.problem = problem
        self.answer = answer
        self.usage = usage


class NotConfigured(ProviderError):
    """The LLM cannot be sent to as set up (no key, no base URL): skipped, nothing sent."""

    kind = "not_configured"


class KeyMissing(NotConfigured):
    """The key variable the LLM needs is not set."""

    kind = "no_key"


class AllFailedError(LlmctlError, RuntimeError):
    """Every LLM of the fallback chain failed (exit 1); `attempts` lists each try,
    the LLMs skipped before sending included.

    A RuntimeError too, as seed 002's `get_llm_with_fallback()` promises; `str()` lists
    every failure."""

    exit_code = 1

    def __init__(self, message: str, attempts: list, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, more=[a.line() for a in attempts])
        self.attempts = attempts

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {line}" for line in self.more)])


class StreamInterrupted(LlmctlError):
    """The answer broke off after part of it was written: never stitched to another model (exit 1)."""

    exit_code = 1
