"""`llmctl cooldown list|clear`: what is cooling down, and forgetting it."""

from typing import Annotated

import typer

from llmctl.cli.output import emit_json, note, table
from llmctl.cli.state import state

app = typer.Typer(add_completion=False, help="LLMs and endpoints in cooldown.", no_args_is_help=True)
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
        typer.Argument(help="Keys (llm:ID, endpoint:URL), LLM ids or aliases, or base URLs."),
    ] = None,
    clear_all: Annotated[bool, typer.Option("--all", help="Forget every cooldown.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Forget cooldowns, so the LLMs or endpoints are tried again at once."""
    from llmctl.errors import UsageError

    st, cooldown = _cooldown(ctx)
    if not targets and not clear_all:
        raise UsageError("say what to clear: keys, LLM ids, base URLs, or --all")
    keys = None if clear_all else [_key(st.catalog(), cooldown, t) for t in targets or []]
    cleared = cooldown.clear(keys)
    if as_json:
        emit_json({"cleared": cleared})
    elif cleared:
        for key in cleared:
            print(f"cleared {key}")
    else:
        note("nothing to clear")


def _key(catalog, cooldown, target: str) -> str:
    """A cooldown key for a key, an LLM id or alias, or a base URL."""
    if target.startswith(("llm:", "endpoint:")):
        return target
    if target.startswith(("http://", "https://")):
        return "endpoint:" + target.rstrip("/")
    return "llm:" + catalog.resolve_id(target)  # unknown: exit 2 with the closest ids
