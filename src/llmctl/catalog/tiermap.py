"""`catalog init --from-env` and `DictRegistry.from_env()`: seed 001's tier mapping for the
providers whose keys are set."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmctl.catalog.edit import Overlay, change_catalog
from llmctl.catalog.entry import tier_rank
from llmctl.catalog.load import Catalog
from llmctl.paths import Home
from llmctl.providers import resolve

# Seed 001's default models per tier, for `catalog init --from-env`.
TIER_MAP: dict[str, list[tuple[str, str]]] = {
    "openai": [
        ("economy", "openai/gpt-3.5-turbo"),
        ("standard", "openai/gpt-4o-mini"),
        ("premium", "openai/gpt-4o"),
    ],
    "anthropic": [
        ("economy", "anthropic/claude-3-haiku"),
        ("standard", "anthropic/claude-3.5-sonnet"),
        ("premium", "anthropic/claude-3-opus"),
    ],
    "groq": [("economy", "meta-llama/llama-3.3-70b-versatile")],
    "ollama": [("local", "ollama/llama3.2:3b")],
}


def tier_plan(catalog: Catalog, env: Mapping[str, str] | None = None) -> list[tuple[str, str, str, str]]:
    """Return (provider, tier, llm id, note) for each provider set up in the environment
    (its key is set; for a local server, its base URL variable).

    A model its provider has retired, or that this catalog serves through a provider
    whose key is not set (seed 000's Claude 3 Haiku goes through OpenRouter), gives way
    to its catalog replacement, which then fills the row's tier: the seed's table names
    roles (Anthropic's economy model is its Haiku, whichever Haiku that is now). A row
    whose note starts with "skipped" is not usable. This is the one rule `catalog init
    --from-env` writes and `DictRegistry.from_env()` answers with.
    """
    plan = []
    for provider, rows in TIER_MAP.items():
        if not _set_up(provider, catalog, env):
            continue
        for tier, llm_id in rows:
            if llm_id in catalog.entries:
                chosen, note = _usable_successor(catalog, llm_id, env)
                if chosen != llm_id and not note.startswith("skipped"):
                    note = _too_dear(catalog, chosen, tier) or note
                plan.append((provider, tier, chosen, note))
    return plan


def _too_dear(catalog: Catalog, llm_id: str, tier: str) -> str:
    """Why a stand-in must not fill `tier` ("" when it may): a model two or more tiers
    above (a premium model labelled economy would spend ten times what was asked for)."""
    own = catalog.entries[llm_id].tier
    if tier_rank(own) - tier_rank(tier) < 2:
        return ""
    return f"skipped: {llm_id} stands in, but it is {own}, not {tier}"


def _set_up(provider: str, catalog: Catalog, env: Mapping[str, str] | None) -> bool:
    env = os.environ if env is None else env
    configured = catalog.config.providers
    if resolve.provider_settings(provider, configured).local:
        return bool(env.get(resolve.base_url_env(provider)))
    name = resolve.key_env(resolve.Bare(provider), configured)
    return bool(name and env.get(name))


def _usable_successor(catalog: Catalog, llm_id: str, env: Mapping[str, str] | None) -> tuple[str, str]:
    """The model to use for a tier-map row, and why it is not the one named (or "")."""
    chosen, note, seen = llm_id, "", {llm_id}
    while True:
        entry = catalog.entries[chosen]
        missing = resolve.why_unusable(entry, catalog.config.providers, env)
        name = resolve.missing_key(entry, catalog.config.providers, env)
        if entry.retired(catalog.today):
            why = f"{chosen} retired {entry.deprecation_date}"
        elif missing:
            needs = f"which needs {name}" if name else f"where {missing}"
            why = f"{chosen} is served through {entry.provider} here, {needs}"
        else:
            return chosen, note
        if not entry.replacement or entry.replacement in seen or entry.replacement not in catalog.entries:
            return chosen, f"skipped: {why}"
        note = f"instead of {llm_id}: {why}"
        chosen = entry.replacement
        seen.add(chosen)


def init_from_env(home: Home, catalog_arg: Any, catalog: Catalog):
    """Enable the tier mapping's models for the providers with keys, pinning each one's tier.

    Returns (plan, Result or None when the plan is empty).
    """
    plan = tier_plan(catalog)
    if not plan:
        return plan, None

    def mutate(overlay: Overlay) -> list[str]:
        for n, (provider, tier, llm_id, note) in enumerate(plan):
            current = overlay.catalog.entries[llm_id]
            if note.startswith("skipped"):
                continue
            if not current.enabled and "enabled" in current.patched:
                plan[n] = (provider, tier, llm_id, "disabled in your catalog: left as it is")
                continue
            patch: dict[str, Any] = {"tier": tier} if current.tier != tier or current.tier_derived else {}
            if not current.enabled:
                patch["enabled"] = True
            if patch:
                overlay.patch(llm_id).update(patch)
        return [llm_id for *_, llm_id, _note in plan]

    return plan, change_catalog(home, catalog_arg, "catalog init", mutate)
