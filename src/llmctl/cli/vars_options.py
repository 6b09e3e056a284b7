"""The options that give a job's template variables (`--var`, `--vars-file`), shared by
`job render`, `prompt`, `batch` and `estimate`, and the prompt text that goes with them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from llmctl.compose.variables import Given

VarOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        metavar="NAME=VALUE",
        help="A template variable (repeatable); NAME=@FILE reads a file, NAME=@- stdin.",
    ),
]
VarsFileOpt = Annotated[
    Path | None,
    typer.Option("--vars-file", metavar="FILE", help="Template variables from a TOML or JSON object."),
]


def given_vars(var: list[str] | None, vars_file: Path | None, stdin: Any = None) -> dict[str, Given]:
    """The variables given on the command line: `--var` over `--vars-file`, key by key.
    Raises UsageError for a malformed option or a file that cannot be read."""
    from llmctl.cli.input import read_stdin
    from llmctl.compose.variables import parse_var_options, read_vars_file

    stdin = sys.stdin if stdin is None else stdin
    from_file = read_vars_file(vars_file) if vars_file is not None else {}
    return {**from_file, **parse_var_options(var or [], read_stdin=lambda: read_stdin(stdin))}


def stdin_taken(var: list[str] | None) -> bool:
    """True when a `--var NAME=@-` reads stdin (the prompt text is then TEXT alone)."""
    return any(item.partition("=")[2] == "@-" for item in var or [])


def prompt_text(text: str | None, var: list[str] | None, stdin: Any = None) -> str:
    """The prompt text: TEXT and/or stdin, or TEXT alone when a variable reads stdin."""
    from llmctl.cli.input import read_prompt

    if stdin_taken(var):
        return "" if text in (None, "-") else text
    return read_prompt(text, sys.stdin if stdin is None else stdin)
