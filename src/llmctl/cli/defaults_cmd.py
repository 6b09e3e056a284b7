"""`llmctl default show|set|clear`: the default LLM of a scope."""

from typing import Annotated

import typer

from llmctl.cli import completers
from llmctl.cli.output import emit_json, note
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False, help="The default LLM of a scope (one per scope).", no_args_is_help=True
)
ScopeOpt = Annotated[str, typer.Option("--scope", help="Scope name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("show")
def show(ctx: typer.Context, scope: ScopeOpt = "global", as_json: JsonOpt = False) -> None:
    """Print the scope's default LLM (nothing when none is set)."""
    from llmctl.prefs.scopes import get_default

    llm = get_default(state(ctx).catalog(), scope)
    if as_json:
        emit_json({"scope": scope, "llm": llm})
    elif llm:
        print(llm)
    else:
        note(f"no default LLM for scope {scope!r}")


@app.command("set")
def set_(
    ctx: typer.Context,
    llm: Annotated[str, typer.Argument(help="LLM id or alias.", autocompletion=completers.complete_llm)],
    scope: ScopeOpt = "global",
    as_json: JsonOpt = False,
) -> None:
    """Make LLM the scope's default (the previous default is cleared)."""
    from llmctl.prefs.scopes import set_default

    st = state(ctx)
    change = set_default(st.home, st.catalog(), llm, scope)
    if as_json:
        emit_json({"scope": scope, "llm": change.after, "previous": change.before})
    else:
        print(change.after)


@app.command("clear")
def clear(ctx: typer.Context, scope: ScopeOpt = "global", as_json: JsonOpt = False) -> None:
    """Clear the scope's default LLM."""
    from llmctl.prefs.scopes import set_default

    st = state(ctx)
    change = set_default(st.home, st.catalog(), None, scope)
    if as_json:
        emit_json({"scope": scope, "llm": None, "previous": change.before})
    elif change.before is None:
        note(f"scope {scope!r} had no default")
