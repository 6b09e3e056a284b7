"""`llmctl prompt`, `compare` and `embed`: the commands that send."""

import sys
from typing import Annotated, Any

import typer

from llmctl.cli import completers
from llmctl.cli.output import emit_json, note, warn
from llmctl.cli.selection_options import selection_from, with_selection_options
from llmctl.cli.state import state

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object at the end (no streamed text).")]
TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout", min=0.1, help="Seconds to wait for an answer.")
]


@with_selection_options
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
    timeout: TimeoutOpt = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, help="Retries per LLM (default 2).")
    ] = None,
    **options: Any,
) -> None:
    """Send a prompt to the LLM the job gets, falling back along the chain; stream the answer."""
    from llmctl.errors import AllFailedError
    from llmctl.providers.base import ChatRequest
    from llmctl.sending import Sender, estimate_tokens, messages_for, read_prompt
    from llmctl.sending import dry_run as plan

    st = state(ctx)
    req = ChatRequest(messages_for(read_prompt(text, sys.stdin), system), temperature, max_tokens)
    selection = selection_from(options)
    selection.props = {"prompt_tokens": estimate_tokens(req), **selection.props}
    sender = Sender.create(st.home, st.catalog())
    decision, warnings = sender.decide(selection)
    for message in warnings:
        warn(message)
    chain = decision.chain[:1] if no_fallback else decision.chain
    stream = not (no_stream or as_json)
    if dry_run:
        _print_plan(plan(decision, req, sender.catalog.config.providers, sender.env, stream, chain), as_json)
        return
    passed = [_skipped(sender.catalog, llm_id, why) for llm_id, why in decision.passed_over]
    job = decision.request.job.name if decision.request.job else None
    written: list[str] = []

    def out(chunk: str) -> None:
        written.append(chunk)
        sys.stdout.write(chunk)
        sys.stdout.flush()

    try:
        result = sender.send(
            chain,
            req,
            on_text=out if stream else None,
            retries=retries,
            timeout=timeout,
            book=selection.book,
            job=job,
        )
    except AllFailedError as exc:
        _report_failure(exc, passed, as_json)
        raise
    data = result.to_dict()
    data["attempts"] = passed + data["attempts"]
    if as_json:
        emit_json(data)
    else:
        if not stream:
            sys.stdout.write(result.text)
        if not ("".join(written[-1:]) or result.text).endswith("\n"):
            sys.stdout.write("\n")
    if verbose:
        _verbose(data)


def _report_failure(exc: Any, passed: list[dict[str, Any]], as_json: bool) -> None:
    """Every LLM failed: the JSON object (with --json), and the picker's skips in the report."""
    if as_json:
        emit_json(
            {
                "text": None,
                "llm": None,
                "provider": None,
                "error": exc.message,
                "attempts": passed + [a.to_dict() for a in exc.attempts],
                "usage": None,
                "cost": None,
            }
        )
    exc.more = [
        f"{p['llm']} ({p['provider']}): {p['error']} (skipped, nothing sent)" for p in passed
    ] + exc.more


def _skipped(catalog: Any, llm_id: str, why: str) -> dict[str, Any]:
    """An LLM the picker passed over (no key, cooldown...), as a `skipped` attempt: nothing was sent."""
    entry = catalog.entries.get(llm_id)
    return {
        "llm": llm_id,
        "provider": entry.provider if entry else None,
        "outcome": "skipped",
        "status": None,
        "error": why,
    }


def _verbose(data: dict[str, Any]) -> None:
    usage = data["usage"] or {}
    tried = len([a for a in data["attempts"] if a["outcome"] != "skipped"])
    cost = "?" if data["cost"] is None else f"${data['cost']:.6f}"
    before = [a for a in data["attempts"] if a["outcome"] != "ok"]
    fell_back = (
        "; fell back from "
        + ", ".join(
            f"{a['llm']} ({a['error'] if a['outcome'] == 'skipped' else a['status'] or a['error']})"
            for a in before
        )
        if before
        else ""
    )
    print(
        f"llmctl: {data['llm']} via {data['provider']}{fell_back}; attempts {tried}; tokens "
        f"{usage.get('input_tokens')} in, {usage.get('output_tokens')} out; cost {cost}; "
        f"{data['latency_ms']:.0f} ms"
        + (f" (first token {data['ttft_ms']:.0f} ms)" if data.get("ttft_ms") else ""),
        file=sys.stderr,
    )


def _print_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(plan)
        return
    tokens = plan["estimated_prompt_tokens"]
    print(f"would send to {plan['llm']} (rule {plan['rule']}); about {tokens} prompt tokens")
    for n, step in enumerate(plan["steps"], start=1):
        cost = step["worst_case_cost"]
        print(
            f"{n}. {step['llm']} ({step['provider']}, model {step['model']}); worst case "
            + ("?" if cost is None else f"${cost:.6f}")
        )
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


def compare(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The prompt.")],
    llm: Annotated[
        list[str],
        typer.Option("--llm", help="An LLM to ask (repeat).", autocompletion=completers.complete_llm),
    ],
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Longest answer.")] = None,
    timeout: TimeoutOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Send one prompt to several LLMs at once and show the answers side by side."""
    from llmctl.providers.base import ChatRequest
    from llmctl.sending import Sender, compare_llms, messages_for, read_prompt

    st = state(ctx)
    sender = Sender.create(st.home, st.catalog())
    entries = [sender.catalog.get(name) for name in dict.fromkeys(llm)]
    req = ChatRequest(messages_for(read_prompt(text, sys.stdin), system), None, max_tokens)
    answers = compare_llms(sender, entries, req, timeout=timeout)
    if as_json:
        emit_json(answers)
    else:
        _show_answers(answers)
    if all(a["error"] for a in answers):
        from llmctl.errors import LlmctlError

        raise LlmctlError("every LLM failed: " + "; ".join(f"{a['llm']}: {a['error']}" for a in answers))


def _show_answers(answers: list[dict[str, Any]]) -> None:
    from llmctl.cli.output import rich_output

    def title(a: dict[str, Any]) -> str:
        cost = "" if a["cost"] is None else f", ${a['cost']:.6f}"
        return f"{a['llm']} ({a['latency_ms']:.0f} ms{cost})"

    if rich_output():
        from rich.columns import Columns
        from rich.console import Console
        from rich.panel import Panel

        panels = [
            Panel(
                a["text"] if a["error"] is None else f"[red]{a['error']}[/red]", title=title(a), expand=True
            )
            for a in answers
        ]
        Console().print(Columns(panels, equal=True, expand=True))
        return
    for a in answers:
        print(f"== {title(a)} ==")
        print(a["text"] if a["error"] is None else f"error: {a['error']}")
        print()


def embed(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Text to embed; `-` reads stdin.")],
    llm: Annotated[
        str, typer.Option("--llm", help="An embeddings model.", autocompletion=completers.complete_llm)
    ],
    timeout: TimeoutOpt = None,
) -> None:
    """Print the embedding vector of TEXT as a JSON array."""
    import json
    import os

    from llmctl.sending import embed as embed_texts
    from llmctl.sending import read_prompt

    st = state(ctx)
    catalog = st.catalog()
    entry = catalog.get(llm)
    if "embeddings" not in entry.capabilities:
        warn(f"{entry.id} is not listed with the `embeddings` capability; trying anyway")
    content = read_prompt(text, sys.stdin)
    if not content.strip():
        from llmctl.errors import UsageError

        raise UsageError("nothing to embed: give TEXT, or pipe it on stdin")
    from llmctl.usage import UsageStore

    store = UsageStore.for_home(st.home)
    vectors, _usage = embed_texts(
        entry,
        [content],
        providers=catalog.config.providers,
        env=os.environ,
        timeout=timeout,
        record=store.record,
    )
    sys.stdout.write(json.dumps(vectors[0]) + "\n")
