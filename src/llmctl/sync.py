"""`catalog sync PROVIDER`: read the provider's model list and bring the catalog up to date
(seed 004's capability detection): new models are added disabled and without groups,
prices and context are refreshed where the list gives them, models that vanished are
flagged deprecated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmctl.catalog import Catalog
from llmctl.edits import Overlay, same
from llmctl.errors import LlmctlError
from llmctl.importers import REFRESHED, from_openrouter, keep_valid
from llmctl.provider_checks import list_models
from llmctl.records import default_model

if TYPE_CHECKING:
    import httpx


def fetch_models(
    provider: str,
    providers: Mapping[str, Mapping[str, Any]],
    client: httpx.Client,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The provider's model list as catalog entries (patch dicts). Raises ProviderError."""
    from pathlib import Path

    env = os.environ if env is None else env
    models = list_models(provider, providers, client, timeout, env)
    if not models:
        raise LlmctlError(
            f"{provider} listed no models: nothing changed",
            hint="check the base URL with `llmctl providers check`",
        )
    if provider == "openrouter":
        entries = keep_valid(from_openrouter(Path(f"{provider} model list"), {"data": models})).entries
        if not entries:
            raise LlmctlError(
                f"none of the {len(models)} models {provider} listed could be read: nothing changed"
            )
        return entries
    entries = []
    for model in models:
        llm_id = f"{provider}/{model['id']}"
        item: dict[str, Any] = {"id": llm_id, "provider": provider}
        if default_model(llm_id, provider) != model["id"]:
            item["model"] = model["id"]
        if model.get("name"):
            item["name"] = model["name"]
        if isinstance(model.get("context_length"), int):
            item["context_length"] = model["context_length"]
        entries.append(item)
    return entries


def plan_sync(catalog: Catalog, provider: str, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a sync would change: [{"id", "action": add|update|deprecate, "changes": {...}}]."""

    def model_of(item: dict[str, Any]) -> str:
        return item.get("model") or default_model(item["id"], provider)

    by_model = {model_of(e): e for e in listed}
    # An entry of this provider whose provider-side model is listed is the same model, even
    # when its id is spelled otherwise (`anthropic/claude-sonnet-4.5` serves `claude-sonnet-4-5`).
    known = {e.model: e for e in catalog if e.provider == provider}
    plan = []
    for item in listed:
        current = catalog.entries.get(item["id"])
        if current is not None and current.provider != provider:
            continue  # the same id served by another provider: its prices are not ours to change
        current = current or known.get(model_of(item))
        if current is None:
            new = {**item, "enabled": False, "valid_groups": []}
            plan.append({"id": item["id"], "action": "add", "changes": new})
            continue
        changes = {f: item[f] for f in REFRESHED if f in item and not same(getattr(current, f), item[f])}
        if changes:
            plan.append({"id": current.id, "action": "update", "changes": changes})
    for entry in catalog:
        vanished = entry.model not in by_model and entry.id not in by_model
        if entry.provider == provider and vanished and not entry.deprecated:
            plan.append({"id": entry.id, "action": "deprecate", "changes": {"deprecated": True}})
    return plan


def apply_sync(plan: list[dict[str, Any]]):
    """An edits Mutation applying `plan` to the user catalog."""

    def mutate(overlay: Overlay) -> list[str]:
        for step in plan:
            if step["action"] == "add":
                overlay.entries[step["id"]] = dict(step["changes"])
            else:
                overlay.patch(step["id"]).update(step["changes"])
        return [step["id"] for step in plan]

    return mutate
