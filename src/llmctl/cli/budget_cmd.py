"""`llmctl budget show|set|clear`: spending limits that hold across processes."""

from typing import Annotated

import typer

from llmctl.cli.output import emit_json, money, note, table
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False, help="Spending limits: overall, per book, per scope.", no_args_is_help=True
)
BookOpt = Annotated[str | None, typer.Option("--book", "-b", help="A book's budget.")]
ScopeOpt = Annotated[str | None, typer.Option("--scope", help="A scope's budget.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("show")
def show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Each budget: limit, period, spent, reserved by attempts in flight, remaining, reset."""
    from llmctl.engine.sender import Sender

    st = state(ctx)
    ledger = Sender.create(st.home, st.catalog()).ledger()
    rows = ledger.state() if ledger is not None else []
    if as_json:
        emit_json(rows)
        return
    table(
        ["TARGET", "LIMIT $", "PERIOD", "SPENT $", "RESERVED $", "REMAINING $", "RESETS"],
        [
            [
                r["target"],
                money(r["limit"]),
                r["period"],
                money(r["spent"]),
                money(r["reserved"]),
                money(r["remaining"]),
                r["resets_at"] or "-",
            ]
            for r in rows
        ],
        numeric=("LIMIT $", "SPENT $", "RESERVED $", "REMAINING $"),
        footer=None if rows else "no budget set (`llmctl budget set 20`)",
    )


@app.command("set")
def set_(
    ctx: typer.Context,
    usd: Annotated[float, typer.Argument(metavar="USD", help="The limit in US dollars.")],
    book: BookOpt = None,
    scope: ScopeOpt = None,
    period: Annotated[str, typer.Option("--period", help="day, week, month or total.")] = "month",
    as_json: JsonOpt = False,
) -> None:
    """Set a budget: overall, or for a book or a scope."""
    from llmctl.prefs.budgets import set_budget, target_of

    change = set_budget(state(ctx).home, target_of(book, scope), usd, period)
    target = change.target.removeprefix("budget:")
    if as_json:
        emit_json({"target": target, **(change.after or {})})
    else:
        print(f"{target}: ${money(usd)} " + ("in all" if period == "total" else f"a {period}"))


@app.command("clear")
def clear(ctx: typer.Context, book: BookOpt = None, scope: ScopeOpt = None) -> None:
    """Remove a budget."""
    from llmctl.prefs.budgets import set_budget, target_of

    change = set_budget(state(ctx).home, target_of(book, scope), None)
    if change.before is None:
        note(f"{change.target.removeprefix('budget:')} had no budget")
