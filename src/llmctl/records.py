"""Plain runtime records and the fixed vocabularies (groups, tiers, capabilities).

These are what the rest of the program works with. They are built from data that
`llmctl.models` (pydantic) has already validated, so commands that only read the
catalog never import pydantic: see `llmctl.validated`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GROUPS = ("writer", "editor", "explicit", "tagger", "thinker", "reviewer", "override")
# Ordered from cheapest to dearest: a fallback chain never climbs this order unasked.
TIERS = ("local", "economy", "standard", "premium")
CAPABILITIES = ("vision", "tools", "json", "streaming", "embeddings", "reasoning")

# The catalog fields in display order; `id` first. Used for JSON output and export.
ENTRY_FIELDS = (
    "id",
    "name",
    "description",
    "company",
    "provider",
    "model",
    "valid_groups",
    "tier",
    "quality_score",
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "seconds_per_output_mtok",
    "context_length",
    "max_output_tokens",
    "capabilities",
    "enabled",
    "priority",
    "params",
    "auth",
    "api_base",
    "deprecated",
    "deprecation_date",
    "replacement",
    "aliases",
)

DEFAULT_PRIORITY = 100
_INF = float("inf")


def default_model(llm_id: str, provider: str) -> str:
    """Provider-side model name when none is given: the id for OpenRouter, else the id after its first '/'."""
    if provider == "openrouter" or "/" not in llm_id:
        return llm_id
    return llm_id.split("/", 1)[1]


@dataclass(slots=True)
class LLM:
    """One catalog entry, merged from every catalog file that mentions it."""

    id: str
    provider: str
    model: str
    name: str | None = None
    description: str | None = None
    company: str | None = None
    valid_groups: list[str] = field(default_factory=list)
    tier: str = "standard"
    tier_derived: bool = False
    quality_score: float | None = None
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    seconds_per_output_mtok: float | None = None
    context_length: int | None = None
    max_output_tokens: int | None = None
    capabilities: list[str] = field(default_factory=list)
    enabled: bool = True
    priority: int = DEFAULT_PRIORITY
    params: dict[str, Any] = field(default_factory=dict)
    auth: dict[str, str] = field(default_factory=dict)
    api_base: str | None = None
    deprecated: bool = False
    deprecation_date: str | None = None
    replacement: str | None = None
    aliases: list[str] = field(default_factory=list)
    # Provenance: which catalog file defined the entry, and which fields a user file patched.
    origin: str = "bundled"
    patched: tuple[str, ...] = ()

    @property
    def api_key_env(self) -> str | None:
        return self.auth.get("api_key_env")

    def retired(self, today: str) -> bool:
        """True when deprecated with a date that has passed (ISO dates compare as strings)."""
        return self.deprecated and self.deprecation_date is not None and self.deprecation_date <= today

    def invoke(self, prompt: str, **params: Any) -> Any:
        """Send `prompt` to this LLM (seed 002: `get_llm().invoke(text).content`)."""
        from llmctl.client import LLMClient

        return LLMClient(self).invoke(prompt, **params)

    def to_dict(self, *, provenance: bool = False) -> dict[str, Any]:
        """Return the entry as catalog fields (the `list --json` shape); lists are shared, not copied."""
        data = {name: getattr(self, name) for name in ENTRY_FIELDS}
        data["tier_derived"] = self.tier_derived
        if provenance:
            data["origin"] = self.origin
            data["patched"] = list(self.patched)
        return data

    def to_catalog_dict(self) -> dict[str, Any]:
        """Return the entry as it would be written to a catalog file: no empty or derived values."""
        data = {}
        for name in ENTRY_FIELDS:
            value = getattr(self, name)
            if value is None or value == [] or value == {}:
                continue
            if name == "tier" and self.tier_derived:
                continue
            if name == "model" and value == default_model(self.id, self.provider):
                continue
            data[name] = _copy(value)
        return data


def blended_cost(entry: LLM) -> float:
    """Input plus output price per million tokens; unknown prices sort last (infinity)."""
    if entry.input_cost_per_mtok is None and entry.output_cost_per_mtok is None:
        return _INF
    return (entry.input_cost_per_mtok or 0.0) + (entry.output_cost_per_mtok or 0.0)


def or_inf(value: float | None) -> float:
    """A missing figure sorts after every known one."""
    return _INF if value is None else value


def quality_key(entry: LLM) -> tuple:
    """Highest quality first (unscored last), then lower cost, then id."""
    score = entry.quality_score if entry.quality_score is not None else -1.0
    return (-score, blended_cost(entry), entry.id)


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
