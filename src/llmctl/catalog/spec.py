"""The pydantic model that validates catalog entries, derived from `LLM`'s fields.

Imported only when something must be validated (a catalog file changed, a write,
`catalog validate`, an import); the validated data is cached as plain JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from llmctl.catalog.entry import CAPABILITIES, DEPLOYMENT_ID, GROUPS, LLM, TIERS, Deployment
from llmctl.files.secrets import (
    ENV_NAME,
    SECRET_KEYS,
    find_key_shaped,
    find_secret,
    literal_command,
    url_secret,
)
from llmctl.files.validation import check_names, spec_of


def known_groups(info: ValidationInfo) -> tuple[str, ...]:
    """The built-in groups and the extra ones config.toml declares (validation context)."""
    extra = (info.context or {}).get("extra_groups", ())
    return GROUPS + tuple(extra)


class VocabularyChecks(BaseModel):
    """Tiers and capabilities must be known ones (entries and jobs)."""

    @field_validator("capabilities", check_fields=False)
    @classmethod
    def _known_capabilities(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_names("capability", value, CAPABILITIES)

    @field_validator("tier", check_fields=False)
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        return None if value is None else check_names("tier", [value], TIERS)[0]


class _EntryChecks(VocabularyChecks):
    """The checks of an entry that need code; the fields come from `LLM`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

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
            shaped = find_key_shaped(data)
            if shaped:
                raise ValueError(
                    f"{shaped} holds what looks like an API key: keys live in env vars, never in a "
                    'catalog file; write auth = {api_key_env = "PROVIDER_API_KEY"} instead'
                )
        return data

    @field_validator("valid_groups", check_fields=False)
    @classmethod
    def _known_groups(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return None if value is None else check_names("group", value, known_groups(info))

    @field_validator("auth", check_fields=False)
    @classmethod
    def _env_references_only(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, ref in (value or {}).items():
            if key == "api_key_cmd":
                if not isinstance(ref, str) or not ref.strip():
                    raise ValueError('auth.api_key_cmd must be a command line (e.g. "pass show openai")')
                literal = literal_command(ref)
                if literal:
                    raise ValueError(
                        f"{literal}: keys live in env vars or a password manager, never in a catalog file"
                    )
                continue
            if not key.endswith("_env"):
                raise ValueError(
                    f"auth.{key}: only env-var references (keys ending in '_env', e.g. api_key_env) "
                    "and api_key_cmd are allowed; keys live in env vars, never in a catalog file"
                )
            if ref != "" and not re.fullmatch(ENV_NAME, ref):  # "" says: no key
                raise ValueError(
                    f"auth.{key} must name an environment variable (like OPENAI_API_KEY), not hold a value"
                )
        return value

    @field_validator("deprecation_date", "updated", mode="before", check_fields=False)
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

    @field_validator("api_base", check_fields=False)
    @classmethod
    def _no_credentials_in_url(cls, value: str | None) -> str | None:
        why = url_secret(value)
        if why:
            raise ValueError(f"{why}: keys live in env vars (auth.api_key_env)")
        return value

    @field_validator("rate_limit", check_fields=False)
    @classmethod
    def _known_limits(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        for key in value or {}:
            check_names("rate limit", [key], ("requests_per_minute", "tokens_per_minute"))
        return value

    @field_validator("params", check_fields=False)
    @classmethod
    def _no_secret_params(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        where = find_secret(value or {}, "params")
        if where:
            raise ValueError(f"{where}: credentials live in env vars, never in a catalog file")
        return value


class _DeploymentChecks(_EntryChecks):
    """A deployment's checks: the entry's own (no literal key, env-var references only in
    `auth`, no credentials in `api_base`, known rate limits) apply to it as they stand."""

    @field_validator("id", check_fields=False)
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not re.fullmatch(DEPLOYMENT_ID, value):
            raise ValueError(
                f"deployment id {value!r}: use letters, digits, '.', '_' and '-' (like openai or azure-eu)"
            )
        return value


class _EntryWithDeploymentsChecks(_EntryChecks):
    """An entry's checks, and those that look across its deployments."""

    @field_validator("deployments", check_fields=False)
    @classmethod
    def _deployments_agree(cls, value: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        seen: set[str] = set()
        for n, deployment in enumerate(value or ()):
            if deployment.id in seen:
                raise ValueError(f"deployment #{n + 1}: duplicate deployment id {deployment.id!r}")
            seen.add(deployment.id)
        provider = info.data.get("provider")
        if value and provider and provider != value[0].provider:
            raise ValueError(
                f"the entry's provider {provider!r} is not its first deployment's "
                f"({value[0].provider!r}): with deployments, leave the entry's provider out"
            )
        return value

    @field_validator("max_input_tokens", check_fields=False)
    @classmethod
    def _input_fits_the_window(cls, value: int | None, info: ValidationInfo) -> int | None:
        window = info.data.get("context_length")
        if value is not None and window is not None and value > window:
            raise ValueError(f"max_input_tokens {value} is more than the context window ({window})")
        return value


# One catalog entry as written in a file: every field but `id` optional (a patch).
LLMSpec = spec_of(
    LLM,
    _EntryWithDeploymentsChecks,
    patch=True,
    name="LLMSpec",
    nested={Deployment: _DeploymentChecks},
)
