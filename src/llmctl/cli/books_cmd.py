"""`llmctl book ...`: per-book preferences."""

from typing import Annotated, Any

import typer

from llmctl.cli import completers
from llmctl.cli.output import emit_json, error, fields, note, table, warn
from llmctl.cli.state import state

app = typer.Typer(
    add_completion=False,
    help="Per-book LLM preferences: a default per group and an override.",
    no_args_is_help=True,
)
default_app = typer.Typer(
    add_completion=False, help="A book's default LLM for a group.", no_args_is_help=True
)
override_app = typer.Typer(
    add_completion=False, help="A book's override LLM (used for every job of the book).", no_args_is_help=True
)
app.add_typer(default_app, name="default")
app.add_typer(override_app, name="override")

BookArg = Annotated[str, typer.Argument(help="Book id.", autocompletion=completers.complete_book)]
GroupArg = Annotated[str, typer.Argument(help="Group.", autocompletion=completers.complete_group)]
LlmArg = Annotated[str, typer.Argument(help="LLM id or alias.", autocompletion=completers.complete_llm)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("list")
def list_books(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the books that have preferences."""
    from llmctl.errors import FileError
    from llmctl.prefs.books import list_books as names
    from llmctl.prefs.books import load_book

    st = state(ctx)
    groups = st.catalog().config.extra_groups
    books, broken = [], []
    for name in names(st.home):
        try:
            books.append(load_book(st.home, name, groups))
        except FileError as exc:
            broken.append(exc)
    if as_json:
        emit_json([b.to_dict() for b in books])
    else:
        rows = [
            [b.name, b.override or "-", ", ".join(f"{g}={i}" for g, i in b.defaults.items()) or "-"]
            for b in books
        ]
        table(["BOOK", "OVERRIDE", "DEFAULTS"], rows, footer=None if rows or broken else "no books yet")
    for problem in broken:
        error(problem.message)
    if broken:
        raise typer.Exit(3)


@app.command("show")
def show(
    ctx: typer.Context,
    book: BookArg,
    assume_available: Annotated[
        bool, typer.Option("--assume-available", help="As if every key were set.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show a book's override, defaults, and the LLM each group would get now."""
    from llmctl.api import book_report

    st = state(ctx)
    report = book_report(book, catalog=st.catalog(), home=st.home, assume_available=assume_available)
    if as_json:
        emit_json({k: v for k, v in report.items() if k != "path"})
        return
    if not report["exists"]:
        note(f"book {book!r} has no preferences yet")
    pairs = [("book", report["book"]), ("file", report["path"]), ("override", report["override"] or "-")]
    pairs += [(f"default {g}", i) for g, i in report["defaults"].items()]
    pairs += [(f"now {g}", i or "nothing fits") for g, i in report["effective"].items()]
    fields(pairs)
    for message in report["notes"]:
        note(message)


def _warn_if_deprecated(st: Any, llm: str) -> None:
    from llmctl.selection.picker import deprecation_warning

    entry = st.catalog().get(llm)
    if entry.deprecated:
        warn(deprecation_warning(entry))


def _done(change: Any, as_json: bool) -> None:
    if as_json:
        emit_json(change.after)
    elif change.before == change.after:
        note("nothing changed")
    else:
        print(
            f"book {change.after['book']}: override {change.after['override'] or '-'}; defaults "
            + (", ".join(f"{g}={i}" for g, i in change.after["defaults"].items()) or "-")
        )


@default_app.command("set")
def default_set(
    ctx: typer.Context, book: BookArg, group: GroupArg, llm: LlmArg, as_json: JsonOpt = False
) -> None:
    """Set the book's default LLM for a group (it must exist, be enabled and valid for the group)."""
    from llmctl.prefs.books import change_book

    st = state(ctx)
    _done(change_book(st.home, st.catalog(), book, "book default set", group=group, llm=llm), as_json)
    _warn_if_deprecated(st, llm)


@default_app.command("clear")
def default_clear(ctx: typer.Context, book: BookArg, group: GroupArg, as_json: JsonOpt = False) -> None:
    """Clear the book's default LLM for a group."""
    from llmctl.prefs.books import change_book

    st = state(ctx)
    _done(change_book(st.home, st.catalog(), book, "book default clear", group=group, clear=True), as_json)


@override_app.command("set")
def override_set(ctx: typer.Context, book: BookArg, llm: LlmArg, as_json: JsonOpt = False) -> None:
    """Force every job of the book onto one LLM (it must be valid for the `override` group)."""
    from llmctl.prefs.books import change_book

    st = state(ctx)
    _done(change_book(st.home, st.catalog(), book, "book override set", override=llm), as_json)
    _warn_if_deprecated(st, llm)


@override_app.command("clear")
def override_clear(ctx: typer.Context, book: BookArg, as_json: JsonOpt = False) -> None:
    """Clear the book's override."""
    from llmctl.prefs.books import change_book

    st = state(ctx)
    _done(change_book(st.home, st.catalog(), book, "book override clear", clear=True), as_json)
