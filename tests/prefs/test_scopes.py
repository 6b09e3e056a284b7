"""Scope defaults: one default LLM per scope, kept in config.toml."""

from __future__ import annotations

import pytest

from llmctl.catalog.load import load_catalog
from llmctl.errors import UsageError
from llmctl.prefs.scopes import check_scope, get_default, set_default


def test_defaults_one_per_scope(h):
    catalog = load_catalog(h)
    assert get_default(catalog) is None
    change = set_default(h, catalog, "gpt4o")
    assert (change.before, change.after) == (None, "openai/gpt-4o")
    change = set_default(h, load_catalog(h), "haiku3")
    assert (change.before, change.after) == ("openai/gpt-4o", "anthropic/claude-3-haiku")
    assert get_default(load_catalog(h)) == "anthropic/claude-3-haiku"
    for bad in ("", "../x", "a b"):
        with pytest.raises(UsageError):
            check_scope(bad)
