"""What the picker asks of the engine's state: is an LLM cooling down, and how fast has it
answered (for `fastest`). Wired here once, for the Python API's `decide` and the sender."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmctl.catalog.load import Catalog
from llmctl.engine.cooldown import Cooldown
from llmctl.paths import Home
from llmctl.selection.decide import wants_latency
from llmctl.selection.request import Selection

if TYPE_CHECKING:
    from llmctl.engine.usage import UsageStore


def picker_hooks(
    home: Home,
    catalog: Catalog,
    selection: Selection,
    *,
    cooldown: Cooldown | None = None,
    store: UsageStore | None = None,
) -> dict[str, Any]:
    """The `unavailable` (cooldown state, read once) and `latency` (observed, only for the
    `fastest` strategy) hooks of `selection.decide.decide`."""
    cooldown = cooldown or Cooldown.for_home(home, catalog.config.providers)
    latency = None
    if wants_latency(selection, catalog):
        if store is None:
            from llmctl.engine.usage import UsageStore

            store = UsageStore.for_home(home)
        latency = store.latencies().get
    return {"unavailable": cooldown.hook(), "latency": latency}
