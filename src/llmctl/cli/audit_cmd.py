"""`llmctl audit`: show the change log."""

import json
from typing import Annotated

import typer

from llmctl.cli.output import emit_json, table, warn
from llmctl.cli.state import state


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show the last N changes.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the last changes made through llmctl (from audit.jsonl)."""
    from llmctl.prefs import audit as audit_log

    records, problems = audit_log.read(state(ctx).home, limit)
    for problem in problems:
        warn(problem)
    if as_json:
        emit_json(records)
        return

    def short(value: object) -> str:
        text = json.dumps(value, ensure_ascii=False) if value is not None else "-"
        return text if len(text) <= 60 else text[:57] + "..."

    rows = [
        [r.get("time"), r.get("command"), r.get("target"), short(r.get("before")), short(r.get("after"))]
        for r in records
    ]
    table(
        ["TIME", "COMMAND", "TARGET", "BEFORE", "AFTER"],
        rows,
        footer=None if rows else "no changes recorded yet",
    )
