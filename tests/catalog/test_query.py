"""Filtering, sorting and name checks of catalog queries."""

from __future__ import annotations

import pytest

from llmctl.catalog.load import load_catalog
from llmctl.catalog.query import Query, check_query, run_query
from llmctl.errors import UnknownNameError, UsageError


def test_query_filters_and_sorts(h):
    catalog = load_catalog(h)
    found, _hidden = run_query(catalog, Query(group="tagger", tier="economy", sort="cost"))
    assert found and all("tagger" in e.valid_groups and e.tier == "economy" for e in found)
    costs = [e.input_cost_per_mtok + e.output_cost_per_mtok for e in found]
    assert costs == sorted(costs)
    assert {e.id for e in run_query(catalog, Query(search="HAIKU", include_all=True))[0]} >= {
        "anthropic/claude-3-haiku"
    }


@pytest.mark.parametrize(
    "query",
    [
        Query(group="writr"),
        Query(tier="cheap"),
        Query(sort="qualty"),
        Query(capabilities=["visoin"]),
        Query(provider="opnai"),
        Query(min_context=-1),
    ],
)
def test_query_refuses_bad_names(h, query):
    with pytest.raises(UsageError):
        check_query(query, load_catalog(h))


def test_unknown_names_suggest(h):
    with pytest.raises(UnknownNameError) as info:
        load_catalog(h).get("opus4")
    assert info.value.suggestions
