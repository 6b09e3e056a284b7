"""config.toml: scope defaults, extra groups, tier thresholds, router settings, providers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmctl.errors import FileError
from llmctl.fileio import atomic_write, dump_update, load
from llmctl.paths import Home
from llmctl.records import GROUPS
from llmctl.validated import cached, describe_error

DEFAULT_SCOPE = "global"


@dataclass
class Config:
    """The validated content of config.toml (defaults when the file is absent)."""

    extra_groups: tuple[str, ...] = ()
    strategy: str = "quality"
    max_attempts: int = 3
    allow_upgrade: bool = False
    defaults: dict[str, str] = field(default_factory=dict)
    economy_max_output_cost: float = 2.5
    premium_min_output_cost: float = 10.0
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def groups(self) -> tuple[str, ...]:
        return GROUPS + self.extra_groups

    @classmethod
    def from_data(cls, data: dict[str, Any], path: Path | None) -> Config:
        tiers = data.get("tiers", {})
        return cls(
            extra_groups=tuple(data.get("extra_groups", ())),
            strategy=data.get("strategy", "quality"),
            max_attempts=data.get("max_attempts", 3),
            allow_upgrade=data.get("allow_upgrade", False),
            defaults=dict(data.get("defaults", {})),
            economy_max_output_cost=tiers.get("economy_max_output_cost", 2.5),
            premium_min_output_cost=tiers.get("premium_min_output_cost", 10.0),
            providers=dict(data.get("providers", {})),
            path=path,
        )


def load_config(home: Home) -> Config:
    """Return the home's config. Raises FileError (exit 3) for a config that does not parse."""
    path = home.config_file
    if not path.is_file():
        return Config()
    data = cached(path, home.cache_dir, "config", lambda: validate_config_file(path))
    return Config.from_data(data, path)


def validate_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate config.toml; return its JSON-able content."""
    data, text = load(path)
    return validate_config_data(path, data, text)


def validate_config_data(path: Path, data: Any, text: str = "") -> dict[str, Any]:
    from pydantic import ValidationError

    from llmctl.models import ConfigSpec

    try:
        spec = ConfigSpec.model_validate(data)
    except ValidationError as exc:
        problems = [describe_error(err, ConfigSpec) for err in exc.errors()]
        fld, message = problems[0]
        key = (fld or "").split(".")[-1]
        raise FileError(
            path,
            message,
            line=line_of_key(text, key) if key else None,
            field=fld,
            more=[f"{path}: field {f!r}: {m}" for f, m in problems[1:]],
        ) from None
    return spec.model_dump(mode="json", exclude_defaults=False)


def line_of_key(text: str, key: str) -> int | None:
    """Return the 1-based line of `key = ...` (or the `[key]` table) in TOML text."""
    match = re.search(r"^[ \t]*(?:\[\s*)?" + re.escape(key) + r"\s*[=\].]", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def line_in_table(text: str, table: str, key: str | None) -> int | None:
    """Return the line of `key` inside the TOML table `[table]` (or of the header itself)."""
    header = re.search(r"^[ \t]*\[\s*" + re.escape(table) + r"\s*\]", text, re.MULTILINE)
    if not header:
        return line_of_key(text, key) if key else None
    start = header.start()
    if key:
        match = re.compile(r"^[ \t]*" + re.escape(key) + r"\s*=", re.MULTILINE).search(text, header.end())
        next_table = re.compile(r"^[ \t]*\[", re.MULTILINE).search(text, header.end())
        if match and (not next_table or match.start() < next_table.start()):
            start = match.start()
    return text.count("\n", 0, start) + 1


def update_config(home: Home, change: Any) -> tuple[Any, Any]:
    """Apply `change(raw_dict)` to config.toml and write it back; callers hold the lock.

    `change` mutates the raw TOML dict and returns (before, after) for the audit log.
    A config that does not parse is reported and left as it was.
    """
    path = home.config_file
    if path.is_file():
        raw, text = load(path)
        validate_config_data(path, raw, text)
    else:
        raw = {}
    result = change(raw)
    validate_config_data(path, raw)
    atomic_write(path, dump_update(path, raw))
    return result
