"""The one `decide`: what a caller gives, checked and turned into a request, then the
picker's decision. The hooks say what only the engine knows (cooldown, observed latency);
the engine's `Sender.decide` supplies them, so every caller gets the same answer."""

from __future__ import annotations

from collections.abc import Mapping

from llmctl.catalog.load import Catalog
from llmctl.paths import Home
from llmctl.selection.decision import Decision
from llmctl.selection.picker import Latency, Picker, Unavailable
from llmctl.selection.request import Selection, build_request


def decide(
    catalog: Catalog,
    home: Home,
    selection: Selection,
    *,
    explain: bool = False,
    env: Mapping[str, str] | None = None,
    unavailable: Unavailable | None = None,
    latency: Latency | None = None,
) -> tuple[Decision, list[str]]:
    """Return the picker's Decision for `selection` and the warnings raised on the way.

    Raises UnknownNameError/UsageError (exit 2) for bad names, FileError (exit 3) for
    broken files, NoMatchError (exit 4, or 1 when every fitting LLM is cooling down).
    """
    request, warnings = build_request(catalog, home, selection)
    picker = Picker(catalog, env=env, unavailable=unavailable, latency=latency)
    decision = picker.decide(request, explain=explain)
    return decision, warnings + decision.warnings


def wants_latency(selection: Selection, catalog: Catalog) -> bool:
    """True when the strategy is `fastest`, which ranks by observed latency."""
    return (selection.strategy or catalog.config.strategy) == "fastest"
