"""Pydantic models that validate what comes in from files and the command line.

Imported only when something must be validated (a catalog file changed, a write,
`catalog validate`, an import); the validated data is cached as plain JSON so that
read-only commands start without pydantic. See `llmctl.validated`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from llmctl.records import CAPABILITIES, GROUPS, TIERS

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Header and parameter names that carry credentials: a catalog file must never hold one.
SECRET_NAMES = {
    "authorization",
    "api-key",
    "x-api-key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "secret",
    "password",
    "proxy-authorization",
}
SAFE_ID = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
SECRET_KEYS = {"api_key", "key", "token", "secret", "password", "apikey", "access_token"}

Cost = Annotated[float, Field(ge=0, strict=True, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0, strict=True)]


def known_groups(info: ValidationInfo) -> tuple[str, ...]:
    extra = (info.context or {}).get("extra_groups", ())
    return GROUPS + tuple(extra)


class LLMSpec(BaseModel):
    """One catalog entry as written in a file. Only `id` is required: a user file may
    patch a bundled entry with a single field; completeness is checked after merging."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    id: Annotated[str, Field(min_length=1, max_length=200, pattern=SAFE_ID.pattern)]
    name: str | None = None
    description: str | None = None
    company: str | None = None
    provider: Annotated[str | None, Field(alias="router", min_length=1)] = None
    model: Annotated[str | None, Field(min_length=1)] = None
    valid_groups: list[str] | None = None
    tier: str | None = None
    quality_score: Annotated[float | None, Field(ge=0, le=10, strict=True)] = None
    input_cost_per_mtok: Cost | None = None
    output_cost_per_mtok: Cost | None = None
    seconds_per_output_mtok: Cost | None = None
    context_length: PositiveInt | None = None
    max_output_tokens: PositiveInt | None = None
    capabilities: list[str] | None = None
    enabled: Annotated[bool, Field(strict=True)] = True
    priority: Annotated[int, Field(strict=True)] = 100
    params: dict[str, Any] | None = None
    auth: dict[str, str] | None = None
    api_base: Annotated[str | None, Field(pattern=r"^https?://\S+$")] = None
    deprecated: Annotated[bool, Field(strict=True)] = False
    deprecation_date: str | None = None
    replacement: str | None = None
    aliases: list[Annotated[str, Field(min_length=1, pattern=SAFE_ID.pattern)]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_secrets_and_double_provider(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and key.lower() in SECRET_KEYS:
                    raise ValueError(
                        f"a literal secret ({key!r}) is not allowed in a catalog file: keys live in "
                        'env vars; write auth = {api_key_env = "PROVIDER_API_KEY"} instead'
                    )
            if "router" in data and "provider" in data:
                raise ValueError("give either 'provider' or its alias 'router', not both")
        return data

    @field_validator("valid_groups")
    @classmethod
    def _known_groups(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return None
        return _dedupe(_check_names("group", value, known_groups(info)))

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _dedupe(_check_names("capability", value, CAPABILITIES))

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        return None if value is None else _check_names("tier", [value], TIERS)[0]

    @field_validator("auth")
    @classmethod
    def _env_references_only(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        for key, ref in value.items():
            if not key.endswith("_env"):
                raise ValueError(
                    f"auth.{key}: only env-var references are allowed (keys ending in '_env', "
                    "e.g. api_key_env); keys live in env vars, never in a catalog file"
                )
            if not ENV_NAME.match(ref):
                raise ValueError(
                    f"auth.{key} must name an environment variable (like OPENAI_API_KEY), not hold a value"
                )
        return value

    @field_validator("deprecation_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValueError("must be a date written YYYY-MM-DD")

    @field_validator("params")
    @classmethod
    def _no_secret_params(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        where = _find_secret(value or {}, "params")
        if where:
            raise ValueError(f"{where}: credentials live in env vars, never in a catalog file")
        return value


def _find_secret(value: Any, where: str) -> str | None:
    """The path of a credential-like key or value (`Bearer ...`) nested anywhere in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in SECRET_NAMES | SECRET_KEYS:
                return f"{where}.{key}"
            found = _find_secret(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = _find_secret(item, f"{where}[{n}]")
            if found:
                return found
    elif isinstance(value, str) and value.lower().startswith(("bearer ", "basic ")):
        return where
    return None


def _check_names(kind: str, values: list[str], known: tuple[str, ...]) -> list[str]:
    from llmctl.errors import closest

    for value in values:
        if value not in known:
            near = closest(value, known)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ValueError(f"unknown {kind} {value!r}{hint} (valid: {', '.join(known)})")
    return values


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class TierThresholds(BaseModel):
    """Output price per million tokens that separates the derived tiers."""

    model_config = ConfigDict(extra="forbid")

    economy_max_output_cost: Cost = 2.5
    premium_min_output_cost: Cost = 10.0


class ProviderSpec(BaseModel):
    """A provider entry in config.toml: changes a built-in provider or declares a new one."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    base_url: Annotated[str | None, Field(pattern=r"^https?://\S+$")] = None
    api_key_env: Annotated[str | None, Field(pattern=ENV_NAME.pattern)] = None
    headers: dict[str, str] = {}
    api_version: str | None = None

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        where = _find_secret(value, "headers")
        if where:
            raise ValueError(f"{where}: credentials live in env vars (api_key_env), never in config.toml")
        return value

    requests_per_minute: PositiveInt | None = None
    tokens_per_minute: PositiveInt | None = None


class ConfigSpec(BaseModel):
    """config.toml."""

    model_config = ConfigDict(extra="forbid")

    extra_groups: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]] = []
    strategy: str = "quality"
    max_attempts: PositiveInt = 3
    allow_upgrade: Annotated[bool, Field(strict=True)] = False
    defaults: dict[str, str] = {}
    tiers: TierThresholds = TierThresholds()
    providers: dict[str, ProviderSpec] = {}

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        return _check_names("strategy", [value], ("quality", "cheapest", "fastest", "priority"))[0]

    @field_validator("extra_groups")
    @classmethod
    def _not_builtin(cls, value: list[str]) -> list[str]:
        for group in value:
            if group in GROUPS:
                raise ValueError(f"{group!r} is a built-in group already")
        return value


class BookSpec(BaseModel):
    """books/<book>.toml: an optional override and a default LLM per group."""

    model_config = ConfigDict(extra="forbid")

    override: Annotated[str | None, Field(min_length=1)] = None
    defaults: dict[str, Annotated[str, Field(min_length=1)]] = {}

    @field_validator("defaults")
    @classmethod
    def _known_groups(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        _check_names("group", list(value), known_groups(info))
        return value


class JobSpec(BaseModel):
    """One job type: the group it needs, optionally a tier, capabilities and a minimum context."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    group: Annotated[str | None, Field(alias="allowed_llm_group")] = None
    tier: str | None = None
    capabilities: list[str] | None = None
    min_context: PositiveInt | None = None
    description: str | None = None

    @field_validator("group")
    @classmethod
    def _known_group(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _check_names("group", [value], known_groups(info))[0]

    @field_validator("tier")
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        return None if value is None else _check_names("tier", [value], TIERS)[0]

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _dedupe(_check_names("capability", value, CAPABILITIES))


class JobsFileSpec(BaseModel):
    """jobs.toml: `[jobs.NAME]` tables."""

    model_config = ConfigDict(extra="forbid")

    jobs: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")], JobSpec] = {}
