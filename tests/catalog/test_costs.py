"""Costing a request at an entry's prices: cached input at the cache-read price, and the
prices above 200k tokens for a longer prompt (actual cost, worst case and reservations)."""

from __future__ import annotations

from llmctl.catalog.costs import cost_of, request_cost, worst_case_cost
from llmctl.catalog.entry import LLM


def priced(**prices) -> LLM:
    base = {"input_cost_per_mtok": 2.0, "output_cost_per_mtok": 10.0}
    return LLM("acme/m", "openai", "m", **{**base, **prices})


def test_cached_input_costs_the_cache_read_price_or_else_the_input_price():
    with_cache = priced(cache_read_cost_per_mtok=0.5)
    assert cost_of(with_cache, 100_000, 0, 0) == 0.2
    assert cost_of(with_cache, 100_000, 10_000, 40_000) == round(
        (60_000 * 2 + 40_000 * 0.5 + 10_000 * 10) / 1e6, 8
    )
    assert cost_of(priced(), 100_000, 10_000, 40_000) == cost_of(priced(), 100_000, 10_000)
    assert cost_of(with_cache, 10, 0, 50) == round(10 * 0.5 / 1e6, 8)  # never more cached than sent


def test_a_prompt_over_200k_tokens_is_priced_at_the_long_context_prices():
    tiered = priced(input_cost_per_mtok_above_200k=4.0, output_cost_per_mtok_above_200k=15.0)
    assert cost_of(tiered, 200_000, 1_000) == round((200_000 * 2 + 1_000 * 10) / 1e6, 8)
    assert cost_of(tiered, 200_001, 1_000) == round((200_001 * 4 + 1_000 * 15) / 1e6, 8)
    assert request_cost(tiered, 300_000, 1_000) == (300_000 * 4 / 1e6, 1_000 * 15 / 1e6)
    assert worst_case_cost(tiered, 300_000, 1_000) == round((300_000 * 4 + 1_000 * 15) / 1e6, 6)
    assert cost_of(priced(), 300_000, 0) == round(300_000 * 2 / 1e6, 8)  # no tier: the one price


def test_unknown_prices_stay_unknown():
    assert cost_of(LLM("acme/m", "openai", "m"), 10, 10) is None
    assert cost_of(priced(), None, None) is None


def test_input_written_to_the_cache_costs_the_cache_write_price():
    entry = priced(cache_read_cost_per_mtok=0.5, cache_write_cost_per_mtok=2.5)
    # 100k in: 20k read, 30k written, 50k fresh; 1k out
    expected = (50_000 * 2 + 20_000 * 0.5 + 30_000 * 2.5 + 1_000 * 10) / 1e6
    assert cost_of(entry, 100_000, 1_000, 20_000, 30_000) == round(expected, 8)
    assert cost_of(priced(), 100_000, 1_000, 20_000, 30_000) == cost_of(priced(), 100_000, 1_000)
