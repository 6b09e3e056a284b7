"""What the picker asks of the engine's state: is an LLM cooling down, and how fast has it
answered (for `fastest`). Wired here once: `decide_now` is the decision every caller gets
(the Python API's `decide`, the sender, the seed's `get_llm_with_fallback`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmctl.catalog.load import Catalog
from llmctl.engine.cooldown import Cooldown
from llmctl.paths import Home
from llmctl.selection.decide import decide, wants_latency
from llmctl.selection.decision import Decision
from llmctl.selection.request import Selection

if TYPE_CHECKING:
    from llmctl.engine.usage import UsageStore


def decide_now(
    home: Home,
    catalog: Catalog,
    selection: Selection,
    *,
    explain: bool = False,
    env: Mapping[str, str] | None = None,
    cooldown: Cooldown | None = None,
    store: UsageStore | None = None,
) -> tuple[Decision, list[str]]:
    """The picker's Decision for `selection` now (LLMs in cooldown passed over, `fastest`
    ranked by observed latency) and the warnings raised on the way. `cooldown` and `store`
    are the caller's, when it has them open. Raises what `selection.decide.decide` raises."""
    hooks = picker_hooks(home, catalog, selection, cooldown=cooldown, store=store)
    return decide(catalog, home, selection, explain=explain, env=env, **hooks)


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
