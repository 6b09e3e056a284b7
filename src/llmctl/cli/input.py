"""Reading what the user sends: TEXT, stdin, or both."""

from __future__ import annotations

from typing import Any

from llmctl.errors import UsageError


def read_prompt(text: str | None, stdin: Any) -> str:
    """TEXT, stdin (when TEXT is `-` or absent and stdin is not a terminal), or both:
    TEXT, a blank line, then stdin. Trailing whitespace of stdin is stripped; a closed
    stdin counts as empty. Raises UsageError for stdin that is not UTF-8 text."""
    piped = ""
    if text in (None, "-") or not _is_terminal(stdin):
        piped = "" if _is_terminal(stdin) else _read(stdin).rstrip()
    if text in (None, "-"):
        return piped
    return f"{text}\n\n{piped}" if piped else text


def _is_terminal(stdin: Any) -> bool:
    try:
        return stdin is not None and stdin.isatty()
    except (ValueError, OSError):  # closed
        return False


def _read(stdin: Any) -> str:
    """Stdin's bytes as UTF-8 text (whatever the locale's encoding is)."""
    if stdin is None:
        return ""
    try:
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
    except UnicodeDecodeError as exc:
        raise _not_text(f"{exc.reason} at byte {exc.start}") from None
    except (ValueError, OSError):  # closed or unreadable: nothing was piped
        return ""
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_text(f"{exc.reason} at byte {exc.start}") from None
    if "\x00" in text:
        raise _not_text("it holds NUL bytes: binary data")
    return text.removeprefix("\ufeff")


def _not_text(why: str) -> UsageError:
    return UsageError(
        f"stdin is not UTF-8 text ({why})", hint="send text; convert other encodings with iconv"
    )


def time_limit_option(value: float | None) -> float | None:
    """--timeout's check (exit 2 for inf, NaN, over a day): the engine's rule
    (`engine.router.time_limit`), told as a bad option value."""
    import typer

    from llmctl.engine.router import time_limit

    try:
        return time_limit(value)
    except UsageError as exc:
        raise typer.BadParameter(exc.message) from None


def read_stdin(stdin: Any) -> str:
    """All of stdin as UTF-8 text, as it is (a `--var NAME=@-` value; nothing stripped).
    Raises UsageError for stdin that is not UTF-8 text."""
    return _read(stdin)
