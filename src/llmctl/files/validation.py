"""From a record's one definition to the pydantic model that checks what comes in.

Each concept (an LLM entry, config.toml, a book, a job) is defined once, as a dataclass:
its fields' names, types and defaults, with `Check` markers in the type annotations for
the constraints (`Annotated[float, Check(ge=0)]`). The dataclasses are what the program
works with; `spec_of` derives the pydantic model that validates a file or a command-line
value against them, only when something must be validated. Checks that need code
(known group names, secrets) live in the spec's base class as pydantic validators.
This module imports pydantic only inside `spec_of` and `describe_error`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from llmctl.errors import did_you_mean

if TYPE_CHECKING:
    from pydantic import BaseModel


class Check:
    """Constraints of a field, as keyword arguments of `pydantic.Field` (ge, pattern, strict,
    alias, ...). Put it in an annotation: `Annotated[int, Check(gt=0, strict=True)]`."""

    __slots__ = ("rules",)

    def __init__(self, **rules: Any) -> None:
        self.rules = tuple(rules.items())

    def __repr__(self) -> str:
        return f"Check({', '.join(f'{k}={v!r}' for k, v in self.rules)})"


def file_fields(record: type) -> list[dataclasses.Field]:
    """The record's fields that a file may set (those without `metadata={"file": False}`)."""
    return [f for f in dataclasses.fields(record) if f.metadata.get("file", True)]


def spec_of(
    record: type,
    base: type,
    *,
    patch: bool = False,
    name: str | None = None,
    nested: Mapping[type, type] | None = None,
) -> type[BaseModel]:
    """The pydantic model that validates `record`'s file fields, built on `base`
    (which holds the validators and the model config). A field whose type is another
    record in `nested` (record -> its base) is validated by that record's derived model.

    With `patch`, every field is optional and defaults to None, so that a dump with
    `exclude_unset` holds only the fields a file sets (a catalog patch); otherwise the
    record's own defaults apply.
    """
    import pydantic

    hints = typing.get_type_hints(record, include_extras=True)
    models: dict[type, type] = {r: spec_of(r, b) for r, b in (nested or {}).items()}
    fields: dict[str, Any] = {}
    for f in file_fields(record):
        kind = _field_type(hints[f.name], pydantic, models, optional=patch and f.name != "id")
        if patch:
            fields[f.name] = (kind, None) if f.name != "id" else (kind, ...)
        elif f.default is not dataclasses.MISSING:
            fields[f.name] = (kind, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            # A nested record's default is its model's own default.
            factory: Any = f.default_factory
            factory = models.get(factory, factory)
            fields[f.name] = (kind, pydantic.Field(default_factory=factory))
        else:
            fields[f.name] = (kind, ...)
    return pydantic.create_model(name or record.__name__ + "Spec", __base__=base, **fields)


def _field_type(hint: Any, pydantic: Any, models: dict[type, type], *, optional: bool) -> Any:
    """A field's type for pydantic. The field's own `Check` stays on the field itself (an
    alias must), also when the type is made optional: `Annotated[T | None, Field(...)]`."""
    if typing.get_origin(hint) is typing.Annotated:
        inner, *extras = typing.get_args(hint)
        kind = _to_pydantic(inner, pydantic, models)
        marks = [pydantic.Field(**dict(e.rules)) if isinstance(e, Check) else e for e in extras]
        return typing.Annotated[(kind | None if optional else kind, *marks)]
    kind = _to_pydantic(hint, pydantic, models)
    return kind | None if optional else kind


def _to_pydantic(hint: Any, pydantic: Any, models: dict[type, type]) -> Any:
    """The same type with every `Check` turned into a `pydantic.Field` and every nested
    record into its model, at any depth."""
    if hint in models:
        return models[hint]
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        inner, *extras = typing.get_args(hint)
        marks = [pydantic.Field(**dict(e.rules)) if isinstance(e, Check) else e for e in extras]
        return typing.Annotated[(_to_pydantic(inner, pydantic, models), *marks)]
    args = typing.get_args(hint)
    if not args:
        return hint
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return types.GenericAlias(tuple, (_to_pydantic(args[0], pydantic, models), ...))
    converted = tuple(_to_pydantic(a, pydantic, models) for a in args)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[converted]  # noqa: UP007 - built from a tuple of types
    return origin[converted if len(converted) > 1 else converted[0]]


def describe_error(err: Mapping[str, Any], model: Any) -> tuple[str | None, str]:
    """Turn one pydantic error into (field, message), suggesting a name for unknown fields."""
    loc = [str(part) for part in err.get("loc", ())]
    fld = ".".join(loc) or None
    if err.get("type") == "extra_forbidden":
        owner = _owner(model, loc)
        names = [n for name, f in owner.model_fields.items() for n in (name, f.alias) if n]
        return fld, "unknown field" + (did_you_mean(loc[-1], names) if loc else "")
    message = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if err.get("type") in ("int_type", "int_from_float", "int_parsing"):
        message = f"must be a whole number (got {err.get('input')!r})"
    return fld, message


def _owner(model: Any, loc: list[str]) -> Any:
    """The model, nested or not, whose field the error's location ends in (a deployment's
    unknown field is suggested a deployment field's name)."""
    current = model
    for part in loc[:-1]:
        fields = current.model_fields
        if part in fields:  # else a list position or a dict key: still inside `current`
            nested = _nested_model(fields[part].annotation)
            if nested is None:
                return model
            current = nested
    return current


def _nested_model(hint: Any) -> Any:
    """The pydantic model inside a field's type (`list[M] | None`, `dict[str, M]`), or None."""
    if isinstance(hint, type) and hasattr(hint, "model_fields"):
        return hint
    for arg in typing.get_args(hint):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def check_names(kind: str, values: Iterable[str], known: tuple[str, ...]) -> list[str]:
    """Return `values` without repeats; raise ValueError (for a validator) naming the first
    unknown one, the closest known name and every valid one."""
    values = list(values)
    for value in values:
        if value not in known:
            raise ValueError(
                f"unknown {kind} {value!r}{did_you_mean(value, known)} (valid: {', '.join(known)})"
            )
    return list(dict.fromkeys(values))
