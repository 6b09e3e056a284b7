"""`llmctl job list`: the job types and what each needs."""

from typing import Annotated

import typer

from llmctl.cli.output import emit_json, table
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False,
    help="Job types: the group each needs, and its tier, capabilities and context.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Job types: the group each needs, and its tier, capabilities and context."""


@app.command("list")
def list_jobs(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """List the job types (bundled, and those of jobs.toml)."""
    from llmctl.prefs.jobs import load_jobs

    st = state(ctx)
    jobs = load_jobs(st.home, st.catalog().config)
    if as_json:
        emit_json([j.to_dict() for j in jobs.values()])
        return
    rows = [
        [
            j.name,
            j.group,
            j.tier or "-",
            ",".join(j.capabilities) or "-",
            j.min_context or "-",
            j.origin + (f" (patched: {', '.join(j.patched)})" if j.patched else ""),
        ]
        for j in jobs.values()
    ]
    table(["JOB", "GROUP", "TIER", "CAPABILITIES", "MIN CONTEXT", "FROM"], rows, numeric=("MIN CONTEXT",))
