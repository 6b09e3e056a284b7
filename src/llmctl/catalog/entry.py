"""A catalog entry (`LLM`), its deployments, and the fixed vocabularies (groups, tiers,
capabilities).

`LLM` is the one definition of an entry's fields: name, type, default and constraint.
The pydantic model that validates catalog files is derived from it
(`llmctl.catalog.spec`); the program works with these plain records, built from
validated (and cached) data, so reading the catalog builds no pydantic model.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, replace
from typing import Annotated, Any

from llmctl.files.validation import Check, file_fields

GROUPS = ("writer", "editor", "explicit", "tagger", "thinker", "reviewer", "override")
# Ordered from cheapest to dearest: a fallback chain never climbs this order unasked.
TIERS = ("local", "economy", "standard", "premium")
CAPABILITIES = ("vision", "tools", "json", "streaming", "embeddings", "reasoning")
# How candidates are ordered after any pinned choice.
STRATEGIES = ("quality", "cheapest", "fastest", "priority")
# Budget periods: UTC calendar periods (weeks start on Monday), or no period at all.
PERIODS = ("day", "week", "month", "total")

DEFAULT_PRIORITY = 100
_INF = float("inf")
SAFE_ID = r"^[^\s\x00-\x1f\x7f]+$"  # no white space or control characters
URL = r"^https?://\S+$"
# A deployment's id stands in keys like `deployment:openai/gpt-5@azure-eu`: no '@' or '/'.
DEPLOYMENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

Id = Annotated[str, Check(min_length=1, max_length=200, pattern=SAFE_ID)]
Text = Annotated[str, Check(min_length=1)]
Cost = Annotated[float, Check(ge=0, strict=True, allow_inf_nan=False)]
INT64_MAX = 2**63 - 1  # TOML's integers are 64-bit
PositiveInt = Annotated[int, Check(gt=0, le=INT64_MAX, strict=True)]
StrictBool = Annotated[bool, Check(strict=True)]
# Not read from files: derived when the catalog is merged.
DERIVED = {"file": False}


# The prices a deployment may set for itself (else the entry's apply).
PRICE_FIELDS = (
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "cache_read_cost_per_mtok",
    "cache_write_cost_per_mtok",
    "input_cost_per_mtok_above_200k",
    "output_cost_per_mtok_above_200k",
)


def default_model(llm_id: str, provider: str) -> str:
    """Provider-side model name when none is given: the id for OpenRouter, else the id after its first '/'."""
    if provider == "openrouter" or "/" not in llm_id:
        return llm_id
    return llm_id.split("/", 1)[1]


@dataclass(slots=True)
class Deployment:
    """One way to reach an entry's model: a provider with its base URL and key, a share of
    the traffic (`weight`, 0 = standby), a failover group (`order`, lowest first), and the
    prices it charges when they differ from the entry's.

    In a file `model` may be left out (the entry's default rule applies, see
    `default_model`); once loaded it always holds the provider-side name."""

    id: Annotated[str, Check(min_length=1, max_length=64)]  # DEPLOYMENT_ID, checked in catalog.spec
    provider: Annotated[str, Check(min_length=1)]
    model: Text | None = None
    api_base: Annotated[str, Check(pattern=URL)] | None = None
    auth: dict[str, str] = field(default_factory=dict)
    weight: Annotated[float, Check(ge=0, strict=True, allow_inf_nan=False)] = 1.0
    order: Annotated[int, Check(strict=True, ge=1, le=INT64_MAX)] = 1
    enabled: StrictBool = True
    rate_limit: dict[str, PositiveInt] = field(default_factory=dict)
    input_cost_per_mtok: Cost | None = None
    output_cost_per_mtok: Cost | None = None
    cache_read_cost_per_mtok: Cost | None = None
    cache_write_cost_per_mtok: Cost | None = None
    input_cost_per_mtok_above_200k: Cost | None = None
    output_cost_per_mtok_above_200k: Cost | None = None

    @property
    def api_key_env(self) -> str | None:
        return self.auth.get("api_key_env")

    def to_dict(self) -> dict[str, Any]:
        """Return every field (the `list --json` shape); dicts are shared, not copied."""
        return {name: getattr(self, name) for name in DEPLOYMENT_FIELDS}

    def to_catalog_dict(self, llm_id: str) -> dict[str, Any]:
        """Return the deployment as written to a catalog file: no empty or default values,
        no `model` where the default rule gives it."""
        data = {}
        for name in DEPLOYMENT_FIELDS:
            value = getattr(self, name)
            if value is None or value == {} or value == _DEPLOYMENT_DEFAULTS.get(name):
                continue
            if name == "model" and value == default_model(llm_id, self.provider):
                continue
            data[name] = _copy(value)
        return data


@dataclass(slots=True)
class LLM:
    """One catalog entry, merged from every catalog file that mentions it.

    In a file only `id` is required (a user file may patch a bundled entry with a single
    field); `provider` is required once merged, and `model` and `tier` are derived when
    a file leaves them out."""

    id: Id
    provider: Annotated[str, Check(alias="router", min_length=1)]
    model: Text
    name: Text | None = None
    description: Text | None = None
    company: Text | None = None
    valid_groups: list[str] = field(default_factory=list)
    tier: str = "standard"
    tier_derived: bool = field(default=False, metadata=DERIVED)
    quality_score: Annotated[float, Check(ge=0, le=10, strict=True, allow_inf_nan=False)] | None = None
    input_cost_per_mtok: Cost | None = None
    output_cost_per_mtok: Cost | None = None
    # Input read from (or written to) the provider's prompt cache, per million tokens.
    cache_read_cost_per_mtok: Cost | None = None
    cache_write_cost_per_mtok: Cost | None = None
    # Prices of a request whose prompt is over 200,000 tokens (the whole request).
    input_cost_per_mtok_above_200k: Cost | None = None
    output_cost_per_mtok_above_200k: Cost | None = None
    seconds_per_output_mtok: Cost | None = None
    context_length: PositiveInt | None = None
    # The prompt's own limit where it is below the window (GPT-5: 272k of 400k); unset, the
    # prompt and the answer share `context_length`.
    max_input_tokens: PositiveInt | None = None
    max_output_tokens: PositiveInt | None = None
    capabilities: list[str] = field(default_factory=list)
    enabled: StrictBool = True
    priority: Annotated[int, Check(strict=True, ge=-INT64_MAX, le=INT64_MAX)] = DEFAULT_PRIORITY
    params: dict[str, Any] = field(default_factory=dict)
    auth: dict[str, str] = field(default_factory=dict)
    api_base: Annotated[str, Check(pattern=URL)] | None = None
    deprecated: StrictBool = False
    deprecation_date: str | None = None
    replacement: str | None = None
    aliases: list[Id] = field(default_factory=list)
    # {requests_per_minute = N, tokens_per_minute = M}: this LLM's own window
    rate_limit: dict[str, PositiveInt] = field(default_factory=dict)
    # The ways to reach the model; none written means one, made from the entry (`routes()`).
    deployments: list[Deployment] = field(default_factory=list)
    # Freshness: when the entry's figures were last checked (YYYY-MM-DD), and where from.
    updated: str | None = None
    source: Text | None = None
    # Provenance: which catalog file defined the entry, and which fields a user file patched.
    origin: str = field(default="bundled", metadata=DERIVED)
    patched: tuple[str, ...] = field(default=(), metadata=DERIVED)

    @property
    def api_key_env(self) -> str | None:
        return self.auth.get("api_key_env")

    def routes(self) -> list[Deployment]:
        """Return the deployments: the ones written, else the implicit one made from the
        entry's own provider, model, api_base, auth and rate_limit (id = its provider).
        Built on each call, not at load: most entries are never sent to."""
        if self.deployments:
            return self.deployments
        return [
            Deployment(
                self.provider, self.provider, self.model, self.api_base, self.auth, rate_limit=self.rate_limit
            )
        ]

    def via(self, deployment: Deployment) -> LLM:
        """Return the entry as reached through `deployment`: its provider, model, base URL,
        key, rate limit and own prices (the entry's where it sets none); the id stays."""
        if not self.deployments and deployment.id == self.provider:
            return self  # the implicit deployment is the entry itself
        prices = {n: v for n in PRICE_FIELDS if (v := getattr(deployment, n)) is not None}
        return replace(
            self,
            provider=deployment.provider,
            model=deployment.model or default_model(self.id, deployment.provider),
            api_base=deployment.api_base,
            auth=deployment.auth,
            rate_limit=deployment.rate_limit,
            deployments=[deployment],
            **prices,
        )

    def retired(self, today: str) -> bool:
        """True when deprecated with a date that has passed (ISO dates compare as strings)."""
        return self.deprecated and self.deprecation_date is not None and self.deprecation_date <= today

    def to_dict(self, *, provenance: bool = False) -> dict[str, Any]:
        """Return the entry as catalog fields (the `list --json` shape); lists are shared, not copied."""
        data = {name: getattr(self, name) for name in ENTRY_FIELDS}
        data["tier_derived"] = self.tier_derived
        data["deployments"] = [d.to_dict() for d in self.routes()]
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
            if name == "model" and value == self._derived_model():
                continue
            if name == "deployments":
                value = [d.to_catalog_dict(self.id) for d in value]
            data[name] = _copy(value)
        return data

    def _derived_model(self) -> str:
        """The model a file that names none gets: the first deployment's, else by the default rule."""
        if self.deployments:
            return self.deployments[0].model or default_model(self.id, self.deployments[0].provider)
        return default_model(self.id, self.provider)


# The catalog fields in display order (`list --json`, export): id and the display names first.
_FIRST = ("id", "name", "description", "company")
ENTRY_FIELDS = _FIRST + tuple(f.name for f in file_fields(LLM) if f.name not in _FIRST)
DEPLOYMENT_FIELDS = tuple(f.name for f in file_fields(Deployment))
# What a catalog file need not write: weight 1, order 1, enabled.
_DEPLOYMENT_DEFAULTS = {
    f.name: f.default for f in file_fields(Deployment) if f.default not in (MISSING, None)
}


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


def tier_rank(tier: str) -> int:
    """Position in the no-climbing order: local < economy < standard < premium."""
    return TIERS.index(tier)


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
