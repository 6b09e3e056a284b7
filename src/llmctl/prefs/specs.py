"""The checks of config.toml, book files and jobs.toml that need code, as the bases of the
pydantic models each record's module derives from its record (`Config`, `Provider`,
`Book`, `Job`). Imported only when one of those files must be validated."""

from __future__ import annotations

import re
import types
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from llmctl.catalog.entry import GROUPS, PERIODS, STRATEGIES
from llmctl.catalog.spec import VocabularyChecks, known_groups
from llmctl.files.secrets import find_key_shaped, find_secret, literal_command, url_secret
from llmctl.files.validation import check_names
from llmctl.providers.table import KINDS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderChecks(Strict):
    @field_validator("headers", check_fields=False)
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        where = find_secret(value, "headers")
        if where:
            raise ValueError(f"{where}: credentials live in env vars (api_key_env), never in config.toml")
        return value

    @field_validator("base_url", check_fields=False)
    @classmethod
    def _no_credentials_in_url(cls, value: str | None) -> str | None:
        why = url_secret(value)
        if why:
            raise ValueError(f"{why}: keys live in env vars (api_key_env)")
        return value

    @field_validator("api_key_cmd", check_fields=False)
    @classmethod
    def _no_literal_key(cls, value: str | None) -> str | None:
        literal = literal_command(value)
        if literal:
            raise ValueError(f"{literal}: keys live in env vars or a password manager, never in config.toml")
        return value

    @field_validator("kind", check_fields=False)
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        return None if value is None else check_names("provider kind", [value], KINDS)[0]


class ConfigChecks(Strict):
    @model_validator(mode="before")
    @classmethod
    def _no_key_anywhere(cls, data: Any) -> Any:
        shaped = find_key_shaped(data)
        if shaped:
            raise ValueError(
                f"{shaped} holds what looks like an API key: keys live in env vars, never in config.toml"
            )
        return data

    @field_validator("strategy", check_fields=False)
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        return check_names("strategy", [value], STRATEGIES)[0]

    @field_validator("budgets", check_fields=False)
    @classmethod
    def _known_targets(cls, value: dict) -> dict:
        for target in value:
            kind, _, name = target.partition(":")
            if target != "overall" and (kind not in ("book", "scope") or not name):
                raise ValueError(f"budget {target!r}: a target is overall, book:NAME or scope:NAME")
        return value

    @field_validator("extra_groups", check_fields=False)
    @classmethod
    def _not_builtin(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            if group in GROUPS:
                raise ValueError(f"{group!r} is a built-in group already")
        return value


class BudgetChecks(Strict):
    @field_validator("period", check_fields=False)
    @classmethod
    def _known_period(cls, value: str) -> str:
        return check_names("period", [value], PERIODS)[0]


class BookChecks(Strict):
    @field_validator("defaults", check_fields=False)
    @classmethod
    def _known_groups(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        check_names("group", list(value), known_groups(info))
        return value


def bad_var_values(values: Any) -> list[str]:
    """The names in a book's `[jobs.JOB.vars]` whose value is neither text nor `{ file = "PATH" }`."""
    if not isinstance(values, dict):
        return []
    return [
        name
        for name, given in values.items()
        if not isinstance(given, str)
        and not (isinstance(given, dict) and list(given) == ["file"] and isinstance(given["file"], str))
    ]


class BookJobChecks(Strict):
    @field_validator("vars", mode="before", check_fields=False)
    @classmethod
    def _text_or_file(cls, value: Any) -> Any:
        for name in bad_var_values(value)[:1]:
            raise ValueError(
                f'variable {name!r}: a value is text or {{ file = "PATH" }} (got {value[name]!r})'
            )
        return value


# A variable is a template name: not `input` (the prompt text) nor a word of Jinja's syntax.
VAR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
RESERVED_VARS = frozenset(
    {"input", "and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "loop"}
    | {"True", "False", "None", "self", "range", "lipsum", "dict", "cycler", "joiner", "namespace"}
)


def bad_var_names(value: Any) -> list[tuple[str, str]]:
    """The names of a job's `vars` that cannot be template names, each with why."""
    found = []
    for name in value if isinstance(value, dict) else ():
        if not VAR_NAME.fullmatch(name):
            found.append((name, "a name is a letter, then letters, digits or '_'"))
        elif name in RESERVED_VARS:
            found.append((name, "the name is taken by the template language or llmctl"))
    return found


class JobChecks(VocabularyChecks):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("group", check_fields=False)
    @classmethod
    def _known_group(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_names("group", [value], known_groups(info))[0]

    @field_validator("vars", check_fields=False)
    @classmethod
    def _template_names(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for name, why in bad_var_names(value)[:1]:
            raise ValueError(f"variable {name!r}: {why}")
        return value

    @model_validator(mode="after")
    def _one_source_each(self) -> Any:
        data = self.__dict__
        for inline, file in (("prompt", "prompt_file"), ("json_schema", "schema_file")):
            if data.get(inline) is not None and data.get(file) is not None:
                raise ValueError(f"give `{inline.removeprefix('json_')}` or `{file}`, not both")
        has_schema = data.get("json_schema") is not None or data.get("schema_file") is not None
        if data.get("output") == "text" and has_schema:
            raise ValueError('a schema describes a JSON answer: set output = "json" or drop the schema')
        return self


class JobVarChecks(Strict):
    @model_validator(mode="after")
    def _required_has_no_default(self) -> Any:
        if self.__dict__.get("required") and self.__dict__.get("default") is not None:
            raise ValueError("a required variable takes no default: drop `default` or `required`")
        return self


JobName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]


def jobs_file_spec(job_spec: type) -> type[BaseModel]:
    """jobs.toml: `[jobs.NAME]` tables, each validated by `job_spec`."""
    from pydantic import create_model

    jobs: Any = types.GenericAlias(dict, (JobName, job_spec))  # dict[JobName, job_spec], built at run time
    return create_model("JobsFileSpec", __base__=Strict, jobs=(jobs, {}))
