"""The shape of a JSON answer: is a schema valid JSON Schema, and does an answer fit it.
The `jsonschema` library is imported only when a schema is checked or an answer validated."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from llmctl.errors import FileError, InvalidOutput, UsageError
from llmctl.files.io import json_value, load

# A model may wrap its JSON in a Markdown code fence even when asked for JSON alone.
_FENCE = re.compile(r"\A\s*```(?:json)?[ \t]*\n(.*?)\n?```\s*\Z", re.DOTALL)


def schema_problem(schema: Any) -> str | None:
    """Return why `schema` is not valid JSON Schema (its draft by `$schema`, else 2020-12),
    or None when it is."""
    if not isinstance(schema, dict):
        return f"a schema is a JSON object (got {type(schema).__name__})"
    from jsonschema.exceptions import SchemaError

    try:
        _validator_class(schema).check_schema(schema)
    except SchemaError as exc:
        return f"not valid JSON Schema: {exc.message} (at {exc.json_path})"
    return None


def read_schema_file(path: Path) -> dict[str, Any]:
    """Return the JSON Schema in `path` (JSON, or TOML/YAML by its suffix), checked.
    Raises FileError (exit 3) when it cannot be read or is not valid JSON Schema."""
    data, _text = load(path)
    problem = schema_problem(data)
    if problem:
        raise FileError(path, problem)
    return data


def schema_option(path: Path) -> dict[str, Any]:
    """`--json-schema FILE`: the schema in a file named on the command line. Raises
    UsageError (exit 2) when it cannot be read or is not valid JSON Schema."""
    try:
        return read_schema_file(path)
    except FileError as exc:
        raise UsageError(f"--json-schema {exc.message}") from None


def parse_answer(text: str, schema: dict[str, Any] | None = None) -> Any:
    """Return the JSON value of an answer (a Markdown code fence around it is taken off),
    checked against `schema` when one is given.

    Raises InvalidOutput when the answer is not JSON or does not fit the schema."""
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        data = json_value(body)
    except ValueError as exc:
        raise InvalidOutput(f"not JSON ({exc})", answer=text) from None
    if schema is not None:
        problem = answer_problem(data, schema)
        if problem:
            raise InvalidOutput(problem, answer=text)
    return data


def answer_problem(data: Any, schema: dict[str, Any]) -> str | None:
    """Return the most relevant way `data` breaks `schema` (`$.tags[0]: 3 is not of type
    'string'`), or None when it fits."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(_key(schema)).iter_errors(data))
    return None if error is None else f"{error.json_path}: {error.message}"


def _key(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=64)
def _validator(key: str) -> Any:
    """A validator per distinct schema (building one resolves the schema's references)."""
    schema = json.loads(key)
    return _validator_class(schema)(schema)


def _validator_class(schema: dict[str, Any]) -> Any:
    from jsonschema.validators import Draft202012Validator, validator_for

    return validator_for(schema, default=Draft202012Validator)
