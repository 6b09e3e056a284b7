"""Scope defaults (seed 002): one default LLM per scope, kept in config.toml."""

from __future__ import annotations

import re

from llmctl.catalog.load import Catalog
from llmctl.errors import UsageError
from llmctl.files.io import locked
from llmctl.paths import Home
from llmctl.prefs import audit
from llmctl.prefs.config import DEFAULT_SCOPE, update_config

_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # matched whole: no empty scope, no newline


def check_scope(scope: str) -> str:
    if not _SCOPE.fullmatch(scope):
        raise UsageError(f"invalid scope {scope!r}: use letters, digits, '_', '-' or '.' (at most 64)")
    return scope


def get_default(catalog: Catalog, scope: str = DEFAULT_SCOPE) -> str | None:
    """Return the default LLM id of `scope`, or None."""
    return catalog.config.defaults.get(check_scope(scope))


def set_default(home: Home, catalog: Catalog, llm: str | None, scope: str = DEFAULT_SCOPE) -> audit.Change:
    """Make `llm` the scope's default (replacing any other), or clear it when `llm` is None.

    Raises UnknownNameError for an unknown LLM and UsageError for a disabled one.
    """
    check_scope(scope)
    llm_id = None
    if llm is not None:
        entry = catalog.get(llm)
        if not entry.enabled:
            raise UsageError(f"{entry.id} is disabled", hint=f"`llmctl enable {entry.id}` first")
        llm_id = entry.id

    def change(raw: dict) -> tuple[str | None, str | None]:
        table = raw.setdefault("defaults", {})
        before = table.get(scope)
        if llm_id is None:
            table.pop(scope, None)
        else:
            table[scope] = llm_id
        if not table:
            raw.pop("defaults")
        return before, llm_id

    with locked(home.lock_file):
        command = "default clear" if llm_id is None else "default set"
        before, after = update_config(home, change, command, f"default:{scope}")
    return audit.Change(f"default:{scope}", before, after)
