"""What a send leaves behind: each LLM's `Attempt`, the `Result` of the one that answered,
and the `Outcome` words both are told in (`prompt --json`, batch lines, usage records,
`serve`'s `x-llmctl-attempts`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

from llmctl.catalog.entry import LLM
from llmctl.errors import AllFailedError, LlmctlError, OverBudget, ProviderError
from llmctl.providers.wire import Usage
from llmctl.selection.decision import RATE_LIMIT, Skip


class Outcome(StrEnum):
    """What came of an attempt; serialised as its word (JSON, the usage store)."""

    OK = "ok"  # answered
    ERROR = "error"  # failed (after its retries), or broke off mid-answer
    SKIPPED = "skipped"  # nothing was sent to it (no key, cooldown, budget, --max-cost...)
    CACHE_HIT = "cache_hit"  # answered from the response cache: nothing was sent
    INTERRUPTED = "interrupted"  # cut short by Ctrl-C, SIGTERM, a client leaving
    PLANNED = "planned"  # a dry run would send to it


class AttemptJSON(TypedDict):
    """One LLM of the chain, as `Attempt.to_dict` gives it."""

    llm: str
    deployment: str | None
    provider: str | None
    outcome: Outcome
    status: int | None
    error: str | None
    tries: int
    latency_ms: float | None
    ttft_ms: float | None


@dataclass
class Attempt:
    """One LLM of the chain: what happened to it (after its retries)."""

    llm: str
    provider: str | None
    outcome: Outcome
    status: int | None = None
    failure: type[ProviderError] | None = None  # the class of the last error
    error: str | None = None
    tries: int = 0
    latency_ms: float | None = None
    ttft_ms: float | None = None
    by_picker: bool = False  # skipped when the chain was chosen, not while sending
    hint: str | None = None  # what the last error suggests doing
    skip: Skip | None = None  # why it was skipped, or given up waiting for a rate-limit slot
    retry_after: float | None = None  # seconds until it may be tried again (Retry-After, a slot)
    deployment: str | None = None  # which of the LLM's deployments (None: the LLM as a whole)

    @classmethod
    def of(cls, entry: LLM, outcome: Outcome, **more: object) -> Attempt:
        """An attempt at `entry` as reached through one deployment (its only one once
        `LLM.via` chose it; an entry without any is its implicit one, id = provider)."""
        return cls(entry.id, entry.provider, outcome, deployment=deployment_id(entry), **more)  # type: ignore[arg-type]

    @classmethod
    def skipped(cls, entry: LLM, why: Skip) -> Attempt:
        """`entry` skipped while sending, for `why`: nothing was sent to it."""
        return cls.of(entry, Outcome.SKIPPED, error=why.message, skip=why)

    @property
    def spend(self) -> bool:
        """Skipped by a budget or --max-cost (a reason of the setup, not a failure)."""
        return self.skip is not None and self.skip.spend

    @property
    def runtime(self) -> bool:
        """Skipped for a reason that passes with time (cooldown, rate limit, endpoint down)."""
        return self.skip is not None and self.skip.runtime

    @property
    def limited(self) -> bool:
        """Given up because a rate limit had no room soon enough."""
        return self.skip is not None and self.skip.kind == RATE_LIMIT

    def to_dict(self) -> AttemptJSON:
        """The attempt as `prompt --json`, batch lines and errors show it."""
        return {
            "llm": self.llm,
            "deployment": self.deployment,
            "provider": self.provider,
            "outcome": self.outcome,
            "status": self.status,
            "error": self.error,
            "tries": self.tries,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
        }

    @classmethod
    def passed_over(cls, llm: str, provider: str | None, why: Skip) -> Attempt:
        """An LLM the picker passed over (no key, cooldown...): nothing was sent to it."""
        return cls(llm, provider, Outcome.SKIPPED, error=why.message, by_picker=True, skip=why)

    def line(self) -> str:
        """One line for the failure report."""
        what = self.error or self.outcome
        if self.by_picker:
            what += " (skipped, nothing sent)"
        return f"{self.llm} ({self.provider}): {what}" + (
            f" after {self.tries} tries" if self.tries > 1 else ""
        )


def deployment_id(entry: LLM) -> str | None:
    """The id of the deployment `entry` is reached through: its first (after `LLM.via`,
    its only one), else the implicit one's (its provider); None when it has several."""
    if not entry.deployments:
        return entry.provider
    return entry.deployments[0].id if len(entry.deployments) == 1 else None


@dataclass
class Result:
    """The answer of the LLM that answered, with every attempt that led to it."""

    text: str
    llm: LLM
    attempts: list[Attempt]
    usage: Usage
    cost: float | None
    latency_ms: float
    ttft_ms: float | None = None
    vectors: list[list[float]] | None = None  # for embeddings
    tokens_estimated: bool = False  # the provider reported no counts: they are estimated
    cached: bool = False  # answered from the response cache: nothing was sent
    finish_reason: str | None = None  # as the provider said it (stop, length, end_turn...)


def failure_of(passed_over: Sequence[Attempt], attempts: Sequence[Attempt]) -> LlmctlError:
    """The error a run that got no answer ends with: OverBudget (exit 4) when nothing was
    sent and only spending rules (a budget, --max-cost) stood in the way, else
    AllFailedError listing every attempt, the picker's skips (`passed_over`) first."""
    every = [*passed_over, *attempts]
    tried = sum(1 for a in attempts if a.tries)
    spend = [a for a in attempts if a.spend]
    if not tried and spend and not any(a.runtime for a in every):
        # Nothing was sent, and a budget or --max-cost stood in the way of every LLM that
        # was not skipped for its setup: the request does not fit the spending rules
        # (exit 4). An LLM held back by cooldown or a rate limit makes it a failure (1).
        return OverBudget(
            f"no LLM of the chain may be paid for: {spend[0].error}",
            hint="raise the budget (`llmctl budget show`), or pick a cheaper or local LLM",
            more=[a.line() for a in every],
        )
    skipped = len(every) - tried
    counts = f"{tried} tried" + (f", {skipped} skipped" if skipped else "")
    hints = [a.hint for a in every if a.hint]
    hint = hints[0] if hints else "`llmctl pick --explain` shows the chain and what is in cooldown"
    return AllFailedError(
        f"every LLM of the chain failed ({counts})" if every else "the chain is empty", every, hint=hint
    )
