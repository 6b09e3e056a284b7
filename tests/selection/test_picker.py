"""The picker's rules (seeds 000, 001, 002), strategies, chain and trace, without the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import entry
from llmctl.catalog.costs import worst_case_cost
from llmctl.catalog.files import CatalogFile, validate_entry
from llmctl.catalog.load import Catalog, merge
from llmctl.errors import NoMatchError, UnknownNameError
from llmctl.prefs.books import Book
from llmctl.prefs.config import Config
from llmctl.prefs.jobs import Job
from llmctl.selection.decision import COOLDOWN, Request, Skip
from llmctl.selection.picker import Picker

KEYS = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-test", "OPENROUTER_API_KEY": "sk-test"}


def make_catalog(*entries, config: Config | None = None, today: str = "2026-11-22") -> Catalog:
    config = config or Config()
    patches = [validate_entry(e) for e in entries]
    merged = merge(CatalogFile(Path("test.json"), patches), None, config, "bundled catalog")
    return Catalog(entries=merged, config=config, today=today)


def picker(catalog, env=None, **kw):
    return Picker(catalog, env=KEYS if env is None else env, **kw)


WRITERS = (
    entry(
        "openai/best",
        quality_score=9,
        output_cost_per_mtok=20.0,
        tier="premium",
        valid_groups=["writer", "override"],
    ),
    entry("openai/good", quality_score=8, output_cost_per_mtok=5.0, tier="standard"),
    entry("openai/cheap", quality_score=6, input_cost_per_mtok=0.1, output_cost_per_mtok=0.4, tier="economy"),
    entry(
        "openai/cheaper", quality_score=5, input_cost_per_mtok=0.05, output_cost_per_mtok=0.2, tier="economy"
    ),
    entry(
        "anthropic/editor", provider="anthropic", quality_score=9.5, valid_groups=["editor"], tier="standard"
    ),
)


def test_best_in_group_is_highest_quality():
    d = picker(make_catalog(*WRITERS)).decide(Request(group="writer"))
    assert (d.llm.id, d.rule, d.strategy) == ("openai/best", "best_in_group", "quality")


def test_quality_ties_break_by_cost_then_id():
    cat = make_catalog(
        entry("a/x", quality_score=8, input_cost_per_mtok=2.0),
        entry("a/y", quality_score=8, input_cost_per_mtok=1.0),
        entry("a/z", quality_score=8, input_cost_per_mtok=1.0),
    )
    assert picker(cat).decide(Request(group="writer")).llm.id == "a/y"


def test_unscored_ranks_below_scored():
    cat = make_catalog(entry("a/scored", quality_score=1), entry("a/unscored", quality_score=None))
    assert picker(cat).decide(Request(group="writer")).llm.id == "a/scored"


def test_rule_order_override_then_job_llm_then_book_default():
    cat = make_catalog(*WRITERS)
    book = Book("moby", override="openai/best", defaults={"writer": "openai/cheap"}, exists=True)
    p = picker(cat)
    d = p.decide(Request(group="writer", book=book, llm="openai/good"))
    assert (d.llm.id, d.rule) == ("openai/best", "book_override")
    book.override = None
    d = p.decide(Request(group="writer", book=book, llm="openai/good"))
    assert (d.llm.id, d.rule) == ("openai/good", "job_llm")
    d = p.decide(Request(group="writer", book=book))
    assert (d.llm.id, d.rule) == ("openai/cheap", "book_default")
    assert [s.rule for s in d.trace] == ["book_override", "job_llm", "book_default", "best_in_group"]
    assert [s.applied for s in d.trace] == [False, False, True, False]


def test_override_must_be_valid_for_override_group():
    book = Book("moby", override="openai/good", exists=True)
    d = picker(make_catalog(*WRITERS)).decide(Request(group="writer", book=book))
    assert d.rule == "best_in_group"
    assert "not valid for group override" in d.trace[0].note
    assert any("book override openai/good skipped" in w for w in d.warnings)


def test_disabled_pinned_llm_is_skipped_with_warning():
    cat = make_catalog(*WRITERS[:3], entry("openai/off", enabled=False))
    d = picker(cat).decide(Request(group="writer", llm="openai/off"))
    assert d.rule == "best_in_group" and d.llm.id == "openai/best"
    assert d.trace[1].note == "openai/off skipped: disabled"
    assert d.warnings == ["job llm openai/off skipped: disabled"]


def test_deprecated_past_date_is_skipped_future_date_warns():
    cat = make_catalog(
        entry("a/old", quality_score=9, deprecated=True, deprecation_date="2026-01-01", replacement="a/new"),
        entry("a/soon", quality_score=8, deprecated=True, deprecation_date="2027-01-01"),
        entry("a/new", quality_score=7),
    )
    p = picker(cat)
    d = p.decide(Request(group="writer"), explain=True)
    assert d.llm.id == "a/soon" and d.warnings[0] == "a/soon is deprecated and retires on 2027-01-01"
    reasons = {e.id: why and why.message for e, why in d.candidates}
    assert reasons["a/old"] == "retired on 2026-01-01; use a/new"
    d = p.decide(Request(group="writer", llm="a/old"))
    assert d.rule == "best_in_group" and "retired on 2026-01-01; use a/new" in d.trace[1].note


def test_unknown_llm_is_an_error_but_unknown_book_llm_is_skipped():
    cat = make_catalog(*WRITERS)
    with pytest.raises(UnknownNameError) as info:
        picker(cat).decide(Request(group="writer", llm="openai/bets"))
    assert "openai/best" in info.value.suggestions
    book = Book("moby", defaults={"writer": "gone/model"}, exists=True)
    d = picker(cat).decide(Request(group="writer", book=book))
    assert d.rule == "best_in_group"
    assert "no longer in the catalog" in d.trace[2].note


def test_missing_key_skips_and_assume_available_plans_anyway():
    cat = make_catalog(*WRITERS)
    p = picker(cat, env={"ANTHROPIC_API_KEY": "x"})
    with pytest.raises(NoMatchError) as info:
        p.decide(Request(group="writer"))
    assert info.value.exit_code == 4 and "OPENAI_API_KEY is not set" in info.value.message
    assert p.decide(Request(group="writer", assume_available=True)).llm.id == "openai/best"
    d = p.decide(Request(group="editor"), explain=True)
    reasons = {e.id: why and why.message for e, why in d.candidates}
    assert reasons["openai/best"] == "not in group editor" and reasons["anthropic/editor"] is None


def test_auth_api_key_env_overrides_provider_key():
    cat = make_catalog(entry("openai/own", auth={"api_key_env": "MY_KEY"}))
    with pytest.raises(NoMatchError):
        picker(cat, env={"OPENAI_API_KEY": "x"}).decide(Request(group="writer"))
    assert picker(cat, env={"MY_KEY": "x"}).decide(Request(group="writer")).llm.id == "openai/own"


def test_local_models_need_no_key():
    cat = make_catalog(entry("ollama/small", provider="ollama", quality_score=4), *WRITERS)
    assert picker(cat, env={}).decide(Request(group="writer")).llm.id == "ollama/small"


def test_capabilities_and_context_requirements():
    cat = make_catalog(
        entry("a/small", quality_score=9, context_length=8000, capabilities=["streaming"]),
        entry("a/big", quality_score=7, context_length=200000, capabilities=["vision", "streaming"]),
    )
    p = picker(cat)
    d = p.decide(Request(group="writer", capabilities=("vision",)), explain=True)
    assert d.llm.id == "a/big"
    assert dict((e.id, w and w.message) for e, w in d.candidates)["a/small"] == "missing capability vision"
    d = p.decide(Request(group="writer", min_context=32000), explain=True)
    assert d.llm.id == "a/big"
    assert "below the 32000 needed" in dict((e.id, w and w.message) for e, w in d.candidates)["a/small"]
    d = p.decide(Request(group="writer", prompt_tokens=50000), explain=True)
    assert (
        "too small for a prompt of 50000" in dict((e.id, w and w.message) for e, w in d.candidates)["a/small"]
    )


def test_tier_only_is_cheapest_by_input_price():
    d = picker(make_catalog(*WRITERS)).decide(Request(tier="economy"))
    assert (d.llm.id, d.rule, d.strategy) == ("openai/cheaper", "tier", "cheapest")
    assert [e.id for e in d.chain] == ["openai/cheaper", "openai/cheap"]


def test_job_tier_restricts_the_group():
    job = Job("tag", group="writer", tier="standard")
    d = picker(make_catalog(*WRITERS)).decide(Request(group=job.group, tier=job.tier, job=job))
    assert d.llm.id == "openai/good"


def test_seed_002_scope_default_then_priority():
    """The seed's table: Ollama default (80), GPT-4 (10), GPT-3.5 (20), Claude 3 Opus (42, disabled)."""
    entries = (
        entry("ollama/llama2", provider="ollama", priority=80),
        entry("openai/gpt-4", priority=10),
        entry("openai/gpt-3.5", priority=20),
        entry("anthropic/claude-3-opus", provider="anthropic", priority=42, enabled=False),
    )
    cat = make_catalog(*entries, config=Config(defaults={"global": "ollama/llama2"}))
    d = picker(cat).decide(Request(), explain=True)
    assert (d.llm.id, d.rule) == ("ollama/llama2", "scope_default")
    no_default = make_catalog(*entries)
    d = picker(no_default).decide(Request(max_attempts=5))
    assert d.rule == "priority"
    assert [e.id for e in d.chain] == ["openai/gpt-4", "openai/gpt-3.5", "ollama/llama2"]


def test_scope_default_that_cannot_be_used_falls_to_priority():
    cat = make_catalog(
        entry("openai/a", priority=5),
        entry("anthropic/b", provider="anthropic", priority=1),
        config=Config(defaults={"global": "anthropic/b", "ci": "openai/a"}),
    )
    d = picker(cat, env={"OPENAI_API_KEY": "x"}).decide(Request())
    assert (d.llm.id, d.rule) == ("openai/a", "priority")
    assert "ANTHROPIC_API_KEY is not set" in d.trace[-2].note
    assert picker(cat, env={"OPENAI_API_KEY": "x"}).decide(Request(scope="ci")).rule == "scope_default"


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("quality", "openai/best"),
        ("cheapest", "openai/cheaper"),
        ("fastest", "openai/cheap"),
        ("priority", "openai/good"),
    ],
)
def test_strategies(strategy, expected):
    entries = list(WRITERS)
    entries[2] = dict(entries[2], seconds_per_output_mtok=5)
    entries[1] = dict(entries[1], priority=1)
    d = picker(make_catalog(*entries)).decide(Request(group="writer", strategy=strategy))
    assert d.llm.id == expected


def test_fastest_prefers_observed_latency():
    entries = [entry("a/x", seconds_per_output_mtok=1), entry("a/y", seconds_per_output_mtok=100)]
    p = Picker(make_catalog(*entries), env=KEYS, latency={"a/y": 0.2}.get)
    assert p.decide(Request(group="writer", strategy="fastest")).llm.id == "a/y"


def test_chain_never_climbs_to_a_dearer_tier_unless_allowed():
    book = Book("moby", defaults={"writer": "openai/cheap"}, exists=True)
    p = picker(make_catalog(*WRITERS))
    d = p.decide(Request(group="writer", book=book))
    assert [e.id for e in d.chain] == ["openai/cheap", "openai/cheaper"]
    d = p.decide(Request(group="writer", book=book, allow_upgrade=True))
    assert [e.id for e in d.chain] == ["openai/cheap", "openai/best", "openai/good"]


def test_chain_is_capped_at_max_attempts():
    d = picker(make_catalog(*WRITERS)).decide(Request(group="writer", max_attempts=2))
    assert [e.id for e in d.chain] == ["openai/best", "openai/good"]


def test_unavailable_hook_skips_with_its_reason():
    p = picker(
        make_catalog(*WRITERS),
        unavailable=lambda e: Skip(COOLDOWN, "in cooldown for 40s") if e.id == "openai/best" else None,
    )
    d = p.decide(Request(group="writer"), explain=True)
    assert d.llm.id == "openai/good"
    assert dict((e.id, w and w.message) for e, w in d.candidates)["openai/best"] == "in cooldown for 40s"


def test_nothing_fits_names_the_group():
    with pytest.raises(NoMatchError) as info:
        picker(make_catalog(*WRITERS)).decide(Request(group="tagger"))
    assert info.value.message == "no enabled LLM is valid for group tagger"


def test_decision_json_shape():
    d = picker(make_catalog(*WRITERS)).decide(Request(group="writer"), explain=True)
    data = d.to_dict()
    assert {"llm", "rule", "group", "tier", "strategy", "chain", "candidates", "trace"} <= set(data)
    assert data["chain"][0] == data["llm"] == "openai/best"
    assert {"id": "anthropic/editor", "skipped": "not in group writer"} in data["candidates"]
    assert data["chain_detail"][0]["worst_case_cost"] > 0


def test_worst_case_cost():
    e = make_catalog(
        entry(
            "a/x",
            input_cost_per_mtok=1.0,
            output_cost_per_mtok=2.0,
            context_length=10000,
            max_output_tokens=1000,
        )
    ).get("a/x")
    assert worst_case_cost(e, 5000) == pytest.approx((5000 * 1 + 1000 * 2) / 1e6)
    assert worst_case_cost(e, None) == pytest.approx((9000 * 1 + 1000 * 2) / 1e6)


def test_ranked_pools_are_reused():
    p = picker(make_catalog(*WRITERS))
    assert p.pool("writer", None, "quality") is p.pool("writer", None, "quality")
