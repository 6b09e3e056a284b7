"""The Typer app: one thin module per command group. The only place that prints and exits."""

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from llmctl import __version__
from llmctl.errors import LlmctlError
from llmctl.paths import ENV_CATALOG, ENV_DEBUG, ENV_HOME


class LlmctlGroup(TyperGroup):
    """Turns every LlmctlError raised below into `llmctl: error: ...` and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LlmctlError as exc:
            if os.environ.get(ENV_DEBUG) == "1":
                raise
            from llmctl.cli.output import error

            error(exc.message, hint=exc.hint)
            for line in getattr(exc, "more", [])[:20]:
                print(f"  {line}", file=sys.stderr)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            print("llmctl: interrupted", file=sys.stderr)
            ctx.exit(130)

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        # Completion classes are registered only when a shell asks for candidates,
        # so ordinary runs do not pay for them.
        if os.environ.get(complete_var or "_LLMCTL_COMPLETE"):
            from typer._completion_classes import completion_init

            completion_init()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)


app = typer.Typer(
    cls=LlmctlGroup,
    name="llmctl",
    help="Which LLM should this job use, what does it cost, and why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"llmctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option("--home", envvar=ENV_HOME, help="Directory for all llmctl files (isolates everything)."),
    ] = None,
    catalog: Annotated[
        str | None,
        typer.Option(
            "--catalog", envvar=ENV_CATALOG, help="Use this catalog file instead of the bundled one."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    from llmctl.cli.state import State

    ctx.obj = State(home_arg=home, catalog_arg=catalog)


def _register() -> None:
    from llmctl.cli import (
        audit_cmd,
        books_cmd,
        catalog_cmd,
        completion_cmd,
        defaults_cmd,
        jobs_cmd,
        llms_cmd,
        pick_cmd,
    )

    pick_cmd.register(app)
    llms_cmd.register(app)
    app.add_typer(books_cmd.app, name="book")
    app.add_typer(jobs_cmd.app, name="job")
    app.add_typer(catalog_cmd.app, name="catalog")
    app.add_typer(defaults_cmd.app, name="default")
    audit_cmd.register(app)
    completion_cmd.register(app)


_register()


def main() -> None:
    """Console entry point."""
    app(prog_name="llmctl")
