"""What a request costs at an entry's prices: the actual cost of an answer, the worst case
before sending, and the rough token estimate both use when nothing better is known."""

from __future__ import annotations

import math
from collections.abc import Iterable

from llmctl.catalog.entry import LLM

DEFAULT_MAX_OUTPUT = 4096
CHARS_PER_TOKEN = 4


LONG_PROMPT = 200_000  # over this many prompt tokens, the `_above_200k` prices apply


def rates(entry: LLM, prompt_tokens: int | None) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for a request of this size: the entry's
    prices above 200k tokens when the prompt is longer and the entry has them. None when a
    price is unknown."""
    if entry.input_cost_per_mtok is None or entry.output_cost_per_mtok is None:
        return None
    if (prompt_tokens or 0) > LONG_PROMPT:
        return (
            entry.input_cost_per_mtok_above_200k or entry.input_cost_per_mtok,
            entry.output_cost_per_mtok_above_200k or entry.output_cost_per_mtok,
        )
    return entry.input_cost_per_mtok, entry.output_cost_per_mtok


def cost_of(
    entry: LLM,
    input_tokens: int | None,
    output_tokens: int | None,
    cached_tokens: int | None = None,
    written_tokens: int | None = None,
) -> float | None:
    """USD at the catalog's prices, or None when a price or a count is unknown. Of the
    input, `cached_tokens` were read from the provider's prompt cache and `written_tokens`
    written to it: they cost the entry's cache-read and cache-write prices (the input
    price where it has none)."""
    prices = rates(entry, input_tokens)
    if prices is None or (input_tokens is None and output_tokens is None):
        return None
    per_in, per_out = prices
    total_in = input_tokens or 0
    cached = min(cached_tokens or 0, total_in)
    written = min(written_tokens or 0, total_in - cached)
    read_price = per_in if entry.cache_read_cost_per_mtok is None else entry.cache_read_cost_per_mtok
    write_price = per_in if entry.cache_write_cost_per_mtok is None else entry.cache_write_cost_per_mtok
    fresh = total_in - cached - written
    total = fresh * per_in + cached * read_price + written * write_price + (output_tokens or 0) * per_out
    return round(total / 1_000_000, 8)


def worst_case_cost(entry: LLM, prompt_tokens: int | None, max_tokens: int | None = None) -> float | None:
    """USD for one request: the prompt (or a full context when unknown) plus the longest
    answer (the request's `max_tokens` cap, else the model's own limit)."""
    if entry.input_cost_per_mtok is None or entry.output_cost_per_mtok is None:
        return None
    limit = entry.max_output_tokens or DEFAULT_MAX_OUTPUT
    out_tokens = min(max_tokens, limit) if max_tokens else limit
    in_tokens = (
        prompt_tokens if prompt_tokens is not None else max((entry.context_length or 0) - out_tokens, 0)
    )
    per_in, per_out = rates(entry, in_tokens) or (0.0, 0.0)
    return round((in_tokens * per_in + out_tokens * per_out) / 1_000_000, 6)


def estimate_tokens(texts: Iterable[str]) -> int:
    """A rough prompt size: four characters a token, the usual rule of thumb for English
    (its measured error is in the README: benchmarks/bench_tokens.py)."""
    return max(1, sum(len(t) for t in texts) // CHARS_PER_TOKEN)


ESTIMATE_METHOD = "chars/4"


def usd(value: float | None) -> str:
    """An amount of money as shown to people, without the `$`: at least two decimals,
    and under a cent at least two significant digits (`0.00050`, never `0.00`); `?`
    for None, `0` for nothing."""
    if value is None:
        return "?"
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 0.01:
        shown = f"{size:.4f}".rstrip("0")
        shown += "0" * max(0, 2 - len(shown.split(".")[1]))
    else:
        shown = f"{size:.{1 - math.floor(math.log10(size))}f}"
    return ("-" if value < 0 else "") + shown


def max_output(entry: LLM, max_tokens: int | None) -> int:
    """The longest answer a request may get: its `max_tokens`, else the entry's
    `max_output_tokens`, else 4,096 (the rule of estimates, budgets and --max-cost)."""
    return max_tokens or entry.max_output_tokens or DEFAULT_MAX_OUTPUT


def request_cost(entry: LLM, input_tokens: int, max_tokens: int | None) -> tuple[float, float] | None:
    """(input cost, largest output cost) of one request in USD; None when a price is unknown."""
    prices = rates(entry, input_tokens)
    if prices is None:
        return None
    return (input_tokens * prices[0] / 1_000_000, max_output(entry, max_tokens) * prices[1] / 1_000_000)


def estimate(entries: Iterable[LLM], input_tokens: int, max_tokens: int | None) -> dict:
    """The `estimate --json` object for a chain: tokens, each step's costs and whether the
    prompt fits its context, and the worst case (one LLM answers: the largest step's)."""
    chain = []
    for entry in entries:
        costs = request_cost(entry, input_tokens, max_tokens)
        needed = input_tokens + (max_tokens or 0)
        chain.append(
            {
                "llm": entry.id,
                "input_cost": None if costs is None else round(costs[0], 8),
                "max_output_cost": None if costs is None else round(costs[1], 8),
                "worst_case_cost": None if costs is None else round(sum(costs), 8),
                "fits_context": entry.context_length is None or needed <= entry.context_length,
            }
        )
    known = [step["worst_case_cost"] for step in chain if step["worst_case_cost"] is not None]
    return {
        "input_tokens": input_tokens,
        "method": ESTIMATE_METHOD,
        "max_output_tokens": max_tokens,
        "chain": chain,
        "worst_case_cost": max(known) if known else None,
    }
