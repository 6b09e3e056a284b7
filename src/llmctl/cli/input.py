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
    if stdin is None:
        return ""
    try:
        return stdin.read()
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"stdin is not UTF-8 text ({exc.reason} at byte {exc.start})",
            hint="send text; convert other encodings with iconv",
        ) from None
    except (ValueError, OSError):  # closed or unreadable: nothing was piped
        return ""
