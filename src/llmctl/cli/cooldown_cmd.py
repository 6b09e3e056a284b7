"""`llmctl cooldown list|clear`: what is cooling down, and forgetting it."""

from typing import Annotated

import typer

from llmctl.cli.output import emit_json, note, table
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False, help="Deployments, keys and endpoints in cooldown.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _cooldown(ctx: typer.Context):
    from llmctl.engine.cooldown import Cooldown

    st = state(ctx)
    return st, Cooldown.for_home(st.home, st.catalog().config.providers)


@app.command("list")
def list_cooldowns(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every LLM or endpoint with a failure on record, and how long it cools down."""
    _st, cooldown = _cooldown(ctx)
    rows = cooldown.listing()
    if as_json:
        emit_json(rows)
        return
    table(
        ["KEY", "KIND", "FAILURES", "UNTIL", "REASON"],
        [[r["key"], r["kind"], r["failures"], r["until"] or "-", r["reason"]] for r in rows],
        numeric=("FAILURES",),
        footer=None if rows else "nothing is cooling down",
    )


@app.command("clear")
def clear(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Keys (deployment:LLM@ID, key:VAR, endpoint:URL), LLM ids or aliases, or base URLs."
        ),
    ] = None,
    clear_all: Annotated[bool, typer.Option("--all", help="Forget every cooldown.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Forget cooldowns, so the LLMs or endpoints are tried again at once."""
    from llmctl.errors import UsageError

    st, cooldown = _cooldown(ctx)
    if not targets and not clear_all:
        raise UsageError("say what to clear: keys, LLM ids, base URLs, or --all")
    keys = None if clear_all else [k for t in targets or [] for k in _keys(st.catalog(), t)]
    cleared = cooldown.clear(keys)
    if as_json:
        emit_json({"cleared": cleared})
    elif cleared:
        for key in cleared:
            print(f"cleared {key}")
    else:
        note("nothing to clear")


def _keys(catalog, target: str) -> list[str]:
    """The cooldown keys a target names: a key as given, a base URL's endpoint, or every
    key of an LLM id or alias (each of its deployments', and its `llm:` key)."""
    if target.startswith(("llm:", "endpoint:", "deployment:", "key:")):
        return [target]
    if target.startswith(("http://", "https://")):
        return ["endpoint:" + target.rstrip("/")]
    entry = catalog.get(target)  # unknown: exit 2 with the closest ids
    return [f"llm:{entry.id}", *(f"deployment:{entry.id}@{d.id}" for d in entry.routes())]
