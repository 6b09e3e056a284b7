"""`llmctl compare` (one prompt, several LLMs, answers as they arrive) and `llmctl embed`."""

import sys
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from llmctl.cli import completers
from llmctl.cli.input import read_prompt
from llmctl.cli.output import emit_json, money, rich_output, warn
from llmctl.cli.selection_options import TimeoutOpt, send_options_from, with_send_options
from llmctl.cli.state import state


@with_send_options(before="as_json")
def compare(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The prompt; `-` reads stdin.")],
    llm: Annotated[
        list[str],
        typer.Option("--llm", help="An LLM to ask (repeat).", autocompletion=completers.complete_llm),
    ],
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Longest answer.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    **options: Any,
) -> None:
    """Send one prompt to several LLMs at once; show each answer as it arrives (exit 1 when any failed)."""
    from llmctl.cli.signals import sigterm_as_interrupt
    from llmctl.engine.router import checked_texts
    from llmctl.engine.sender import Sender
    from llmctl.providers.wire import ChatRequest, messages_for

    st = state(ctx)
    sending = send_options_from(options)
    sender = Sender.create(st.home, st.catalog(), simulate=sending.simulate)
    entries = [sender.catalog.get(name) for name in dict.fromkeys(llm)]
    req = ChatRequest(messages_for(read_prompt(text, sys.stdin), system), None, max_tokens)
    checked_texts(req)  # text that is not Unicode is refused at once (exit 2)
    view = _Live(entries) if rich_output() and not as_json else None
    show = view.add if view is not None else (None if as_json else _print_block)

    def ask() -> Any:
        return sender.acompare(entries, req, sending, on_answer=show)

    try:
        with sigterm_as_interrupt():  # SIGTERM: the attempts are recorded, exit 143
            if view is not None:
                with view:
                    answers = sender.run(ask)
            else:
                answers = sender.run(ask)
    finally:
        sender.close()
    if as_json:
        emit_json(answers)
    failed = [a for a in answers if a["error"]]
    if failed:
        from llmctl.errors import LlmctlError

        what = (
            "every LLM failed"
            if len(failed) == len(answers)
            else f"{len(failed)} of {len(answers)} LLMs failed"
        )
        raise LlmctlError(what, more=[f"{a['llm']}: {a['error']}" for a in failed])


def _title(a: Mapping[str, Any]) -> str:
    figures = [f"{a['latency_ms']:.0f} ms"]
    if a["cost"] is not None:
        figures.append(f"${money(a['cost'])}")
    if a["usage"] and a["usage"].get("output_tokens") is not None:
        figures.append(f"{a['usage']['output_tokens']} tokens out")
    return f"{a['llm']} ({', '.join(figures)})"


def _print_block(a: Mapping[str, Any]) -> None:
    """Piped: one block per LLM, in the order the answers arrive."""
    print(f"== {_title(a)} ==")
    print(a["text"] if a["error"] is None else f"error: {a['error']}")
    print(flush=True)


class _Live:
    """On a terminal: a panel per LLM, filled in as its answer arrives."""

    def __init__(self, entries: list[Any]) -> None:
        from rich.console import Console
        from rich.live import Live

        self.order = [e.id for e in entries]
        self.answers: dict[str, Mapping[str, Any]] = {}
        self.live = Live(self._render(), console=Console(), refresh_per_second=8, transient=False)

    def _render(self) -> Any:
        from rich.columns import Columns
        from rich.panel import Panel
        from rich.text import Text

        panels = []
        for llm_id in self.order:
            a = self.answers.get(llm_id)
            if a is None:
                panels.append(Panel(Text("waiting...", style="dim"), title=llm_id, expand=True))
            elif a["error"] is not None:
                panels.append(Panel(Text(a["error"], style="red"), title=_title(a), expand=True))
            else:
                panels.append(Panel(Text(a["text"]), title=_title(a), expand=True))
        return Columns(panels, equal=True, expand=True)

    def add(self, answer: Mapping[str, Any]) -> None:
        self.answers[answer["llm"]] = answer
        self.live.update(self._render())

    def __enter__(self) -> "_Live":
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.__exit__(*exc)


def embed(
    ctx: typer.Context,
    llm: Annotated[
        str, typer.Option("--llm", help="An embeddings model.", autocompletion=completers.complete_llm)
    ],
    text: Annotated[str | None, typer.Argument(help="Text to embed; `-` or nothing reads stdin.")] = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Print the embedding vector of TEXT (or of stdin, or both, as `prompt` reads them) as a JSON array."""
    import json

    from llmctl.engine.options import SendOptions
    from llmctl.engine.sender import Sender
    from llmctl.errors import UsageError

    st = state(ctx)
    sender = Sender.create(st.home, st.catalog())
    entry = sender.catalog.get(llm)
    if "embeddings" not in entry.capabilities:
        warn(f"{entry.id} is not listed with the `embeddings` capability; trying anyway")
    content = read_prompt(text, sys.stdin)
    if not content.strip():
        raise UsageError("nothing to embed: give TEXT, or pipe it on stdin")
    result = sender.embed(entry, [content], SendOptions(timeout=timeout))
    sys.stdout.write(json.dumps(result.vectors[0]) + "\n")
