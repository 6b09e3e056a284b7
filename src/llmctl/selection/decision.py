"""What the picker is asked (Request) and what it answers (Decision, with its trace and
the reason each candidate was skipped, as data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmctl.catalog.costs import worst_case_cost
from llmctl.catalog.entry import LLM
from llmctl.prefs.books import Book
from llmctl.prefs.config import Config
from llmctl.prefs.jobs import Job

# Why an LLM was skipped, by the picker or by the engine while sending. Reasons of the
# request or the setup mean "nothing fits" (exit 4); spending reasons (a budget, --max-cost)
# "may not be paid for" (exit 4); run-time reasons (cooldown, a rate limit, an endpoint down
# in this run, a context found too small in this run) "failing right now" (exit 1).
NOT_IN_GROUP = "group"
OTHER_TIER = "tier"
OTHER_PROVIDER = "provider"
EMBEDDINGS_ONLY = "embeddings"
DISABLED = "disabled"
RETIRED = "retired"
NO_CAPABILITY = "capability"
CONTEXT = "context"
NO_KEY = "no_key"
GONE = "gone"
COOLDOWN = "cooldown"
NOT_CONFIGURED = "not_configured"  # the engine: no base URL, a key command that failed...
BUDGET = "budget"  # the engine: a budget has no room for the worst case
MAX_COST = "max_cost"  # the engine: the worst case is over --max-cost
RATE_LIMIT = "rate_limit"  # the engine: no rate-limit slot soon enough
DEAD_ENDPOINT = "dead_endpoint"  # the engine: its endpoint refused earlier in this run
TOO_SMALL = "too_small"  # the engine: a larger context is needed (a context-length error)
RUNTIME_SKIPS = frozenset({COOLDOWN, RATE_LIMIT, DEAD_ENDPOINT, TOO_SMALL})
SPEND_SKIPS = frozenset({BUDGET, MAX_COST})


class Skip:
    """Why an LLM cannot serve a request: a `kind` to act on and a `message` to show.

    (A plain class rather than a dataclass: it is built on every `pick`, where start-up counts.)"""

    __slots__ = ("kind", "message")

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Skip({self.kind!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Skip) and (self.kind, self.message) == (other.kind, other.message)

    def __hash__(self) -> int:
        return hash((self.kind, self.message))

    @property
    def runtime(self) -> bool:
        """True for a reason that passes with time (cooldown), not one of the request or setup."""
        return self.kind in RUNTIME_SKIPS

    @property
    def spend(self) -> bool:
        """True for a spending rule (a budget, --max-cost): a reason of the setup, not a failure."""
        return self.kind in SPEND_SKIPS

    @property
    def outside(self) -> bool:
        """True when the LLM is outside the group, tier or provider asked for (not a real candidate)."""
        return self.kind in (NOT_IN_GROUP, OTHER_TIER, OTHER_PROVIDER)


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
    max_attempts: int = Config.max_attempts  # config.toml's default
    assume_available: bool = False
    provider: str | None = None  # only LLMs served by this provider
    deployment: tuple[str, str] | None = None  # (llm id, deployment id): `--llm` `--deployment`
    prefer_providers: tuple[str, ...] = ()  # these providers' LLMs first, in this order
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
    candidates: list[tuple[LLM, Skip | None]] | None = None
    # LLMs that would have come first but cannot be used now (id, reason): pinned ones that
    # were skipped, and better-ranked candidates without a key or in cooldown.
    passed_over: list[tuple[str, Skip]] = field(default_factory=list)
    # The strategy's sort key (for ranking the candidates when explaining).
    rank: Callable[[LLM], tuple] | None = field(default=None, repr=False)
    # The balancer's standing of the chosen LLM's deployments (a `Balance`; explained picks).
    routes: Any = None

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
            "provider": req.provider,
            "prefer_providers": list(req.prefer_providers),
            "allow_upgrade": req.allow_upgrade,
            "max_attempts": req.max_attempts,
            "deployments": self.routes.to_dicts() if self.routes is not None else [],
            "chain": [e.id for e in self.chain],
            "chain_detail": [chain_step(e, req.prompt_tokens) for e in self.chain],
            "candidates": [
                {"id": e.id, "skipped": None if why is None else why.message}
                for e, why in self.candidates or ()
            ],
            "trace": [s.to_dict() for s in self.trace],
            "warnings": list(self.warnings),
            "sources": dict(req.sources),
        }

    def considered(self) -> tuple[list[tuple[LLM, Skip | None]], int]:
        """The candidates in the group and tier asked for, usable ones first, each part in
        the strategy's order; and how many others were outside the group or tier."""
        candidates = self.candidates or []
        shown = [(e, why) for e, why in candidates if why is None or not why.outside]
        rank = self.rank or (lambda e: (e.id,))
        shown.sort(key=lambda ew: (ew[1] is not None, rank(ew[0])))
        return shown, len(candidates) - len(shown)


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
