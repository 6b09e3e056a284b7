"""One exception tree. Each error carries its exit code and, where it helps, a hint.

The core raises these; only `llmctl.cli` turns them into a message and an exit code.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class LlmctlError(Exception):
    """Base of every error llmctl reports to its user (exit code 1: failed at run time)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(LlmctlError):
    """A bad value typed on the command line or passed to the API (exit 2)."""

    exit_code = 2


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
        more: list[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.entry = entry
        self.field = field
        self.problem = problem
        where = str(path) + (f":{line}" if line else "")
        what = []
        if entry:
            what.append(f"entry {entry!r}")
        if field:
            what.append(f"field {field!r}")
        prefix = f"{where}: " + (", ".join(what) + ": " if what else "")
        self.more = more or []
        message = prefix + problem
        if self.more:
            message += f" (and {len(self.more)} more problem{'s' if len(self.more) > 1 else ''})"
        super().__init__(message, hint=hint)


class NoMatchError(LlmctlError):
    """No LLM fits the request (exit 4)."""

    exit_code = 4


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


class ProviderError(LlmctlError):
    """A provider request failed. `kind` says how, `retryable` whether the same LLM may be tried again.

    Kinds: connection, timeout, rate_limit, server, auth, bad_request, not_found,
    context_length, malformed, stream_broken, no_key.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class AllFailedError(LlmctlError, RuntimeError):
    """Every LLM of the fallback chain failed (exit 1); `attempts` lists each try.

    A RuntimeError too, as seed 002's `get_llm_with_fallback()` promises; `str()` lists
    every failure."""

    exit_code = 1

    def __init__(self, message: str, attempts: list, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.attempts = attempts
        self.more = [a.line() for a in attempts]

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {line}" for line in self.more)])


class StreamInterrupted(LlmctlError):
    """The answer broke off after part of it was written: never stitched to another model (exit 1)."""

    exit_code = 1
