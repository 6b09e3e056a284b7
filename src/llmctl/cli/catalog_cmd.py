"""`llmctl catalog validate|import|export|init|path`."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from llmctl.cli.output import emit_json, fields, note
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False, help="Validate, import, export and locate catalogs.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
OnlyKnownOpt = Annotated[
    bool, typer.Option("--only-known", help="Update entries already in the catalog; add none.")
]


@app.command("validate")
def validate(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None, typer.Argument(help="Catalog files (default: the catalog in use).")
    ] = None,
    overlay: Annotated[
        bool, typer.Option("--overlay", help="Check FILEs as overlays of the base catalog.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check catalog files; exit 3 naming file, line, entry and field of each problem."""
    from llmctl.catalog.checks import validate_files

    st = state(ctx)
    reports = validate_files(st.home, st.catalog_arg, files or [], overlay=overlay)
    if as_json:
        emit_json([r.to_dict() for r in reports])
    else:
        for report in reports:
            if report.ok:
                print(f"ok  {report.path}  ({report.entries} entries)")
            else:
                for problem in report.problems:
                    print(f"llmctl: error: {problem}", file=sys.stderr)
    if not all(r.ok for r in reports):
        raise typer.Exit(3)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="LiteLLM, OpenRouter, models.dev, seed or llmctl catalog file.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="litellm, openrouter, modelsdev, seed or llmctl (default: detected)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="DATE", help="When the file's figures were true (default: its date)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite fields checked after --as-of too.")
    ] = False,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Group for new entries (repeat).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    only_known: OnlyKnownOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import models into your catalog: new ones are added, known ones get fresh prices and limits."""
    from llmctl.catalog.refresh import import_file

    st = state(ctx)
    summary = import_file(
        st.home,
        st.catalog_arg,
        st.catalog(),
        file,
        fmt,
        group or [],
        dry_run=dry_run,
        as_of=as_of,
        force=force,
        only_known=only_known,
    )
    _print_summary(summary, dry_run, as_json)


def _print_summary(summary: dict, dry_run: bool, as_json: bool) -> None:
    if as_json:
        emit_json(summary)
        return
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(summary["skipped"].items())) or "none"
    fixed = ", ".join(f"{n} {why}" for why, n in sorted(summary["fixed"].items()))
    if dry_run:
        print(
            f"would import {summary['read']} {summary['format']} entries (as of {summary['as_of']}): "
            f"{summary['new']} new, {summary['existing']} already in the catalog; skipped: {skipped}"
        )
    else:
        kept = f", {summary['kept_newer']} fields kept newer" if summary["kept_newer"] else ""
        print(
            f"imported {summary['read']} {summary['format']} entries (as of {summary['as_of']}) into "
            f"{summary['file']}: {summary['added']} added, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged{kept}; skipped: {skipped}"
        )
    if fixed:
        print(f"corrected on the way: {fixed}")


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="json, toml or yaml.")] = "json",
) -> None:
    """Print the merged catalog (base plus your changes) as one complete catalog file."""
    from llmctl.errors import UnknownNameError
    from llmctl.files.io import dump_text

    if fmt not in ("json", "toml", "yaml"):
        raise UnknownNameError("format", fmt, ("json", "toml", "yaml"))
    catalog = state(ctx).catalog()
    data = {"llms": [e.to_catalog_dict() for e in catalog]}
    sys.stdout.write(dump_text(Path(f"catalog.{fmt}"), data))


@app.command("init")
def init(
    ctx: typer.Context,
    from_env: Annotated[
        bool, typer.Option("--from-env", help="Use the providers whose key env vars are set.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set up the tier mapping (economy/standard/premium/local) for the providers you have keys for."""
    from llmctl.catalog.tiermap import init_from_env
    from llmctl.errors import UsageError

    if not from_env:
        raise UsageError("say where to start from: `llmctl catalog init --from-env`")
    st = state(ctx)
    plan, result = init_from_env(st.home, st.catalog_arg, st.catalog())
    if as_json:
        emit_json(
            {
                "providers": sorted({p for p, *_ in plan}),
                "tiers": [{"provider": p, "tier": t, "llm": i, "note": n} for p, t, i, n in plan],
                "changed": [c.target for c in result.changes] if result else [],
            }
        )
        return
    if not plan:
        note(
            "no provider key is set (OPENAI_API_KEY, ANTHROPIC_API_KEY, GROQ_API_KEY) and OLLAMA_BASE_URL "
            "is unset: nothing to set up"
        )
        return
    for provider, tier, llm_id, why in plan:
        print(f"{tier:<9} {provider:<10} {llm_id}" + (f"  ({why})" if why else ""))
    if result is not None:
        note(f"{len(result.changes)} entries changed in {result.path}")


@app.command("diff")
def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="A catalog file, `bundled` or `merged`.")],
    new: Annotated[str, typer.Argument(help="A catalog file, `bundled` or `merged`.")],
    as_json: JsonOpt = False,
) -> None:
    """Show what changed between two catalogs: added, removed, prices (with %), limits, deprecations.

    Against a source file, entries are matched as an import would match them, and only
    what an import would set is compared."""
    from llmctl.catalog.diff import catalog_side, describe_change, describe_retirement, diff_catalogs

    st = state(ctx)
    result = diff_catalogs(
        catalog_side(old, st.home, st.catalog_arg), catalog_side(new, st.home, st.catalog_arg)
    )
    if as_json:
        emit_json(result)
        return
    for word in ("added", "removed"):
        if result[word]:
            print(f"{word} ({len(result[word])}): " + ", ".join(result[word]))
    by_id: dict[str, list[str]] = {}
    for change in result["changed"]:
        by_id.setdefault(change["id"], []).append(describe_change(change))
    if by_id:
        print(f"changed ({len(by_id)}):")
        for llm_id, lines in by_id.items():
            print(f"  {llm_id}: " + "; ".join(lines))
    if result["retirements"]:
        print(f"retirements ({len(result['retirements'])}):")
        for item in result["retirements"]:
            print("  " + describe_retirement(item))
    if not (result["added"] or result["removed"] or by_id):
        note("no differences")


@app.command("path")
def path(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Print where llmctl reads and writes its files."""
    from llmctl.catalog.load import base_catalog_path

    st = state(ctx)
    home = st.home
    pairs = [
        ("base catalog", str(base_catalog_path(st.catalog_arg))),
        ("user catalog", str(home.user_catalog_for_writing())),
        ("config", str(home.config_file)),
        ("jobs", str(home.jobs_file)),
        ("books", str(home.books_dir)),
        ("audit", str(home.audit_file)),
        ("data", str(home.data_dir)),
        ("cache", str(home.cache_dir)),
    ]
    if as_json:
        emit_json({name.replace(" ", "_"): value for name, value in pairs})
    else:
        fields(pairs)


@app.command("sync")
def sync(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(help="Provider whose model list to read.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait.")] = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Read a provider's model list: add new models (disabled, no groups), refresh prices and
    context, flag models that vanished as deprecated."""
    from llmctl.catalog.refresh import sync_provider
    from llmctl.engine.http import make_client
    from llmctl.engine.probes import fetch_models

    st = state(ctx)
    catalog = st.catalog()
    with make_client() as client:
        listed = fetch_models(provider, catalog.config.providers, client, timeout)
    plan = sync_provider(st.home, st.catalog_arg, catalog, provider, listed, dry_run=dry_run)
    if as_json:
        emit_json({"provider": provider, "listed": len(listed), "dry_run": dry_run, "changes": plan})
        return
    for step in plan:
        details = ", ".join(
            f"{k}={v if isinstance(v, str) else json.dumps(v)}"
            for k, v in step["changes"].items()
            if k not in ("id", "provider")
        )
        print(
            f"{'would ' if dry_run else ''}{step['action']} {step['id']}"
            + (f": {details}" if details else "")
        )
    note(f"{provider} lists {len(listed)} models; {len(plan)} changes" + (" (dry run)" if dry_run else ""))


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """How old the catalog's figures are, what is retired or retiring and still in use, and
    the command that refreshes them."""
    from llmctl.catalog.status import WARN_DAYS, catalog_status, named_in_books

    st = state(ctx)
    catalog = st.catalog()
    named = named_in_books(st.home, catalog)
    report = catalog_status(catalog, named)
    if as_json:
        emit_json(report)
        return
    for src in report["sources"]:
        dates = src["oldest"] if src["oldest"] == src["newest"] else f"{src['oldest']} to {src['newest']}"
        print(f"{src['source']:<12} {src['entries']:>4} entries  checked {dates or 'never'}")
    if report["stale_days"] is not None:
        print(f"the oldest figures are {report['stale_days']} days old")
    for llm_id in report["retired"]:
        entry = catalog.entries[llm_id]
        print(
            f"retired   {llm_id}: retired on {entry.deprecation_date}"
            + _use(entry.replacement)
            + _where(entry, named)
        )
    for item in report["retiring"]:
        entry = catalog.entries[item["id"]]
        print(
            f"retiring  {item['id']}: retires on {item['date']}"
            + _use(item["replacement"])
            + _where(entry, named)
        )
    if not (report["retired"] or report["retiring"]):
        print(f"no entry in use is retired or retires within {WARN_DAYS} days")
    print("refresh: " + " | ".join(report["refresh"]))


def _use(replacement: str | None) -> str:
    return f"; use {replacement}" if replacement else ""


def _where(entry, named: dict[str, list[str]]) -> str:
    places = (["enabled"] if entry.enabled else []) + [f"book {b}" for b in named.get(entry.id, [])]
    return f"  ({', '.join(places)})"


@app.command("update")
def update(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="openrouter, modelsdev or litellm.")],
    url: Annotated[
        str | None, typer.Option("--url", help="Read the list from this address instead (a mirror).")
    ] = None,
    only_known: OnlyKnownOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds the download may take.")
    ] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Download a public model list and import it with every import rule: nothing changes
    unless the whole download is read."""
    import datetime as dt

    from llmctl.catalog.formats import UPDATE_URLS, parse_download
    from llmctl.catalog.refresh import apply_import
    from llmctl.errors import UnknownNameError
    from llmctl.providers.table import provider_names

    if source not in UPDATE_URLS:
        raise UnknownNameError(
            "source", source, tuple(UPDATE_URLS), hint="sources: " + ", ".join(UPDATE_URLS)
        )
    st = state(ctx)
    catalog = st.catalog()
    address = url or UPDATE_URLS[source]
    body = _download(source, address, timeout, quiet=as_json)
    imported = parse_download(body, source, address, provider_names(catalog.config.providers))
    as_of = dt.datetime.now(dt.UTC).date().isoformat()  # the figures are the list's as of now
    summary = apply_import(
        st.home, st.catalog_arg, catalog, imported, [],
        as_of=as_of, dry_run=dry_run, only_known=only_known, verb="update",
    )  # fmt: skip
    summary["url"] = address
    _print_summary(summary, dry_run, as_json)


# The size cap of a download; tests make it small.
MAX_DOWNLOAD: int | None = None


def _download(source: str, url: str, timeout: float, *, quiet: bool) -> bytes:
    """The list at `url`, with a progress bar on a terminal. Raises LlmctlError (exit 1)."""
    from llmctl.engine.http import make_client
    from llmctl.engine.probes import MAX_DOWNLOAD as CAP
    from llmctl.engine.probes import download

    cap = MAX_DOWNLOAD or CAP
    if quiet or not sys.stderr.isatty():
        with make_client() as client:
            return download(url, client, label=source, timeout=timeout, max_bytes=cap)
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(),
                  console=Console(stderr=True), transient=True) as bar:  # fmt: skip
        task = bar.add_task(f"{source}", total=None)

        def advance(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        with make_client() as client:
            return download(url, client, label=source, timeout=timeout, max_bytes=cap, progress=advance)
