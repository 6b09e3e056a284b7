"""`llmctl usage`: what was spent, by LLM, provider, book, job, template, deployment, day or month."""

from typing import Annotated

import typer

from llmctl.cli.output import emit_json, money, rich_output, table
from llmctl.cli.state import state


def usage(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="ISO date or time, or 24h, 7d... (default: 30d ago).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO date or time, or Nh / Nd ago.")] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by", help="llm, provider, book, job, template, deployment, day or month (repeat; default llm)."
        ),
    ] = None,
    book: Annotated[str | None, typer.Option("--book", help="Only this book's attempts.")] = None,
    job: Annotated[str | None, typer.Option("--job", help="Only this job's attempts.")] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="Only this LLM's attempts.")] = None,
    prices: Annotated[
        str, typer.Option("--prices", help="stored (as recorded) or current (today's catalog).")
    ] = "stored",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Report spend from the usage store: requests, tokens, cost and latency per group, with a total."""
    from llmctl.engine.reports import usage_report
    from llmctl.engine.usage import UsageStore

    st = state(ctx)
    catalog = st.catalog()
    llm_id = catalog.resolve_id(llm) if llm else None
    report = usage_report(
        UsageStore.for_home(st.home),
        since=since,
        until=until,
        by=by or ["llm"],
        book=book,
        job=job,
        llm=llm_id,
        prices=prices,
        catalog=catalog,
    )
    if as_json:
        emit_json(report)
        return
    keys = report["by"]
    counters = ["REQUESTS", "OK", "FAILED", "CACHED", "IN TOKENS", "OUT TOKENS", "COST $", "P50 MS", "P95 MS"]
    bars = rich_output() and any(k in ("day", "month") for k in keys)
    top = max([r["cost"] for r in report["rows"]] or [0]) or 1
    rows = []
    for r in [
        *report["rows"],
        {**{k: "total" if n == 0 else "" for n, k in enumerate(keys)}, **report["total"]},
    ]:
        row = [r[k] if r[k] is not None else "-" for k in keys]
        row += [r["requests"], r["ok"], r["failed"], r["cache_hits"], r["input_tokens"], r["output_tokens"]]
        row += [money(r["cost"]), r["p50_latency_ms"] or "-", r["p95_latency_ms"] or "-"]
        if bars:
            row.append(
                "#" * round(20 * r["cost"] / top) if r is not report["total"] and r in report["rows"] else ""
            )
        rows.append(row)
    columns = [k.upper() for k in keys] + counters + (["SPEND"] if bars else [])
    footer = f"{report['since']} to {report['until']} (UTC); costs at {report['prices']} prices"
    table(columns, rows, numeric=counters, footer=footer)
