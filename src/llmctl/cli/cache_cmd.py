"""`llmctl cache stats|clear`: the response cache."""

from typing import Annotated

import typer

from llmctl.cli.output import emit_json, fields, note
from llmctl.cli.state import state

app = typer.Typer(add_completion=False, help="The response cache (opt-in: --cache).", no_args_is_help=True)


def _cache(ctx: typer.Context):
    from llmctl.engine.sender import Sender

    st = state(ctx)
    return Sender.create(st.home, st.catalog()).response_cache()


@app.command("stats")
def stats(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Answers kept, their size on disk, how often they answered, and the oldest."""
    data = _cache(ctx).stats()
    if as_json:
        emit_json(data)
    else:
        fields(
            [
                ("entries", data["entries"]),
                ("bytes", data["bytes"]),
                ("hits", data["hits"]),
                ("oldest", data["oldest"] or "-"),
            ]
        )


@app.command("clear")
def clear(
    ctx: typer.Context,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Only answers older than this (7d, 12h, 30m).")
    ] = None,
) -> None:
    """Drop kept answers (all, or only older ones)."""
    removed = _cache(ctx).clear(older_than)
    note(f"{removed} answers removed from the cache")
