"""`llmctl estimate`: tokens and cost before anything is sent."""

from typing import Annotated, Any

import typer

from llmctl.cli.output import emit_json, money, table, warn
from llmctl.cli.selection_options import selection_from, with_selection_options
from llmctl.cli.state import state
from llmctl.cli.vars_options import VarOpt, VarsFileOpt


@with_selection_options
def estimate(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The prompt; `-` or nothing reads stdin.")] = None,
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Longest answer.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    var: VarOpt = None,
    vars_file: VarsFileOpt = None,
    **options: Any,
) -> None:
    """Count the prompt's tokens (offline) and cost each LLM of its chain; exit 4 when none fits."""
    from llmctl.catalog.costs import estimate as estimate_chain
    from llmctl.cli.job_work import Asked, build_request
    from llmctl.engine.sender import Sender

    st = state(ctx)
    req, _rendered = build_request(st.home, options, Asked(text, system, None, max_tokens, var, vars_file))
    sender = Sender.create(st.home, st.catalog())
    plan = sender.plan(selection_from(options), req)
    for message in plan.warnings:
        warn(message)
    tokens = plan.decision.request.prompt_tokens or 1
    data = estimate_chain(plan.chain, tokens, req.max_tokens)
    if as_json:
        emit_json(data)
        return
    rows = [
        [
            s["llm"],
            money(s["input_cost"]),
            money(s["max_output_cost"]),
            money(s["worst_case_cost"]),
            "yes" if s["fits_context"] else "no",
        ]
        for s in data["chain"]
    ]
    footer = (
        f"about {data['input_tokens']} input tokens ({data['method']}); "
        f"worst case ${money(data['worst_case_cost'])} (one LLM answers)"
    )
    table(
        ["LLM", "INPUT $", "MAX OUTPUT $", "WORST CASE $", "FITS"],
        rows,
        numeric=("INPUT $", "MAX OUTPUT $", "WORST CASE $"),
        footer=footer,
    )
