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
    from llmctl.engine.sender import Sender
    from llmctl.errors import AllFailedError
    from llmctl.providers.wire import ChatRequest, messages_for

    st = state(ctx)
    req = ChatRequest(messages_for(read_prompt(text, sys.stdin), system), temperature, max_tokens)
    sender = Sender.create(st.home, st.catalog())
    plan = sender.plan(selection_from(options), req, no_fallback=no_fallback)
    for message in plan.warnings:
        warn(message)
    stream = not (no_stream or as_json)
    if dry_run:
        _print_plan(sender.dry_run(plan, req, stream=stream), as_json)
        return
    written: list[str] = []

    def out(chunk: str) -> None:
        written.append(chunk)
        sys.stdout.write(chunk)
        sys.stdout.flush()

    try:
        result = sender.execute(plan, req, on_text=out if stream else None, retries=retries, timeout=timeout)
    except AllFailedError as exc:
        if as_json:
            emit_json(
                {
                    "text": None,
                    "llm": None,
                    "provider": None,
                    "error": exc.message,
                    "attempts": [a.to_dict() for a in exc.attempts],
                    "usage": None,
                    "cost": None,
                }
            )
        raise
    data = result.to_dict()
    if as_json:
        emit_json(data)
    else:
        if not stream:
            sys.stdout.write(result.text)
        if not ("".join(written[-1:]) or result.text).endswith("\n"):
            sys.stdout.write("\n")
    if verbose:
        _verbose(data)


def read_prompt(text: str | None, stdin: Any) -> str:
    """TEXT, stdin (when TEXT is `-` or absent and stdin is not a terminal), or both:
    TEXT, a blank line, then stdin. Trailing whitespace of stdin is stripped."""
    piped = ""
    if text in (None, "-") or not stdin.isatty():
        piped = "" if stdin.isatty() else stdin.read().rstrip()
    if text in (None, "-"):
        return piped
    return f"{text}\n\n{piped}" if piped else text


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
    from llmctl.engine.sender import Sender
    from llmctl.providers.wire import ChatRequest, messages_for

    st = state(ctx)
    sender = Sender.create(st.home, st.catalog())
    entries = [sender.catalog.get(name) for name in dict.fromkeys(llm)]
    req = ChatRequest(messages_for(read_prompt(text, sys.stdin), system), None, max_tokens)
    answers = sender.compare(entries, req, timeout=timeout)
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

    from llmctl.engine.sender import Sender

    st = state(ctx)
    sender = Sender.create(st.home, st.catalog())
    entry = sender.catalog.get(llm)
    if "embeddings" not in entry.capabilities:
        warn(f"{entry.id} is not listed with the `embeddings` capability; trying anyway")
    content = read_prompt(text, sys.stdin)
    if not content.strip():
        from llmctl.errors import UsageError

        raise UsageError("nothing to embed: give TEXT, or pipe it on stdin")
    vectors, _usage = sender.embed(entry, [content], timeout=timeout)
    sys.stdout.write(json.dumps(vectors[0]) + "\n")
