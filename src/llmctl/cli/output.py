"""Rendering: JSON, tables (rich on a terminal, plain aligned text when piped), messages."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any


def error(message: str, *, hint: str | None = None) -> None:
    print(f"llmctl: error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"llmctl: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    print(f"llmctl: {message}", file=sys.stderr)


def emit_json(data: Any) -> None:
    """Print JSON: an array of objects one object per line (fast, grep-able), else indented."""
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        lines = ",\n  ".join(json.dumps(item, ensure_ascii=False) for item in data)
        sys.stdout.write("[\n  " + lines + "\n]\n")
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def rich_output() -> bool:
    """Rich tables only on a terminal; plain, stable text when piped."""
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: Sequence[str] = (),
    title: str | None = None,
    footer: str | None = None,
) -> None:
    """Print rows under column headers. Numbers in `numeric` columns align right."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if rich_output():
        from rich.console import Console
        from rich.table import Table

        tbl = Table(title=title, show_edge=False, header_style="bold", pad_edge=False)
        widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
        for i, col in enumerate(columns):
            # Every column keeps its values whole; only the last wraps when space runs out.
            last = i == len(columns) - 1
            tbl.add_column(
                col,
                justify="right" if col in numeric else "left",
                no_wrap=not last,
                min_width=min(widths[i], 12) if last else widths[i],
                overflow="fold",
            )
        for row in cells:
            tbl.add_row(*row)
        # Never cut a value or drop a column: a table wider than the terminal is printed
        # whole and wraps. (Each cell has a space of padding on either side and a rule
        # between columns; the console must be made this wide: `print(width=)` is not enough.)
        needed = sum(widths[:-1]) + min(widths[-1], 12) + 3 * len(columns) + 1
        console = Console(width=max(Console().width, needed))
        console.print(tbl, crop=False)
        if footer:
            console.print(footer, style="dim")
        return
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out = sys.stdout
    if title:
        out.write(title + "\n")
    for row in [list(columns), *cells]:
        parts = [
            cell.rjust(w) if col in numeric else cell.ljust(w)
            for cell, w, col in zip(row, widths, columns, strict=True)
        ]
        out.write("  ".join(parts).rstrip() + "\n")
    if footer:
        print(footer, file=sys.stderr)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """Print `name: value` lines (a rich grid on a terminal)."""
    if rich_output():
        from rich.console import Console
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for name, value in pairs:
            grid.add_row(name, "" if value is None else str(value))
        Console().print(grid)
        return
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        sys.stdout.write(f"{name.ljust(width)}  {'' if value is None else value}\n")


def money(value: float | None) -> str:
    """An amount without the `$` (`0.00050`, `4.98`; `?` when unknown): the one rule,
    `catalog.costs.usd`, which the engine's messages use too."""
    from llmctl.catalog.costs import usd

    return usd(value)


def tokens(value: int | None) -> str:
    if not value:
        return "?"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if value >= 1000:
        return f"{value / 1000:.0f}k"
    return str(value)
