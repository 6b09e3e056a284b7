"""The balancer: states, shares, order groups, standby, strategies and seeded failover."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from llmctl.catalog.entry import LLM, Deployment
from llmctl.selection.balancer import (
    ELIGIBLE,
    FALLBACK,
    RATE_LIMITED,
    STANDBY,
    Observed,
    balance,
)
from llmctl.selection.decision import COOLDOWN, DISABLED, NO_KEY, Skip

DRAWS = 4000


def llm(*deployments: Deployment, **fields) -> LLM:
    fields.setdefault("input_cost_per_mtok", 1.0)
    fields.setdefault("output_cost_per_mtok", 10.0)
    return LLM("openai/gpt-5", deployments[0].provider, "gpt-5", deployments=list(deployments), **fields)


def dep(id: str, provider: str | None = None, **fields) -> Deployment:
    return Deployment(id, provider or id, **fields)


def blocking(**why: Skip):
    """A state callback: the named deployments are blocked for the given reasons."""
    return lambda _llm, d: why.get(d.id)


COOLING = Skip(COOLDOWN, "cooling until 12:04:10 (429)")


def shares(b) -> dict[str, float]:
    return {o.deployment.id: o.share for o in b.options if o.share}


def first_counts(b, seed: int = 7, draws: int = DRAWS) -> Counter:
    rng = random.Random(seed)
    return Counter(b.failover(rng)[0].id for _ in range(draws))


def within_bound(count: int, share: float, draws: int = DRAWS) -> bool:
    """Within 4.5 standard deviations of the binomial mean (a false alarm is ~1 in 150,000)."""
    return abs(count / draws - share) <= 4.5 * math.sqrt(share * (1 - share) / draws)


# --- weighted ---------------------------------------------------------------------------------


def test_weighted_shares_are_weight_over_the_eligible_sum_and_draws_follow_them():
    b = balance(llm(dep("openai", weight=3), dep("openrouter", weight=1)))
    assert shares(b) == {"openai": 0.75, "openrouter": 0.25}
    counts = first_counts(b)
    assert within_bound(counts["openai"], 0.75) and within_bound(counts["openrouter"], 0.25), counts


def test_shares_do_not_change_when_the_list_is_shuffled():
    deployments = [dep("openai", weight=2), dep("openrouter", weight=1), dep("groq", weight=1)]
    expected = {"openai": 0.5, "openrouter": 0.25, "groq": 0.25}
    for seed in range(5):
        shuffled = deployments[:]
        random.Random(seed).shuffle(shuffled)
        b = balance(llm(*shuffled))
        assert shares(b) == expected
        counts = first_counts(b, seed=seed)
        assert all(within_bound(counts[k], v) for k, v in expected.items()), counts


def test_the_ratios_of_the_eligible_stay_when_another_deployment_cools_or_lacks_a_key():
    entry = llm(dep("openai", weight=2), dep("openrouter", weight=1), dep("groq", weight=1))
    for why in (COOLING, Skip(NO_KEY, "GROQ_API_KEY is not set"), Skip(RATE_LIMITED, "at 60 requests/min")):
        b = balance(entry, blocking(groq=why))
        assert shares(b) == pytest.approx({"openai": 2 / 3, "openrouter": 1 / 3})
        counts = first_counts(b)
        assert counts["groq"] == 0
        assert within_bound(counts["openai"], 2 / 3), counts


def test_shares_of_the_eligible_sum_to_one():
    weights = [0.3, 1.7, 2.0, 0.01]
    b = balance(llm(*(dep(f"d{n}", "openai", weight=w) for n, w in enumerate(weights))))
    assert math.isclose(sum(o.share for o in b.options), 1.0)
    assert [o.state for o in b.options] == [ELIGIBLE] * 4


def test_a_blocked_deployment_carries_its_reason_and_no_share():
    b = balance(
        llm(dep("openai"), dep("openrouter"), dep("azure", enabled=False)),
        blocking(openrouter=Skip(NO_KEY, "OPENROUTER_API_KEY is not set")),
    )
    states = {o.deployment.id: (o.state, o.share, o.reason) for o in b.options}
    assert states["openrouter"] == (NO_KEY, 0.0, "OPENROUTER_API_KEY is not set")
    assert states["azure"] == (DISABLED, 0.0, "disabled")
    assert states["openai"] == (ELIGIBLE, 1.0, "100%")
    assert [d.id for d in b.failover(random.Random(1))] == ["openai"]


def test_an_entry_without_deployments_balances_its_implicit_one():
    b = balance(LLM("acme/a", "groq", "a"))
    assert [(o.deployment.id, o.state, o.share) for o in b.options] == [("groq", ELIGIBLE, 1.0)]


# --- order groups and standby -------------------------------------------------------------------


def test_the_lowest_order_with_an_eligible_deployment_serves_later_ones_stand_by():
    entry = llm(dep("openai"), dep("openrouter"), dep("azure", order=2), dep("bedrock", order=3))
    b = balance(entry)
    assert shares(b) == {"openai": 0.5, "openrouter": 0.5}
    states = {o.deployment.id: (o.state, o.reason) for o in b.options}
    assert states["azure"] == (STANDBY, "standby (order 2)")
    order = [d.id for d in b.failover(random.Random(3))]
    assert set(order[:2]) == {"openai", "openrouter"} and order[2:] == ["azure", "bedrock"]

    cooled = balance(entry, blocking(openai=COOLING, openrouter=COOLING))
    assert shares(cooled) == {"azure": 1.0}
    assert [d.id for d in cooled.failover(random.Random(3))] == ["azure", "bedrock"]


def test_weight_zero_is_standby_until_nothing_else_of_its_group_is_eligible():
    entry = llm(dep("openai"), dep("spare-a", "openai", weight=0), dep("spare-b", "openai", weight=0))
    b = balance(entry)
    assert shares(b) == {"openai": 1.0}
    assert {o.deployment.id: o.reason for o in b.options}["spare-a"] == "standby (weight 0)"
    assert [d.id for d in b.failover(random.Random(0))] == ["openai", "spare-a", "spare-b"]

    only_spares = balance(entry, blocking(openai=COOLING))
    assert shares(only_spares) == {"spare-a": 0.5, "spare-b": 0.5}
    counts = first_counts(only_spares)
    assert within_bound(counts["spare-a"], 0.5), counts


def test_a_weight_zero_deployment_of_the_first_group_comes_before_the_next_group():
    b = balance(llm(dep("openai"), dep("spare", "openai", weight=0), dep("azure", order=2)))
    assert [d.id for d in b.failover(random.Random(0))] == ["openai", "spare", "azure"]


def test_nothing_eligible_says_why_and_whether_it_passes_with_time():
    entry = llm(dep("openai"), dep("openrouter"))
    cooling = balance(entry, blocking(openai=COOLING, openrouter=Skip(NO_KEY, "no key")))
    assert not cooling.available and cooling.failover(random.Random(0)) == []
    why = cooling.unavailable()
    assert why.kind == COOLDOWN and why.runtime
    assert "openai cooling until 12:04:10 (429)" in why.message and "openrouter no key" in why.message
    keyless = balance(entry, blocking(openai=Skip(NO_KEY, "no key"), openrouter=Skip(NO_KEY, "no key")))
    assert keyless.unavailable().kind == NO_KEY
    assert balance(entry).unavailable() is None


# --- cheapest and latency -----------------------------------------------------------------------


def test_cheapest_takes_the_lowest_own_price_falling_back_to_the_entrys():
    entry = llm(
        dep("openai"),  # the entry's 1 + 10
        dep("openrouter", input_cost_per_mtok=0.5),  # 0.5 + 10
        dep("groq", output_cost_per_mtok=12.0),  # 1 + 12
    )
    b = balance(entry, strategy="cheapest")
    assert shares(b) == {"openrouter": 1.0}
    states = {o.deployment.id: (o.state, o.reason) for o in b.options}
    assert states["openai"] == (FALLBACK, "fallback ($11/Mtok in+out)")
    assert [d.id for d in b.failover(random.Random(0))] == ["openrouter", "openai", "groq"]


def test_cheapest_ties_share_by_weight():
    entry = llm(
        dep("key-a", "openai", weight=3), dep("key-b", "openai"), dep("openrouter", output_cost_per_mtok=20.0)
    )
    b = balance(entry, strategy="cheapest")
    assert shares(b) == {"key-a": 0.75, "key-b": 0.25}
    counts = first_counts(b)
    assert within_bound(counts["key-a"], 0.75) and counts["openrouter"] == 0


def test_latency_explores_deployments_with_fewer_than_three_samples_first():
    entry = llm(dep("openai"), dep("openrouter"), dep("groq"))
    observed = {"openai": Observed(0.9, 40), "openrouter": Observed(0.3, 2), "groq": Observed(0.2, 12)}
    b = balance(entry, strategy="latency", observed=observed)
    assert shares(b) == {"openrouter": 1.0}
    assert "exploring: 2 samples" in {o.deployment.id: o.reason for o in b.options}["openrouter"]
    assert [d.id for d in b.failover(random.Random(0))] == ["openrouter", "groq", "openai"]


def test_latency_prefers_the_lowest_median_once_every_deployment_is_observed():
    entry = llm(dep("openai"), dep("openrouter"), dep("groq"))
    observed = {"openai": Observed(0.9, 40), "openrouter": Observed(None, 5), "groq": Observed(0.2, 12)}
    b = balance(entry, strategy="latency", observed=observed)
    assert shares(b) == {"groq": 1.0}
    reasons = {o.deployment.id: o.reason for o in b.options}
    assert reasons == {
        "groq": "100% (p50 200 ms)",
        "openai": "fallback (p50 900 ms)",
        "openrouter": "fallback (p50 unknown)",
    }
    assert [d.id for d in b.failover(random.Random(0))] == ["groq", "openai", "openrouter"]


def test_latency_with_no_observations_explores_everything_by_weight():
    b = balance(llm(dep("openai", weight=1), dep("groq", weight=3)), strategy="latency")
    assert shares(b) == {"openai": 0.25, "groq": 0.75}


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown balance strategy"):
        balance(llm(dep("openai")), strategy="fastest")


# --- seeds and the explanation ------------------------------------------------------------------


def test_one_seed_gives_one_failover_order_whatever_the_list_order():
    deployments = [dep("openai", weight=2), dep("openrouter"), dep("groq"), dep("azure", order=2)]
    orders = set()
    for shuffle_seed in range(6):
        shuffled = deployments[:]
        random.Random(shuffle_seed).shuffle(shuffled)
        b = balance(llm(*shuffled))
        orders.add(tuple(d.id for d in b.failover(random.Random(42))))
    assert len(orders) == 1
    runs = {tuple(d.id for d in balance(llm(*deployments)).failover(random.Random(s))) for s in range(50)}
    assert len(runs) > 1  # other seeds draw other orders


def test_the_failover_order_holds_every_eligible_deployment_once():
    entry = llm(
        dep("a", "openai", weight=5),
        dep("b", "openai"),
        dep("c", "openai", weight=0),
        dep("d", "groq", order=2),
    )
    b = balance(entry, blocking(b=COOLING))
    for seed in range(20):
        order = [d.id for d in b.failover(random.Random(seed))]
        assert sorted(order) == ["a", "c", "d"] and order[-1] == "d"


def test_the_explanation_reads_like_the_contract():
    entry = llm(dep("openai", weight=2), dep("openrouter"), dep("azure", order=2), dep("groq"))
    b = balance(entry, blocking(groq=COOLING))
    assert (
        b.explain()
        == "openai 67% · openrouter 33% · azure standby (order 2) · groq cooling until 12:04:10 (429)"
    )
    assert b.to_dicts()[0] == {
        "id": "openai",
        "provider": "openai",
        "share": 2 / 3,
        "state": ELIGIBLE,
        "reason": "67%",
    }
