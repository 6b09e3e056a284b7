"""`llmctl providers list|check`: how each provider is reached, and whether it answers."""

from typing import Annotated

import typer

from llmctl.cli import completers
from llmctl.cli.output import emit_json, note, table
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False, help="Providers: base URLs, key variables, reachability.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("list")
def list_providers(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the providers: protocol, base URL (and where it came from), key variable and whether it is set."""
    from llmctl.providers.resolve import describe
    from llmctl.providers.table import provider_names

    providers = state(ctx).catalog().config.providers
    rows = [describe(name, providers) for name in provider_names(providers)]
    if as_json:
        emit_json(rows)
        return
    table(
        ["PROVIDER", "KIND", "BASE URL", "FROM", "KEY", "KEY SET"],
        [
            [
                r["provider"],
                r["kind"],
                r["base_url"] or "-",
                r["base_url_source"],
                r["key_env"] or "-",
                "yes" if r["key_set"] else ("not needed" if not r["key_env"] else "no"),
            ]
            for r in rows
        ],
    )


@app.command("check")
def check(
    ctx: typer.Context,
    provider: Annotated[
        list[str] | None,
        typer.Argument(
            help="Providers (default: those with a key set, and local ones).",
            autocompletion=completers.complete_provider,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per provider.")] = 5.0,
    as_json: JsonOpt = False,
) -> None:
    """Call each provider's model list with a short timeout: reachable, auth ok, latency."""
    import os

    from llmctl.engine.http import make_client
    from llmctl.engine.probes import check as run_checks
    from llmctl.engine.probes import default_check_targets

    catalog = state(ctx).catalog()
    providers = catalog.config.providers
    used = {e.provider for e in catalog if e.enabled}
    names = provider or default_check_targets(providers, used, os.environ)
    if not provider:
        from llmctl.providers.resolve import describe
        from llmctl.providers.table import provider_names

        unset = [
            d
            for d in (describe(n, providers) for n in provider_names(providers))
            if d["provider"] not in names
        ]
        if unset:
            note(
                "not checked (no key set): "
                + ", ".join(
                    f"{d['provider']} ({d['key_env']})" if d["key_env"] else d["provider"] for d in unset
                )
            )
    with make_client() as client:
        reports = run_checks(names, providers, client, timeout)
    if as_json:
        emit_json(reports)
    else:
        table(
            ["PROVIDER", "REACHABLE", "AUTH", "LATENCY MS", "MODELS", "ERROR"],
            [
                [
                    r["provider"],
                    "yes" if r["reachable"] else "no",
                    {True: "ok", False: "refused", None: "-"}[r["auth_ok"]],
                    r["latency_ms"] or "-",
                    r["models"] if r["models"] is not None else "-",
                    r["error"] or "",
                ]
                for r in reports
            ],
            numeric=("LATENCY MS", "MODELS"),
        )
    if not all(r["ok"] for r in reports):
        raise typer.Exit(1)
