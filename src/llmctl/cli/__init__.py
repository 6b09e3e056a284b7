"""The Typer app: one thin module per command group. The only place that prints and exits."""

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from llmctl import __version__
from llmctl.errors import LlmctlError
from llmctl.paths import ENV_CATALOG, ENV_DEBUG, ENV_HOME

# Command name -> (module, attribute): a command function or a Typer sub-app. A command's
# module is imported only when that command runs, so start-up stays close to a bare Typer app.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "pick": ("llmctl.cli.pick_cmd", "pick"),
    "prompt": ("llmctl.cli.prompt_cmd", "prompt"),
    "batch": ("llmctl.cli.batch_cmd", "batch"),
    "estimate": ("llmctl.cli.estimate_cmd", "estimate"),
    "compare": ("llmctl.cli.compare_cmd", "compare"),
    "embed": ("llmctl.cli.compare_cmd", "embed"),
    "list": ("llmctl.cli.llms_cmd", "list_llms"),
    "show": ("llmctl.cli.llms_cmd", "show"),
    "add": ("llmctl.cli.llms_cmd", "add"),
    "edit": ("llmctl.cli.llms_cmd", "edit"),
    "remove": ("llmctl.cli.llms_cmd", "remove"),
    "enable": ("llmctl.cli.llms_cmd", "enable"),
    "disable": ("llmctl.cli.llms_cmd", "disable"),
    "deployment": ("llmctl.cli.deployment_cmd", "app"),
    "book": ("llmctl.cli.books_cmd", "app"),
    "job": ("llmctl.cli.jobs_cmd", "app"),
    "default": ("llmctl.cli.defaults_cmd", "app"),
    "catalog": ("llmctl.cli.catalog_cmd", "app"),
    "providers": ("llmctl.cli.providers_cmd", "app"),
    "audit": ("llmctl.cli.audit_cmd", "audit"),
    "usage": ("llmctl.cli.usage_cmd", "usage"),
    "budget": ("llmctl.cli.budget_cmd", "app"),
    "cache": ("llmctl.cli.cache_cmd", "app"),
    "cooldown": ("llmctl.cli.cooldown_cmd", "app"),
    "completion": ("llmctl.cli.completion_cmd", "completion"),
    "serve": ("llmctl.cli.serve_cmd", "serve"),
}


def _load_command(name: str) -> Any:
    import importlib

    from typer.main import get_command

    module, attribute = LAZY_COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        target = single
    command = get_command(target)
    command.name = name
    return command


class _Commands(dict):
    """The group's commands: every name is known up front, each is built when first asked for."""

    def get(self, name: Any, default: Any = None) -> Any:
        if name in LAZY_COMMANDS and not dict.__contains__(self, name):
            self[name] = _load_command(name)
        return dict.get(self, name, default)

    def keys(self) -> Any:
        return list(dict.fromkeys([*LAZY_COMMANDS, *dict.keys(self)]))


class LlmctlGroup(TyperGroup):
    """Loads commands lazily and turns every LlmctlError raised below into
    `llmctl: error: ...` and its exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands.keys())

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)

    def invoke(self, ctx: Any) -> Any:
        import warnings

        from llmctl.errors import LlmctlWarning

        try:
            with warnings.catch_warnings():
                # The core says each thing once; show its warnings as one line each.
                warnings.simplefilter("always", LlmctlWarning)
                _show_warnings_our_way(warnings)
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
        except BrokenPipeError:
            # The reader went away (`llmctl list | head -1`): not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except OSError as exc:
            if os.environ.get(ENV_DEBUG) == "1":
                raise
            from llmctl.cli.output import error

            # A file system problem (permissions, a directory where a file belongs, a full disk).
            where = f": {exc.filename}" if exc.filename else ""
            error(f"{exc.strerror or exc}{where}")
            ctx.exit(3 if exc.filename else 1)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Usage errors as one line (`llmctl: error: ...`), a closed pipe as a quiet exit."""
        if not standalone_mode:
            return super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        from typer import _click

        try:
            rv = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except _click.exceptions.NoArgsIsHelpError as exc:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
            sys.exit(exc.exit_code)
        except _click.exceptions.ClickException as exc:
            print(f"llmctl: error: {exc.format_message()}", file=sys.stderr)
            command = getattr(getattr(exc, "ctx", None), "command_path", None)
            if isinstance(exc, _click.exceptions.UsageError) and command:
                print(f"hint: `{command} --help` shows the options", file=sys.stderr)
            sys.exit(exc.exit_code)
        except typer.Abort:
            print("llmctl: aborted", file=sys.stderr)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

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


def _show_warning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    """The core's warnings (LlmctlWarning) as one line each, like every other message."""
    from llmctl.errors import LlmctlWarning

    if isinstance(message, LlmctlWarning) or (
        isinstance(category, type) and issubclass(category, LlmctlWarning)
    ):
        print(f"llmctl: warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, *args, **kwargs)


_python_showwarning: Any = None  # how Python shows any other warning


def _show_warnings_our_way(warnings: Any) -> None:
    global _python_showwarning
    if warnings.showwarning is not _show_warning:
        _python_showwarning = warnings.showwarning
    warnings.showwarning = _show_warning


def main() -> None:
    """Console entry point."""
    try:
        app(prog_name="llmctl")
    finally:
        _flush_stdout()


def _flush_stdout() -> None:
    """Flush what is left for stdout now: a reader that went away (`llmctl list | head -1`)
    shows here, as a quiet end, rather than as an error while the interpreter exits."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
