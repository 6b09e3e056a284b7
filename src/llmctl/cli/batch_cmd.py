"""`llmctl batch FILE|-`: many prompts, JSONL in, JSONL out, as each line finishes."""

import contextlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from llmctl.cli.output import emit_json, money, note
from llmctl.cli.selection_options import (
    selection_from,
    send_options_from,
    with_selection_options,
    with_send_options,
)
from llmctl.cli.state import state
from llmctl.cli.vars_options import VarOpt, VarsFileOpt
from llmctl.engine.options import DEFAULT_CONCURRENCY


@with_selection_options
@with_send_options(before="as_json")
def batch(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="JSONL: one {id, prompt | messages, ...} a line.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the output lines here (default: stdout).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Requests in flight at once.")
    ] = DEFAULT_CONCURRENCY,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip the ids OUT already answered; run the rest (needs -o).")
    ] = False,
    system: Annotated[str | None, typer.Option("--system", help="System prompt for every line.")] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", min=0, max=2, help="Sampling temperature.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Longest answer.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="With -o: print the summary as one JSON object on stdout.")
    ] = False,
    var: VarOpt = None,
    vars_file: VarsFileOpt = None,
    json_schema: Annotated[
        Path | None,
        typer.Option(
            "--json-schema", metavar="FILE", help="Ask every line for JSON checked against this schema."
        ),
    ] = None,
    **options: Any,
) -> None:
    """Run every line of FILE (a prompt each) through the chain its job gets; write one JSON
    line per input line as each finishes. Exit 1 when any line failed."""
    import uuid

    from llmctl.engine.batch import BatchOptions, check_names, parse_batch
    from llmctl.engine.sender import Sender
    from llmctl.errors import UsageError

    if resume and out is None:
        raise UsageError("--resume needs -o OUT (the file an earlier run wrote)")
    source, text = _read_input(file)
    items = parse_batch(text, source, system=system)
    st = state(ctx)
    sending = send_options_from(options)
    sender = Sender.create(st.home, st.catalog(), simulate=sending.simulate)
    selection = selection_from(options)
    try:
        check_names(items, sender, source, selection)  # before OUT is opened
        from llmctl.cli.job_work import Asked, render_batch

        render_batch(
            st.home,
            items,
            options,
            Asked(None, system, temperature, max_tokens, var, vars_file, json_schema),
            source,
        )
        sender.ready()  # a damaged usage store is reported before anything is sent or written
        options_all = BatchOptions(
            selection,
            max_tokens=max_tokens,
            temperature=temperature,
            sending=sending,
            batch_id=uuid.uuid4().hex[:12],
        )
        run = _Run(sender, items, options_all, concurrency)
        if out is None:
            summary = run.go(sys.stdout, set())
        else:
            from llmctl.engine.batch import finished_ids
            from llmctl.files.io import sole_writer

            with sole_writer(out) as sink:  # one run per OUT (exit 2 while another holds it)
                done = finished_ids(out) if resume else set()
                if not resume:
                    sink.truncate(0)
                summary = run.go(sink, done)
    finally:
        sender.close()
    _finish(summary, as_json and out is not None)


class _Run:
    """One batch run: its lines, its options, where its output goes."""

    def __init__(self, sender: Any, items: list, options: Any, concurrency: int) -> None:
        self.sender, self.items, self.options, self.concurrency = sender, items, options, concurrency

    def go(self, sink: Any, done: set[str]) -> Any:
        """Run the lines not in `done`, writing each output line to `sink` as it finishes.
        SIGTERM is Ctrl-C here: attempts in flight recorded, finished lines kept, exit 143."""
        from llmctl.cli.signals import sigterm_as_interrupt
        from llmctl.engine.batch import Summary, output_text, run_batch

        todo = [item for item in self.items if item.id not in done]
        summary = Summary(total=len(self.items), skipped=len(self.items) - len(todo))
        progress = _Progress(len(todo)) if sys.stderr.isatty() else None

        def emit(line: Mapping[str, Any]) -> None:
            sink.write(output_text(line))
            sink.flush()
            if progress is not None:
                progress.advance(line, summary)

        def work() -> Any:
            return run_batch(
                self.sender, todo, self.options, concurrency=self.concurrency, emit=emit, summary=summary
            )

        with sigterm_as_interrupt(), progress or contextlib.nullcontext():
            self.sender.run(work)
        return summary


def _read_input(file: str) -> tuple[str, str]:
    from llmctl.cli.input import read_prompt
    from llmctl.files.io import read_text

    if file == "-":
        return "<stdin>", read_prompt(None, sys.stdin)
    return file, read_text(Path(file))


def _finish(summary: Any, as_json: bool) -> None:
    data = summary.to_dict()
    if as_json:
        emit_json(data)
    else:
        note(
            f"batch: {data['ok']} ok, {data['failed']} failed, {data['skipped']} skipped (already done) "
            f"of {data['total']}; tokens {data['input_tokens']} in, {data['output_tokens']} out; "
            f"cost ${money(data['cost'])}; {data['wall_s']:.1f} s"
        )
    if summary.failed:
        raise typer.Exit(1)


class _Progress:
    """On a terminal: a progress bar on stderr (done/total, failed, cost so far, ETA)."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed, ${task.fields[cost]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task("batch", total=total, failed=0, cost=money(0.0))

    def advance(self, line: Mapping[str, Any], summary: Any) -> None:
        self.progress.update(self.task, advance=1, failed=summary.failed, cost=money(summary.cost))

    def __enter__(self) -> "_Progress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)
