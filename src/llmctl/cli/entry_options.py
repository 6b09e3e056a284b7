"""The entry-field options shared by `add` and `edit`, declared once.

`with_entry_options` appends these options to a command's signature; the command
receives them as keyword arguments and turns them into catalog fields with
`entry_fields`.
"""

import inspect
import json
from collections.abc import Callable
from typing import Annotated, Any

import typer

from llmctl.errors import UsageError

# (parameter, field, type, option names, help)
_OPTIONS: list[tuple[str, str, Any, tuple[str, ...], str]] = [
    ("name", "name", str, ("--name",), "Display name."),
    ("description", "description", str, ("--description",), "One-line description."),
    ("company", "company", str, ("--company",), "Company that makes the model."),
    (
        "provider",
        "provider",
        str,
        ("--provider", "--router"),
        "Provider that sends it (openai, openrouter, ...).",
    ),
    ("model", "model", str, ("--model",), "Provider-side model name (default: from the id)."),
    (
        "groups",
        "valid_groups",
        list[str],
        ("--group", "-g"),
        "Valid group (repeat for several; replaces the list).",
    ),
    (
        "tier",
        "tier",
        str,
        ("--tier",),
        "economy, standard, premium or local (derived from price when absent).",
    ),
    ("quality", "quality_score", float, ("--quality",), "Quality score 0-10."),
    ("input_cost", "input_cost_per_mtok", float, ("--input-cost",), "USD per million input tokens."),
    ("output_cost", "output_cost_per_mtok", float, ("--output-cost",), "USD per million output tokens."),
    ("speed", "seconds_per_output_mtok", float, ("--speed",), "Seconds per million output tokens."),
    ("context", "context_length", int, ("--context",), "Context length in tokens."),
    ("max_output", "max_output_tokens", int, ("--max-output",), "Maximum output tokens."),
    ("capabilities", "capabilities", list[str], ("--capability",), "Capability (repeat; replaces the list)."),
    ("priority", "priority", int, ("--priority",), "Priority: lower is tried first."),
    ("params", "params", list[str], ("--param",), "Default request parameter KEY=VALUE (repeat)."),
    ("api_key_env", "auth", str, ("--api-key-env",), "Env var holding the API key (never the key itself)."),
    ("api_base", "api_base", str, ("--api-base",), "Endpoint override URL."),
    (
        "deprecation_date",
        "deprecation_date",
        str,
        ("--deprecation-date",),
        "Date the model retires (YYYY-MM-DD).",
    ),
    ("replacement", "replacement", str, ("--replacement",), "Id of the entry that replaces it."),
    ("aliases", "aliases", list[str], ("--alias",), "Add a short name accepted instead of the id (repeat)."),
]
_FLAGS = [
    ("deprecated", "deprecated", "--deprecated/--not-deprecated", "Mark deprecated (or not)."),
    ("enabled", "enabled", "--enabled/--disabled", "Enable or disable."),
]


def with_entry_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Append the entry-field options to `func`'s signature (keyword-only, default None)."""
    sig = inspect.signature(func, eval_str=True)
    params = [p for p in sig.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    annotation: Any  # built at run time from each option's type
    for param, _field, kind, names, help_text in _OPTIONS:
        annotation = Annotated[(kind | None, typer.Option(*names, help=help_text, show_default=False))]
        params.append(
            inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        )
    for param, _field, decl, help_text in _FLAGS:
        annotation = Annotated[bool | None, typer.Option(decl, help=help_text, show_default=False)]
        params.append(
            inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        )
    func.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return func


def entry_fields(options: dict[str, Any]) -> dict[str, Any]:
    """Turn the given entry options into catalog fields (options left out are not included)."""
    fields: dict[str, Any] = {}
    for param, fld, _kind, _names, _help in _OPTIONS:
        value = options.get(param)
        if value is None or value == []:
            continue
        if param == "params":
            value = dict(parse_assignment(item, "--param") for item in value)
        elif param == "api_key_env":
            value = {"api_key_env": value}
        fields[fld] = value
    for param, fld, _decl, _help in _FLAGS:
        if options.get(param) is not None:
            fields[fld] = options[param]
    return fields


def parse_assignment(item: str, option: str) -> tuple[str, Any]:
    """Parse KEY=VALUE; the value is read as JSON when it is JSON (numbers, true, lists)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{option} needs KEY=VALUE, got {item!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value
