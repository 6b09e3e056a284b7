"""The JSON shapes scripts rely on for an answer (the contract's "JSON shapes" and batch
output lines), declared once as TypedDicts and built by one function, `answer_json`.

Each surface shows its own keys of the same answer, in its own order: `prompt --json`
(`PROMPT`, or `PROMPT_FAILED` when nothing answered), a `batch` output line (`BATCH`) and a
`compare --json` element (`COMPARE`). `serve`'s OpenAI objects are another format: they
read the Result, they do not rebuild this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from llmctl.engine.records import AttemptJSON

if TYPE_CHECKING:
    from llmctl.catalog.entry import LLM
    from llmctl.engine.records import Attempt, Result
    from llmctl.engine.router import Router
    from llmctl.providers.wire import ChatRequest


class UsageJSON(TypedDict, total=False):
    """Token counts; `estimated` (in `prompt --json`) when the provider reported none."""

    input_tokens: int | None
    output_tokens: int | None
    estimated: bool


class AnswerJSON(TypedDict, total=False):
    """Every key an answer may show; each shape shows some of them (see `Shape`)."""

    id: str  # a batch line's id
    text: str | None
    llm: str | None
    provider: str | None
    error: str | None  # null on success
    attempts: list[AttemptJSON]
    usage: UsageJSON | None
    cost: float | None
    latency_ms: float | None
    ttft_ms: float | None
    cached: bool


class BatchLine(TypedDict):
    """One `batch` output line."""

    id: str
    text: str | None
    llm: str | None
    provider: str | None
    attempts: list[AttemptJSON]
    usage: UsageJSON | None
    cost: float | None
    latency_ms: float | None
    cached: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class Shape:
    """Which keys of an answer a surface shows, in its order; whether its usage says
    `estimated`."""

    keys: tuple[str, ...]
    estimated: bool = False


PROMPT = Shape(
    ("text", "llm", "provider", "attempts", "usage", "cost", "latency_ms", "ttft_ms", "cached"), True
)
PROMPT_FAILED = Shape(("text", "llm", "provider", "error", "attempts", "usage", "cost"))
BATCH = Shape(("id", "text", "llm", "provider", "attempts", "usage", "cost", "latency_ms", "cached", "error"))
COMPARE = Shape(("llm", "provider", "text", "error", "usage", "cost", "latency_ms"))


def answer_json(
    shape: Shape,
    result: Result | None = None,
    *,
    error: str | None = None,
    attempts: Sequence[Attempt] = (),
    entry: LLM | None = None,
    latency_ms: float | None = None,
    item_id: str | None = None,
) -> AnswerJSON:
    """The answer in `shape`: of `result` when one came, else the failure (`error`, the
    `attempts` made, the LLM asked when there was one, and how long it took)."""
    whole: dict[str, Any]
    if result is not None:
        usage: dict[str, Any] = dict(result.usage.to_dict())
        if shape.estimated:
            usage["estimated"] = result.tokens_estimated
        whole = {
            "text": result.text,
            "llm": result.llm.id,
            "provider": result.llm.provider,
            "error": None,
            "attempts": [a.to_dict() for a in result.attempts],
            "usage": usage,
            "cost": result.cost,
            "latency_ms": round(result.latency_ms, 1),
            "ttft_ms": None if result.ttft_ms is None else round(result.ttft_ms, 1),
            "cached": result.cached,
        }
    else:
        whole = {
            "text": None,
            "llm": entry.id if entry else None,
            "provider": entry.provider if entry else None,
            "error": error,
            "attempts": [a.to_dict() for a in attempts],
            "usage": None,
            "cost": None,
            "latency_ms": latency_ms,
            "ttft_ms": None,
            "cached": False,
        }
    whole["id"] = item_id
    return cast(AnswerJSON, {key: whole[key] for key in shape.keys})


async def compared(router: Router, entry: LLM, req: ChatRequest) -> AnswerJSON:
    """`compare --json`'s object for `entry`: its answer, or its first attempt's error."""
    from llmctl.errors import AllFailedError, NoMatchError, StreamInterrupted

    try:
        result = await router.achat([entry], req)
    except AllFailedError as exc:
        first = exc.attempts[0] if exc.attempts else None
        error = first.error if first else exc.message
        latency = (first.latency_ms or 0.0) if first else 0.0
        return answer_json(COMPARE, entry=entry, error=error, latency_ms=latency)
    except (StreamInterrupted, NoMatchError) as exc:  # broke off; over budget or --max-cost
        return answer_json(COMPARE, entry=entry, error=exc.message, latency_ms=0.0)
    return answer_json(COMPARE, result)
