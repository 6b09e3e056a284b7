"""`catalog validate` and `catalog init --from-env`: checks and set-up over whole catalogs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.catalog import Catalog, base_catalog_path, merge, origin_of
from llmctl.config import Config, load_config
from llmctl.errors import FileError
from llmctl.paths import Home
from llmctl.provider_info import missing_key
from llmctl.validated import read_catalog_file


@dataclass
class Report:
    path: Path
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "entries": self.entries, "problems": self.problems}


def _problems(exc: FileError) -> list[str]:
    return [exc.message.split(" (and ")[0] if exc.more else exc.message, *exc.more]


def validate_files(home: Home, catalog_arg: Any, files: list[Path], *, overlay: bool = False) -> list[Report]:
    """Validate catalog files afresh (never from the cache); return one report per file.

    With no files: the config, the base catalog and the user catalog in use. A file
    is checked as a complete catalog, or with `overlay` as a patch of the base.
    """
    try:
        config = load_config(home)
    except FileError as exc:
        return [Report(exc.path, problems=_problems(exc))]
    base_path = base_catalog_path(catalog_arg)
    if not files:
        reports = [_check(base_path, config, None)]
        user = home.user_catalog()
        if user is not None and reports[0].ok:
            reports.append(_check(user, config, base_path))
        return reports
    return [_check(path, config, base_path if overlay else None) for path in files]


def _check(path: Path, config: Config, base_path: Path | None) -> Report:
    report = Report(path)
    try:
        checked = read_catalog_file(path, extra_groups=config.extra_groups)
        report.entries = len(checked.entries)
        if base_path is None:
            if not checked.entries:
                raise FileError(path, "the catalog holds no entries")
            merge(checked, None, config, origin_of(path))
        else:
            base = read_catalog_file(base_path, extra_groups=config.extra_groups)
            merge(base, checked, config, origin_of(base_path))
    except FileError as exc:
        report.problems = _problems(exc)
    return report


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
_PROVIDER_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "ollama": "OLLAMA_BASE_URL",
}


def tier_plan(catalog: Catalog) -> list[tuple[str, str, str, str]]:
    """Return (provider, tier, llm id, note) for each provider whose env var is set.

    A model its provider has retired, or that this catalog serves through a provider
    whose key is not set (seed 000's Claude 3 Haiku goes through OpenRouter), gives way
    to its catalog replacement. A row whose note starts with "skipped" is not usable.
    """
    plan = []
    for provider, rows in TIER_MAP.items():
        if not os.environ.get(_PROVIDER_ENV[provider]):
            continue
        for tier, llm_id in rows:
            if llm_id in catalog.entries:
                plan.append((provider, tier, *_usable_successor(catalog, llm_id)))
    return plan


def _usable_successor(catalog: Catalog, llm_id: str) -> tuple[str, str]:
    """The model to use for a tier-map row, and why it is not the one named (or "")."""
    chosen, note, seen = llm_id, "", {llm_id}
    while True:
        entry = catalog.entries[chosen]
        missing = missing_key(entry.provider, entry.api_key_env)
        if entry.retired(catalog.today):
            why = f"{chosen} retired {entry.deprecation_date}"
        elif missing:
            why = f"{chosen} is served through {entry.provider} here, which needs {missing}"
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
    from llmctl.edits import Overlay, change_catalog

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
            # A replacement keeps its own tier: a premium successor must not be relabelled economy.
            patch = {"tier": tier} if not note and (current.tier != tier or current.tier_derived) else {}
            if not current.enabled:
                patch["enabled"] = True
            if patch:
                overlay.patch(llm_id).update(patch)
        return [llm_id for *_, llm_id, _note in plan]

    return plan, change_catalog(home, catalog_arg, "catalog init", mutate)
