"""Token counts the engine can stand behind: the upper bound of a prompt's size that budget
reservations take, the counts a provider reports (checked before they cost anything), and
the estimate of an attempt cut short (never free).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from numbers import Real

from llmctl.catalog.costs import estimate_tokens
from llmctl.providers.wire import Usage

# More than any answer or prompt has: a count above this is a provider's mistake.
MAX_TOKENS = 100_000_000
# What chat formats add around each message and the answer (role markers and the like):
# a few tokens each, taken generously so that a bound stays a bound.
PER_MESSAGE = 16


def token_bound(texts: Iterable[str]) -> int:
    """An upper bound of the tokens `texts` are billed as, whatever their script: no
    tokenizer makes more tokens than the text has UTF-8 bytes (CJK, emoji: up to 4 bytes
    a character, where the chars/4 estimate counts a quarter token), plus the chat
    format's tokens around each message."""
    total = PER_MESSAGE
    for text in texts:
        total += len(text.encode("utf-8", "surrogatepass")) + PER_MESSAGE
    return total


def _trusted(value: object) -> int | None:
    """A reported count as a whole number, or None when it cannot be right (not a number,
    negative, fractional, or above MAX_TOKENS)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    if value != value or not 0 <= value <= MAX_TOKENS or int(value) != value:
        return None
    return int(value)


def checked(usage: Usage) -> tuple[Usage, list[str]]:
    """`usage` with every count that cannot be right dropped (as if not reported), and a
    description of each one dropped."""
    clean, problems = Usage(), []
    for field in fields(Usage):
        value = getattr(usage, field.name)
        good = None if value is None else _trusted(value)
        if value is not None and good is None:
            problems.append(f"{field.name} {str(value)[:40]!r}")
        setattr(clean, field.name, good)
    return clean, problems


def counted(usage: Usage, text: str, prompt_tokens: int, *, embedding: bool = False) -> tuple[Usage, bool]:
    """An answer's counts: those the provider did not report (or reported wrongly, see
    `checked`) estimated, and whether any was, so that no cost is silently missing."""
    needs_out = not embedding and usage.output_tokens is None
    if usage.input_tokens is not None and not needs_out:
        return usage, False
    tokens_in = usage.input_tokens if usage.input_tokens is not None else prompt_tokens
    tokens_out = estimate_tokens([text]) if needs_out else usage.output_tokens
    out = Usage(tokens_in, tokens_out, usage.cached_input_tokens, usage.reasoning_tokens)
    out.cache_write_tokens = usage.cache_write_tokens
    return out, True


def cut_short(prompt_tokens: int, received: str) -> Usage:
    """The estimated counts of an attempt cut short: its prompt, and the text received."""
    return Usage(prompt_tokens, estimate_tokens([received]) if received else 0)
