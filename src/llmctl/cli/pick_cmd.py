"""`llmctl pick`: which LLM a job gets, and (with --explain) why."""

import sys
from typing import Annotated, Any

import typer

from llmctl.cli.output import emit_json, money, warn
from llmctl.cli.selection_options import selection_from, with_selection_options
from llmctl.cli.state import state


@with_selection_options
def pick(
    ctx: typer.Context,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every rule, candidate and the chain.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole decision as JSON.")] = False,
    **options: Any,
) -> None:
    """Print the id of the LLM the job gets (only the id, for $(llmctl pick ...))."""
    from llmctl.api import decide
    from llmctl.errors import NoMatchError

    st = state(ctx)
    try:
        decision, warnings = decide(
            selection_from(options), catalog=st.catalog(), home=st.home, explain=explain or as_json
        )
    except NoMatchError as exc:
        partial = exc.decision
        if partial is not None and (explain or as_json):
            for message in partial.warnings:
                warn(message)
            if as_json:
                emit_json({**partial.to_dict(), "error": exc.message})
            else:
                sys.stdout.write(render_explanation(partial))
        raise
    for message in warnings:
        warn(message)
    if as_json:
        emit_json(decision.to_dict())
    elif explain:
        sys.stdout.write(render_explanation(decision))
        sys.stdout.write(render_budgets(_budgets(st)))
    else:
        print(decision.llm.id)


def _budgets(st: Any) -> list[dict[str, Any]]:
    if not st.catalog().config.budgets:
        return []
    from llmctl.engine.sender import Sender

    ledger = Sender.create(st.home, st.catalog()).ledger()
    return ledger.state() if ledger is not None else []


def render_explanation(decision: Any) -> str:
    """The decision trace as plain text: rules, sources, candidates, chain, winner."""
    req = decision.request
    lines = []
    what = [
        f"job {req.job.name}" if req.job else None,
        f"book {req.book.name}" if req.book else None,
        f"group {req.group}" if req.group else None,
        f"tier {req.tier}" if req.tier else None,
    ]
    lines.append(
        f"pick: {', '.join(w for w in what if w) or 'no book, job, group or tier'}; "
        f"strategy {decision.strategy}; scope {req.scope}"
    )
    if req.sources:
        lines.append("where the values came from:")
        lines += [f"  {key:<12} {value}" for key, value in req.sources.items()]
    lines.append("rules:")
    for n, step in enumerate(decision.trace, start=1):
        status = "applied" if step.applied else "skipped"
        source = f"  [{step.source}]" if step.source else ""
        lines.append(f"  {n}. {step.rule:<14} {status:<8} {step.note}{source}")
    lines += _candidate_lines(decision)
    if decision.llm is None:
        lines.append("fallback chain: none; nothing fits")
        return "\n".join(lines) + "\n"
    ceiling = "any tier (--allow-upgrade)" if req.allow_upgrade else f"no tier above {decision.llm.tier}"
    lines.append(f"fallback chain ({len(decision.chain)} of at most {req.max_attempts}; {ceiling}):")
    basis = f"a {req.prompt_tokens}-token prompt" if req.prompt_tokens else "a full context"
    from llmctl.catalog.costs import worst_case_cost

    for n, e in enumerate(decision.chain, start=1):
        cost = worst_case_cost(e, req.prompt_tokens)
        lines.append(
            f"  {n}. {e.id:<40} {e.tier:<9} in ${money(e.input_cost_per_mtok)}/M "
            f"out ${money(e.output_cost_per_mtok)}/M  worst case ${money(cost)} ({basis})"
        )
    if decision.routes is not None:
        lines.append(f"deployments ({decision.routes.strategy}): {decision.routes.explain()}")
    lines.append(f"chosen: {decision.llm.id} (rule {decision.rule})")
    return "\n".join(lines) + "\n"


def render_budgets(rows: list[dict[str, Any]]) -> str:
    """Each budget's state, for --explain."""
    if not rows:
        return ""
    lines = ["budgets:"]
    for r in rows:
        lines.append(
            f"  {r['target']:<20} ${money(r['spent'])} spent + ${money(r['reserved'])} reserved of "
            f"${money(r['limit'])} ({r['period']}); ${money(r['remaining'])} left"
        )
    return "\n".join(lines) + "\n"


def _candidate_lines(decision: Any) -> list[str]:
    shown, hidden = decision.considered()
    lines = [f"candidates ({len(shown)} considered):"]
    for e, why in shown:
        mark = "ok  " if why is None else "skip"
        quality = "-" if e.quality_score is None else f"{e.quality_score:g}"
        lines.append(f"  {mark} {e.id:<40} q {quality:<4} {e.tier:<9} {why or ''}".rstrip())
    if hidden:
        lines.append(f"  ({hidden} others not in the group or tier; --json lists them)")
    return lines
