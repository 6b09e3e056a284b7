"""`llmctl deployment list|add|edit|remove`: the ways each LLM is reached.

add, edit and remove are the same locked, audited writes to your catalog as `llmctl edit`
(`llmctl.catalog.edit`); list reads the catalog, the keys in the environment, the
cooldown state and the last hour of the usage store, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmctl.cli import completers
from llmctl.cli.output import emit_json, note, table
from llmctl.cli.state import state

if TYPE_CHECKING:
    from llmctl.catalog.entry import LLM, Deployment
    from llmctl.engine.cooldown import Cooldown
    from llmctl.paths import Home

app = typer.Typer(
    add_completion=False,
    help="The ways each LLM is reached: providers and keys, weights and failover order.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LlmArg = Annotated[str, typer.Argument(help="LLM id or alias.", autocompletion=completers.complete_llm)]
DeploymentArg = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="Deployment id (e.g. openai, azure-eu).",
        autocompletion=completers.complete_deployment,
    ),
]
Provider = Annotated[
    str | None,
    typer.Option("--provider", help="Provider it is sent to.", autocompletion=completers.complete_provider),
]
Model = Annotated[
    str | None, typer.Option("--model", help="Provider-side model name (default: from the id).")
]
KeyEnv = Annotated[
    str | None, typer.Option("--api-key-env", help="Env var holding its API key (never the key itself).")
]
ApiBase = Annotated[str | None, typer.Option("--api-base", help="Endpoint URL, when not the provider's.")]
Weight = Annotated[
    float | None,
    typer.Option("--weight", help="Share of its order group's traffic (default 1; 0 = standby)."),
]
Order = Annotated[int | None, typer.Option("--order", help="Failover group: lowest first (default 1).")]
InputCost = Annotated[
    float | None, typer.Option("--input-cost", help="Its USD per million input tokens, if not the LLM's.")
]
OutputCost = Annotated[
    float | None, typer.Option("--output-cost", help="Its USD per million output tokens, if not the LLM's.")
]
WINDOW = dt.timedelta(hours=1)  # requests and median latency are over the last hour


def _fields(**options: Any) -> dict[str, Any]:
    """The deployment fields the options give (options left out are not included)."""
    names = {"input_cost": "input_cost_per_mtok", "output_cost": "output_cost_per_mtok"}
    out = {names.get(k, k): v for k, v in options.items() if v is not None and k != "api_key_env"}
    if options.get("api_key_env") is not None:
        out["auth"] = {"api_key_env": options["api_key_env"]}
    return out


def _report(result: Any, as_json: bool, verb: str, what: str) -> None:
    for message in result.notes:
        note(message)
    if as_json:
        emit_json([{"target": c.target, "before": c.before, "after": c.after} for c in result.changes])
    elif not result.changes:
        note("nothing changed")
    else:
        print(f"{verb} {what}")


@app.command("add")
def add(
    ctx: typer.Context,
    llm: LlmArg,
    dep_id: Annotated[str, typer.Option("--id", help="Its id, unique within the LLM (e.g. azure-eu).")],
    provider: Provider = None,
    model: Model = None,
    api_key_env: KeyEnv = None,
    api_base: ApiBase = None,
    weight: Weight = None,
    order: Order = None,
    input_cost: InputCost = None,
    output_cost: OutputCost = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a way to reach an LLM (an LLM without deployments first gets its own one written out)."""
    from llmctl.catalog.edit import add_deployment, change_catalog

    fields = _fields(
        id=dep_id,
        provider=provider,
        model=model,
        api_key_env=api_key_env,
        api_base=api_base,
        weight=weight,
        order=order,
        input_cost=input_cost,
        output_cost=output_cost,
        enabled=False if disabled else None,
    )
    st = state(ctx)
    result = change_catalog(st.home, st.catalog_arg, "deployment", add_deployment(llm, fields))
    _report(result, as_json, "added", _target(result, llm, dep_id))


@app.command("edit")
def edit(
    ctx: typer.Context,
    llm: LlmArg,
    dep_id: DeploymentArg,
    provider: Provider = None,
    model: Model = None,
    api_key_env: KeyEnv = None,
    api_base: ApiBase = None,
    weight: Weight = None,
    order: Order = None,
    input_cost: InputCost = None,
    output_cost: OutputCost = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="Switch it on or off.", show_default=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields of one deployment of an LLM."""
    from llmctl.catalog.edit import change_catalog, edit_deployment
    from llmctl.errors import UsageError

    fields = _fields(
        provider=provider,
        model=model,
        api_key_env=api_key_env,
        api_base=api_base,
        weight=weight,
        order=order,
        input_cost=input_cost,
        output_cost=output_cost,
        enabled=enabled,
    )
    if not fields:
        raise UsageError("nothing to change: give a field option such as --weight 2")
    st = state(ctx)
    result = change_catalog(st.home, st.catalog_arg, "deployment", edit_deployment(llm, dep_id, fields))
    _report(result, as_json, "edited", _target(result, llm, dep_id))


@app.command("remove")
def remove(ctx: typer.Context, llm: LlmArg, dep_id: DeploymentArg, as_json: JsonOpt = False) -> None:
    """Remove one deployment of an LLM (never its last one)."""
    from llmctl.catalog.edit import change_catalog, remove_deployment

    st = state(ctx)
    result = change_catalog(st.home, st.catalog_arg, "deployment", remove_deployment(llm, dep_id))
    _report(result, as_json, "removed", _target(result, llm, dep_id))


def _target(result: Any, llm: str, dep_id: str) -> str:
    """`LLM@ID` with the LLM's full id (the one the change was recorded under)."""
    return f"{result.changes[0].target if result.changes else llm}@{dep_id}"


@app.command("list")
def list_deployments(
    ctx: typer.Context,
    llm: Annotated[
        str | None,
        typer.Argument(help="Only this LLM (id or alias).", autocompletion=completers.complete_llm),
    ] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include the deployments of disabled and deprecated LLMs.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Every deployment, with its weight, order, key, cooldown, and the last hour's requests.

    Without an LLM: the deployments of every LLM `llmctl list` shows (with --all, of every
    LLM), an LLM's implicit one (its own provider, when it writes no deployments) too.
    """
    from llmctl.catalog.query import hidden_reason

    st = state(ctx)
    catalog = st.catalog()
    if llm is not None:
        entries = [catalog.get(llm)]  # unknown: exit 2 with the closest ids
    else:
        entries = [e for e in catalog if include_all or not hidden_reason(e)]
    rows = deployment_rows(st.home, catalog.config.providers, sorted(entries, key=lambda e: e.id))
    if as_json:
        emit_json(rows)
    else:
        _render(rows, len(entries))


def deployment_rows(home: Home, providers: Any, entries: list[LLM]) -> list[dict[str, Any]]:
    """One row per deployment of `entries`, in their order (the `deployment list --json`
    shape). Raises FileError when the usage store cannot be read."""
    from llmctl.engine.cooldown import Cooldown

    cooldown = Cooldown.for_home(home, providers)
    cooling = {r["key"]: r["until"] for r in cooldown.listing() if r["until"]}
    usage = _last_hour(home, entries)
    rows = []
    for entry in entries:
        for n, deployment in enumerate(entry.routes()):
            counts, latencies = usage.get((entry.id, deployment.id), (0, []))
            rows.append(
                {
                    "llm": entry.id,
                    "id": deployment.id,
                    "provider": deployment.provider,
                    "weight": deployment.weight,
                    "order": deployment.order,
                    **_key_state(entry, deployment, providers),
                    "cooling_until": _cooling_until(cooling, cooldown, entry, deployment),
                    "requests_1h": counts,
                    "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
                    "enabled": deployment.enabled,
                    "implicit": not entry.deployments,
                    "first": n == 0,
                }
            )
    return rows


def _key_state(entry: LLM, deployment: Deployment, providers: Any) -> dict[str, Any]:
    """`key_env`, `key_set` (set, a key command given, or none needed) and `unusable`
    (why it cannot be sent to from here, or None), as the one resolver answers them."""
    from llmctl.providers import resolve

    routed = entry.via(deployment)
    name = resolve.key_env(routed, providers)
    key_set = name is None or bool(os.environ.get(name)) or bool(resolve.key_cmd(routed, providers))
    return {"key_env": name, "key_set": key_set, "unusable": resolve.why_unusable(routed, providers)}


def _cooling_until(
    cooling: dict[str, str], cooldown: Cooldown, entry: LLM, deployment: Deployment
) -> str | None:
    """The latest end (ISO, UTC) of the cooldowns that hold this deployment back: its own
    (`deployment:LLM@ID`), the LLM's, its endpoint's and its key's; None when none does."""
    from llmctl.providers import resolve

    if not cooling:
        return None
    routed = entry.via(deployment)
    keys = [f"deployment:{entry.id}@{deployment.id}", *cooldown.keys_for(routed)]
    name = resolve.key_env(routed, cooldown.providers)
    if name:
        keys.append(f"key:{name}")
    ends = [cooling[k] for k in keys if k in cooling]
    return max(ends) if ends else None


def _last_hour(home: Home, entries: list[LLM]) -> dict[tuple[str, str], tuple[int, list[float]]]:
    """(requests sent, latencies in ms of the answered ones) over the last hour by (LLM,
    deployment id). A store whose rows name no deployment counts a row against the LLM's
    first deployment on the row's provider: the one such a row was sent through."""
    from llmctl.engine.usage import UsageStore

    store = UsageStore.for_home(home)
    try:
        columns = {r["name"] for r in store.query("PRAGMA table_info(attempts)")}
        if not columns:
            return {}
        since = (dt.datetime.now(dt.UTC) - WINDOW).isoformat(timespec="milliseconds")
        deployment = "deployment" if "deployment" in columns else "NULL"
        rows = store.read(
            f"SELECT llm, provider, {deployment}, outcome, latency_ms FROM attempts "
            "WHERE time >= ? AND outcome IN ('ok', 'error', 'interrupted')",
            (since,),
        )
    finally:
        store.close()
    by_provider = {
        (e.id, d.provider): d.id for e in entries for d in reversed(e.routes())
    }  # reversed: the first deployment on a provider wins
    out: dict[tuple[str, str], tuple[int, list[float]]] = {}
    for llm, provider, dep_id, outcome, latency in rows:
        key = (llm, dep_id or by_provider.get((llm, provider), ""))
        count, latencies = out.get(key, (0, []))
        if outcome == "ok" and isinstance(latency, int | float):
            latencies.append(float(latency))
        out[key] = (count + 1, latencies)
    return out


def _render(rows: list[dict[str, Any]], llms: int) -> None:
    table(
        ["LLM", "DEPLOYMENT", "PROVIDER", "WEIGHT", "ORDER", "KEY", "COOLING UNTIL", "REQ 1H", "P50 MS"],
        [
            [
                r["llm"],
                r["id"] + ("*" if r["implicit"] else "") + ("" if r["enabled"] else " (disabled)"),
                r["provider"],
                f"{r['weight']:g}" + (" (standby)" if r["weight"] == 0 else ""),
                r["order"],
                _key_text(r),
                r["cooling_until"] or "-",
                r["requests_1h"],
                "-" if r["p50_ms"] is None else f"{r['p50_ms']:g}",
            ]
            for r in rows
        ],
        numeric=("WEIGHT", "ORDER", "REQ 1H", "P50 MS"),
        footer=f"{len(rows)} deployments of {llms} LLMs"
        + (
            "; * implicit: the LLM's own provider (it writes no deployments)"
            if any(r["implicit"] for r in rows)
            else ""
        ),
    )


def _key_text(row: dict[str, Any]) -> str:
    if row["key_env"] is None:
        return "none needed" if row["unusable"] is None else "no key known"
    return f"{row['key_env']} {'set' if row['key_set'] else 'unset'}"
