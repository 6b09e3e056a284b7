"""`llmctl prompt`: send a prompt down the chain the job gets, streaming the answer."""

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from llmctl.cli.output import emit_json, money, note, warn
from llmctl.cli.selection_options import (
    selection_from,
    send_options_from,
    with_selection_options,
    with_send_options,
)
from llmctl.cli.state import state
from llmctl.cli.vars_options import VarOpt, VarsFileOpt

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object at the end (no streamed text).")]


@with_selection_options
@with_send_options
def prompt(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The prompt; `-` or nothing reads stdin.")] = None,
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", min=0, max=2, help="Sampling temperature.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Longest answer.")] = None,
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Wait for the whole answer.")] = False,
    no_fallback: Annotated[bool, typer.Option("--no-fallback", help="Try only the chosen LLM.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the chain and request; send nothing.")
    ] = False,
    as_json: JsonOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Model, tokens, cost on stderr.")] = False,
    var: VarOpt = None,
    vars_file: VarsFileOpt = None,
    json_schema: Annotated[
        Path | None,
        typer.Option("--json-schema", metavar="FILE", help="Ask for JSON checked against this JSON Schema."),
    ] = None,
    **options: Any,
) -> None:
    """Send a prompt to the LLM the job gets, falling back along the chain; stream the answer."""
    from llmctl.cli.job_work import Asked, build_request, json_selection, rendered_view
    from llmctl.cli.signals import sigterm_as_interrupt
    from llmctl.engine.router import checked_texts
    from llmctl.engine.sender import Sender
    from llmctl.errors import NoMatchError

    st = state(ctx)
    sending = send_options_from(options, no_fallback=no_fallback)
    asked = Asked(text, system, temperature, max_tokens, var, vars_file, json_schema)
    req, rendered = build_request(st.home, options, asked)
    checked_texts(req)  # text that is not Unicode is refused at once (exit 2)
    sender = Sender.create(st.home, st.catalog(), simulate=sending.simulate)
    try:
        selection = json_selection(selection_from(options), req)
        plan = sender.plan(selection, req, no_fallback=sending.no_fallback, explain=as_json)
    except NoMatchError as exc:
        if as_json:
            candidates = exc.decision.to_dict()["candidates"] if exc.decision is not None else []
            emit_json({**_failure(exc.message), "candidates": candidates})
        raise
    plan.template_hash = rendered.template_hash if rendered is not None else None
    for message in plan.warnings:
        warn(message)
    stream = not (no_stream or as_json or req.wants_json)  # a JSON answer is checked whole first
    if dry_run:
        shown, failure = sender.dry_run(plan, req, sending, stream=stream)
        _print_plan({**shown, **rendered_view(rendered)}, as_json)
        if failure is not None:  # the real run would send nothing: it exits as that run would
            raise failure
        return
    with sigterm_as_interrupt():  # SIGTERM: the attempt is recorded, exit 143
        _send(sender, plan, req, sending, stream=stream, as_json=as_json, verbose=verbose)


def _send(
    sender: Any, plan: Any, req: Any, sending: Any, *, stream: bool, as_json: bool, verbose: bool
) -> None:
    """Send the planned prompt as `sending` (SendOptions) says, streaming its answer unless
    `as_json`; print the result."""
    from llmctl.errors import AllFailedError, NoMatchError, StreamInterrupted

    written: list[str] = []

    def out(chunk: str) -> None:
        written.append(chunk)
        sys.stdout.write(chunk)
        sys.stdout.flush()

    try:
        result = sender.execute(plan, req, sending, on_text=out if stream else None)
    except StreamInterrupted:
        if written and not written[-1].endswith("\n") and sys.stdout.isatty():
            sys.stdout.write(
                "\n"
            )  # on a terminal the error starts on a line of its own; piped, bytes stay as sent
        raise
    except AllFailedError as exc:
        if as_json:
            emit_json(_failure(exc.message, exc.attempts))
        raise
    except NoMatchError as exc:  # budgets or --max-cost let no LLM be paid for
        if as_json:
            emit_json(_failure(exc.message))
        raise
    from llmctl.cli.job_work import answer_data
    from llmctl.engine.answers import PROMPT, answer_json

    data = {**answer_json(PROMPT, result), **answer_data(req, result.text)}
    if as_json:
        emit_json(data)
    else:
        if not stream:
            sys.stdout.write(result.text)
        if not ("".join(written[-1:]) or result.text).endswith("\n"):
            sys.stdout.write("\n")
    if verbose:
        _verbose(data, req)


def _failure(message: str, attempts: Any = ()) -> Any:
    """The `prompt --json` object when nothing answered."""
    from llmctl.engine.answers import PROMPT_FAILED, answer_json

    return answer_json(PROMPT_FAILED, error=message, attempts=attempts)


def _verbose(data: Mapping[str, Any], req: Any) -> None:
    usage = data["usage"] or {}
    # Counts the provider did not report are estimated, and marked with ~.
    mark = "~" if usage.get("estimated") else ""
    shown_in, shown_out = f"{mark}{usage.get('input_tokens')}", f"{mark}{usage.get('output_tokens')}"
    tried = [a for a in data["attempts"] if a["tries"]]
    print(
        f"llmctl: {data['llm']} via {data['provider']}{_route(data)}; attempts {len(tried)}; tokens "
        f"{shown_in} in, {shown_out} out; cost ${money(data['cost'])}; "
        f"{data['latency_ms']:.0f} ms"
        + (f" (first token {data['ttft_ms']:.0f} ms)" if data.get("ttft_ms") else ""),
        file=sys.stderr,
    )


def _route(data: Mapping[str, Any]) -> str:
    """How the answer was reached: the LLMs skipped before sending (with why), those
    tried that failed ("fell back from"), and whether the cache answered."""
    from llmctl.engine.records import Outcome

    attempts = data["attempts"]
    skipped = [f"{a['llm']} ({a['error']})" for a in attempts if a["outcome"] == Outcome.SKIPPED]
    failed = [
        f"{a['llm']} ({a['status'] or a['error'] or a['outcome']})"
        for a in attempts
        if a["tries"] and a["outcome"] not in (Outcome.OK, Outcome.SKIPPED)
    ]
    parts = []
    if skipped:
        parts.append("skipped " + ", ".join(skipped))
    if failed:
        parts.append("fell back from " + ", ".join(failed))
    if data.get("cached"):
        parts.append("answered from the cache (nothing sent, no cost)")
    return "".join(f"; {part}" for part in parts)


def _print_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(plan)
        return
    tokens = plan["estimated_prompt_tokens"]
    print(f"would send to {plan['llm']} (rule {plan['rule']}); about {tokens} prompt tokens")
    for skip in plan.get("passed_over", []):
        print(f"   skipped before the chain: {skip['llm']} ({skip['reason']})")
    for n, step in enumerate(plan["steps"], start=1):
        cost = step["worst_case_cost"]
        print(f"{n}. {step['llm']} ({step['provider']}, model {step['model']}); worst case ${money(cost)}")
        if "skipped" in step:
            print(f"   skipped: {step['skipped']}")
        if "request" not in step:
            continue
        request = step["request"]
        query = "&".join(f"{k}={v}" for k, v in request["params"].items())
        print(f"   {request['method']} {request['url']}" + (f"?{query}" if query else ""))
        for key, value in request["headers"].items():
            print(f"   {key}: {value}")
        import json

        print("   " + json.dumps(request["json"], ensure_ascii=False))
    note("dry run: nothing was sent")
