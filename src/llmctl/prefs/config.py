"""config.toml: scope defaults, extra groups, tier thresholds, router settings, providers.

`Config` is the one definition of the file's fields (names, types, defaults, checks);
the pydantic model that validates the file is derived from it (`llmctl.prefs.specs`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from llmctl.catalog.entry import GROUPS, Cost, PositiveInt, StrictBool
from llmctl.errors import FileError
from llmctl.files.cache import cached
from llmctl.files.io import atomic_write, line_in_table, line_of_key, load, no_directory
from llmctl.files.toml_edit import dump_update
from llmctl.files.validation import Check, describe_error, spec_of
from llmctl.paths import Home
from llmctl.providers.table import Provider

if TYPE_CHECKING:
    from pydantic import BaseModel

DEFAULT_SCOPE = "global"
GroupName = Annotated[str, Check(pattern=r"^[a-z][a-z0-9_-]*$")]


@dataclass(slots=True)
class TierThresholds:
    """Output price per million tokens that separates the derived tiers."""

    economy_max_output_cost: Cost = 2.5
    premium_min_output_cost: Cost = 10.0


@dataclass(slots=True)
class Budget:
    """A spending limit in USD over a UTC calendar period (weeks start on Monday)."""

    limit: Cost
    period: str = "month"


@dataclass
class Config:
    """The content of config.toml (the defaults when the file is absent)."""

    extra_groups: tuple[GroupName, ...] = ()
    strategy: str = "quality"
    max_attempts: PositiveInt = 3
    # The largest answer read (bytes); a larger one is an error for that attempt.
    max_response_bytes: PositiveInt = 32 * 1024 * 1024
    # Seconds a request waits for a rate-limit slot before its LLM is skipped.
    rate_limit_wait: Cost = 10.0
    # The response cache: off unless asked for (here, on a job, or with --cache).
    cache: StrictBool = False
    cache_ttl: Annotated[str, Check(pattern=r"^\d+[smhd]$")] = "7d"
    allow_upgrade: StrictBool = False
    # Providers whose LLMs come first among equals of the strategy, in this order.
    prefer_providers: list[str] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    tiers: TierThresholds = field(default_factory=TierThresholds)
    providers: dict[str, Provider] = field(default_factory=dict)
    # By target: "overall", "book:NAME" or "scope:NAME".
    budgets: dict[str, Budget] = field(default_factory=dict)
    path: Path | None = field(default=None, metadata={"file": False})

    @property
    def groups(self) -> tuple[str, ...]:
        return GROUPS + self.extra_groups

    @classmethod
    def from_data(cls, data: dict[str, Any], path: Path | None) -> Config:
        """Build from validated data (as cached); fields it leaves out keep their defaults."""
        values = dict(data)
        if "extra_groups" in values:
            values["extra_groups"] = tuple(values["extra_groups"])
        if "tiers" in values:
            values["tiers"] = TierThresholds(**values["tiers"])
        if "providers" in values:
            values["providers"] = {name: Provider(**p) for name, p in values["providers"].items()}
        if "budgets" in values:
            values["budgets"] = {target: Budget(**b) for target, b in values["budgets"].items()}
        return cls(**values, path=path)


def load_config(home: Home) -> Config:
    """Return the home's config. Raises FileError (exit 3) for a config that does not parse."""
    path = home.config_file
    no_directory(path)
    if not path.exists():
        return Config()
    data = cached(path, home.cache_dir, "config", lambda: validate_config_file(path))
    return Config.from_data(data, path)


def validate_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate config.toml; return its JSON-able content."""
    data, text = load(path)
    return validate_config_data(path, data, text)


def validate_config_data(path: Path, data: Any, text: str = "") -> dict[str, Any]:
    from pydantic import ValidationError

    ConfigSpec = config_spec()
    try:
        spec = ConfigSpec.model_validate(data)
    except ValidationError as exc:
        problems = [describe_error(err, ConfigSpec) for err in exc.errors()]
        fld, message = problems[0]
        raise FileError(
            path,
            message,
            line=_line_of(text, fld),
            field=fld,
            more=[f"{path}: field {f!r}: {m}" for f, m in problems[1:]],
        ) from None
    return spec.model_dump(mode="json", exclude_defaults=False)


def _line_of(text: str, fld: str | None) -> int | None:
    """The line of a field in config.toml: inside its table (`providers.NAME`) when it has one."""
    if not fld:
        return None
    parts = [p for p in fld.split(".") if not p.isdigit()]  # list positions have no line of their own
    if not parts:
        return None
    if len(parts) >= 3:  # providers.NAME.field, tiers... : look inside the table
        return line_in_table(text, ".".join(parts[:-1]), parts[-1])
    if len(parts) == 2:
        return line_in_table(text, parts[0], parts[1])
    return line_of_key(text, parts[0])


@functools.cache
def config_spec() -> type[BaseModel]:
    """The pydantic model of config.toml, derived from `Config`."""
    from llmctl.prefs.specs import BudgetChecks, ConfigChecks, ProviderChecks, Strict

    nested = {TierThresholds: Strict, Provider: ProviderChecks, Budget: BudgetChecks}
    return spec_of(Config, ConfigChecks, nested=nested)


def update_config(home: Home, change: Any, command: str, target: str) -> tuple[Any, Any]:
    """Apply `change(raw_dict)` to config.toml and write it back, with its audit line first;
    callers hold the lock. `change` mutates the raw TOML dict and returns (before, after).

    A config that does not parse is reported and left as it was; nothing is written when
    nothing changed. Raises FileError when config.toml or the audit log cannot be written."""
    from llmctl.prefs import audit

    path = home.config_file
    no_directory(path)
    if path.exists():
        raw, text = load(path)
        validate_config_data(path, raw, text)
    else:
        raw = {}
    before, after = change(raw)
    if before != after:
        validate_config_data(path, raw)
        new_text = dump_update(path, raw)
        audit.record(home, command, [audit.Change(target, before, after)])
        atomic_write(path, new_text)
    return before, after
