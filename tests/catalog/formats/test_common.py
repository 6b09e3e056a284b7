"""The rules every import shares: prices, limits, dates, providers, the model name, and
the count of what happened to every row."""

from __future__ import annotations

from llmctl.catalog.formats.common import (
    Imported,
    deprecate,
    keep_valid,
    known_providers,
    number,
    per_million,
    set_limit,
    set_model,
    set_prices,
    unsendable,
)


def test_prices_are_per_million_tokens_and_never_negative_or_boolean():
    assert per_million("0.000003") == 3.0 and per_million(1.5e-7) == 0.15
    assert per_million(-1) is None and per_million(True) is None and per_million("free") is None
    assert number("2") == 2.0 and number(None) is None
    entry: dict = {}
    set_prices(
        entry,
        {"in": "0.000001", "out": None},
        (("input_cost_per_mtok", "in"), ("output", "out")),
        per_million,
    )
    assert entry == {"input_cost_per_mtok": 1.0}  # a price the source does not give stays unset


def test_a_whole_number_float_limit_is_an_integer_and_counted():
    out, entry = Imported("x", []), {}
    assert set_limit(entry, "context_length", 200000.0, out) and entry == {"context_length": 200000}
    assert out.fixed == {"whole-number float limit read as an integer": 1}
    for bad in (0, -5, 1.5, True, "128k", None):
        assert not set_limit(entry, "max_output_tokens", bad, out)
    assert "max_output_tokens" not in entry


def test_an_expiry_after_2090_is_a_placeholder_and_an_odd_date_is_left_for_validation():
    out = Imported("x", [])
    entry: dict = {}
    deprecate(entry, "2098-12-31", out)
    assert entry == {} and out.fixed == {"placeholder expiry (after 2090) ignored": 1}
    deprecate(entry, "2026-06-30T00:00:00Z", out)
    assert entry == {"deprecated": True, "deprecation_date": "2026-06-30"}
    odd: dict = {}
    deprecate(odd, "soon", out)
    assert odd == {"deprecation_date": "soon", "deprecated": True}


def test_the_model_name_is_written_only_where_the_id_does_not_imply_it():
    implied = {"id": "openai/gpt-4o", "provider": "openai"}
    set_model(implied, "gpt-4o")
    assert "model" not in implied
    other = {"id": "groq/llama", "provider": "groq"}
    set_model(other, "llama-3.3-70b-versatile")
    assert other["model"] == "llama-3.3-70b-versatile"
    no_provider = {"id": "x/y"}
    set_model(no_provider, "y")
    assert no_provider["model"] == "y"


def test_an_unsendable_provider_is_imported_disabled_saying_why_and_counted():
    out = Imported("x", [])
    entry = {"id": "acme/m", "description": "A model."}
    unsendable(entry, "acme", "LiteLLM", out)
    assert entry["enabled"] is False
    assert entry["description"].startswith("llmctl cannot send to provider 'acme' (from LiteLLM); declare")
    assert entry["description"].endswith(". A model.")
    assert out.fixed == {"imported disabled: a provider llmctl cannot send to": 1}


def test_unknown_providers_and_invalid_entries_are_dropped_and_counted():
    imported = Imported(
        "x",
        [
            {"id": "openai/a", "provider": "openai", "input_cost_per_mtok": 1, "output_cost_per_mtok": 2},
            {"id": "acme/b", "provider": "acme"},
            {"id": "openai/c", "provider": "openai", "input_cost_per_mtok": -1, "output_cost_per_mtok": 2},
        ],
    )
    known_providers(imported, ["openai"])
    keep_valid(imported)
    assert [e["id"] for e in imported.entries] == ["openai/a"]
    assert imported.skipped == {"unknown provider": 1, "invalid input_cost_per_mtok": 1}


def test_a_repeated_id_is_skipped_and_counted():
    out = Imported("x", [])
    assert out.first("a/b") and not out.first("a/b")
    assert out.skipped == {"duplicate id": 1}
