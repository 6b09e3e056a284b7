"""Entry commands: list, show, add, edit, remove, enable, disable."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from llmctl.cli import completers
from llmctl.cli.entry_options import entry_fields, with_entry_options
from llmctl.cli.output import emit_json, fields, money, note, table, tokens
from llmctl.cli.state import state

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def list_llms(
    ctx: typer.Context,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", "-g", help="Only LLMs valid for this group.", autocompletion=completers.complete_group
        ),
    ] = None,
    tier: Annotated[
        str | None,
        typer.Option(
            "--tier", help="economy, standard, premium or local.", autocompletion=completers.complete_tier
        ),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option("--provider", help="Only this provider.", autocompletion=completers.complete_provider),
    ] = None,
    company: Annotated[str | None, typer.Option("--company", help="Only this company.")] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option(
            "--capability",
            help="Required capability (repeat).",
            autocompletion=completers.complete_capability,
        ),
    ] = None,
    min_context: Annotated[int | None, typer.Option("--min-context", help="Minimum context length.")] = None,
    max_input_cost: Annotated[
        float | None, typer.Option("--max-input-cost", help="Max USD per M input tokens.")
    ] = None,
    max_output_cost: Annotated[
        float | None, typer.Option("--max-output-cost", help="Max USD per M output tokens.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Text in id, name, description, company.")
    ] = None,
    available: Annotated[
        bool, typer.Option("--available", help="Only LLMs whose API key is set (or need none).")
    ] = False,
    include_all: Annotated[bool, typer.Option("--all", help="Include disabled and deprecated LLMs.")] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="quality, cost, speed, context, priority or id.")
    ] = "quality",
    as_json: JsonOpt = False,
) -> None:
    """List LLMs in the catalog."""
    from llmctl.catalog.query import Query, run_query

    catalog = state(ctx).catalog()
    query = Query(
        group=group,
        tier=tier,
        provider=provider,
        company=company,
        capabilities=capability or [],
        min_context=min_context,
        max_input_cost=max_input_cost,
        max_output_cost=max_output_cost,
        search=search,
        available=available,
        include_all=include_all,
        sort=sort,
    )
    found, hidden = run_query(catalog, query)
    if as_json:
        emit_json([e.to_dict() for e in found])
    else:
        _render_list(query, found, hidden)


def _render_list(query: Any, found: list[Any], hidden: int) -> None:
    from llmctl.catalog.query import hidden_reason

    columns = ["ID", "PROVIDER", "TIER", "QUALITY", "IN $/M", "OUT $/M", "CONTEXT", "GROUPS"]
    if query.include_all:
        columns.append("STATUS")
    rows = []
    for e in found:
        quality = "" if e.quality_score is None else f"{e.quality_score:g}"
        row = [
            e.id,
            e.provider,
            e.tier + ("*" if e.tier_derived else ""),
            quality,
            money(e.input_cost_per_mtok),
            money(e.output_cost_per_mtok),
            tokens(e.context_length),
            ",".join(e.valid_groups),
        ]
        if query.include_all:
            row.append(hidden_reason(e) or "")
        rows.append(row)
    footer = f"{len(found)} LLMs" + (
        f"; {hidden} disabled or deprecated hidden (--all shows them)" if hidden else ""
    )
    if any(e.tier_derived for e in found):
        footer += "; * tier derived from price"
    table(columns, rows, numeric=("QUALITY", "IN $/M", "OUT $/M", "CONTEXT"), footer=footer)


def show(
    ctx: typer.Context,
    llm: Annotated[str, typer.Argument(help="LLM id or alias.", autocompletion=completers.complete_llm)],
    as_json: JsonOpt = False,
) -> None:
    """Show everything about one LLM."""
    from llmctl.catalog.query import entry_details

    catalog = state(ctx).catalog()
    entry = catalog.get(llm)
    data = entry_details(catalog, entry)
    if as_json:
        emit_json(data)
        return
    pairs: list[tuple[str, Any]] = []
    for key, value in data.items():
        if key in (
            "tier_derived",
            "patched",
            "available",
            "missing_key",
            "unavailable",
            "status",
        ) or value in (
            None,
            [],
            {},
        ):
            continue
        if key == "tier" and entry.tier_derived:
            value = f"{value} (derived from price)"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in value.items())
        pairs.append((key, value))
    if entry.patched:
        pairs.append(("patched by user catalog", ", ".join(entry.patched)))
    pairs.append(("available", "yes" if data["available"] else f"no: {data['unavailable']}"))
    if data["status"]:
        pairs.append(("status", data["status"] + (f", use {entry.replacement}" if entry.replacement else "")))
    fields(pairs)


def _report(result: Any, as_json: bool, verb: str) -> None:
    for message in result.notes:
        note(message)
    if as_json:
        emit_json([{"target": c.target, "before": c.before, "after": c.after} for c in result.changes])
        return
    if not result.changes:
        note("nothing changed")
    for change in result.changes:
        print(f"{verb} {change.target}")


@with_entry_options
def add(
    ctx: typer.Context,
    llm_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Id of the new LLM, e.g. openai/gpt-4o.")
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="Add every entry of this catalog file.")
    ] = None,
    as_json: JsonOpt = False,
    **options: Any,
) -> None:
    """Add an LLM to your catalog (from flags, or every entry of --from-file)."""
    from llmctl.catalog.edit import add_llms

    st = state(ctx)
    result = add_llms(st.home, st.catalog_arg, st.catalog(), llm_id, entry_fields(options), from_file)
    _report(result, as_json, "added")


@with_entry_options
def edit(
    ctx: typer.Context,
    llm: Annotated[str, typer.Argument(help="LLM id or alias.", autocompletion=completers.complete_llm)],
    unset: Annotated[
        list[str] | None, typer.Option("--unset", help="Drop a field from your catalog (repeat).")
    ] = None,
    as_json: JsonOpt = False,
    **options: Any,
) -> None:
    """Change fields of an LLM (a bundled entry is patched in your catalog, field by field)."""
    from llmctl.catalog.edit import change_catalog, edit_entry
    from llmctl.errors import UsageError

    changes = entry_fields(options)
    if not changes and not unset:
        raise UsageError(
            "nothing to change: give a field option such as --priority 5", hint="llmctl edit --help"
        )
    st = state(ctx)
    _report(
        change_catalog(st.home, st.catalog_arg, "edit", edit_entry(llm, changes, unset or [])),
        as_json,
        "edited",
    )


Ids = Annotated[list[str], typer.Argument(help="LLM ids or aliases.", autocompletion=completers.complete_llm)]


def remove(ctx: typer.Context, llms: Ids, as_json: JsonOpt = False) -> None:
    """Remove LLMs from your catalog (bundled ones are disabled in your catalog instead)."""
    from llmctl.catalog.edit import change_catalog, remove_entries

    st = state(ctx)
    _report(change_catalog(st.home, st.catalog_arg, "remove", remove_entries(llms)), as_json, "removed")


def enable(ctx: typer.Context, llms: Ids, as_json: JsonOpt = False) -> None:
    """Enable LLMs."""
    from llmctl.catalog.edit import change_catalog, set_enabled

    st = state(ctx)
    _report(change_catalog(st.home, st.catalog_arg, "enable", set_enabled(llms, True)), as_json, "enabled")


def disable(ctx: typer.Context, llms: Ids, as_json: JsonOpt = False) -> None:
    """Disable LLMs (kept in the catalog, never picked)."""
    from llmctl.catalog.edit import change_catalog, set_enabled

    st = state(ctx)
    _report(change_catalog(st.home, st.catalog_arg, "disable", set_enabled(llms, False)), as_json, "disabled")
