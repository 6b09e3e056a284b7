"""What the picker is asked (Request) and what it answers (Decision, with its trace)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmctl.books import Book
from llmctl.jobs import Job
from llmctl.records import LLM


@dataclass(slots=True)
class Request:
    """What the caller asks for. `*_source` fields say where each value came from."""

    group: str | None = None
    tier: str | None = None
    capabilities: tuple[str, ...] = ()
    min_context: int | None = None
    prompt_tokens: int | None = None
    llm: str | None = None
    book: Book | None = None
    job: Job | None = None
    strategy: str | None = None
    scope: str = "global"
    allow_upgrade: bool = False
    max_attempts: int = 3
    assume_available: bool = False
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Step:
    """One line of the decision trace."""

    rule: str
    applied: bool
    note: str
    llm: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "applied": self.applied,
            "llm": self.llm,
            "source": self.source,
            "note": self.note,
        }


@dataclass
class Decision:
    """The chosen LLM, the rule that chose it, the fallback chain and the trace."""

    llm: LLM | None  # None only in the partial decision of a NoMatchError
    rule: str | None
    request: Request
    strategy: str
    chain: list[LLM]
    trace: list[Step]
    warnings: list[str]
    candidates: list[tuple[LLM, str | None]] | None = None
    # LLMs that would have come first but cannot be used now (id, reason): pinned ones that
    # were skipped, and better-ranked candidates without a key or in cooldown.
    passed_over: list[tuple[str, str]] = field(default_factory=list)

    @property
    def group(self) -> str | None:
        return self.request.group

    @property
    def tier(self) -> str | None:
        return self.request.tier

    def to_dict(self) -> dict[str, Any]:
        """The `pick --json` shape (`llm` and `rule` are null when nothing fits)."""
        req = self.request
        return {
            "llm": self.llm.id if self.llm else None,
            "rule": self.rule,
            "group": req.group,
            "tier": req.tier,
            "strategy": self.strategy,
            "book": req.book.name if req.book else None,
            "job": req.job.name if req.job else None,
            "scope": req.scope,
            "allow_upgrade": req.allow_upgrade,
            "max_attempts": req.max_attempts,
            "chain": [e.id for e in self.chain],
            "chain_detail": [chain_step(e, req.prompt_tokens) for e in self.chain],
            "candidates": [{"id": e.id, "skipped": why} for e, why in self.candidates or ()],
            "trace": [s.to_dict() for s in self.trace],
            "warnings": list(self.warnings),
            "sources": dict(req.sources),
        }


def chain_step(entry: LLM, prompt_tokens: int | None) -> dict[str, Any]:
    """One step of the chain with its prices and the worst-case cost of one request."""
    return {
        "id": entry.id,
        "provider": entry.provider,
        "tier": entry.tier,
        "input_cost_per_mtok": entry.input_cost_per_mtok,
        "output_cost_per_mtok": entry.output_cost_per_mtok,
        "worst_case_cost": worst_case_cost(entry, prompt_tokens),
    }


def worst_case_cost(entry: LLM, prompt_tokens: int | None, max_tokens: int | None = None) -> float | None:
    """USD for one request: the prompt (or a full context when unknown) plus the longest
    answer (the request's `max_tokens` cap, else the model's own limit)."""
    if entry.input_cost_per_mtok is None or entry.output_cost_per_mtok is None:
        return None
    limit = entry.max_output_tokens or 4096
    out_tokens = min(max_tokens, limit) if max_tokens else limit
    in_tokens = (
        prompt_tokens if prompt_tokens is not None else max((entry.context_length or 0) - out_tokens, 0)
    )
    cost = (in_tokens * entry.input_cost_per_mtok + out_tokens * entry.output_cost_per_mtok) / 1_000_000
    return round(cost, 6)
