"""SIGTERM handled as Ctrl-C: a command being stopped by a service manager, `timeout` or
`kill` records its attempts and keeps its finished work as it would on Ctrl-C, then exits
143 (128 + SIGTERM) instead of 130."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM does what Ctrl-C does at that moment (inside
    `asyncio.run`: cancel the main task, so attempts in flight are recorded as interrupted).
    A block ended that way exits 143 with `llmctl: terminated` (typer.Exit)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only (an in-process test runner's worker)
        return
    terminated = False

    def on_term(signum: int, frame: Any) -> None:
        nonlocal terminated
        terminated = True
        handler = signal.getsignal(signal.SIGINT)  # asyncio's while a loop runs
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except KeyboardInterrupt:
        if not terminated:
            raise
        import typer

        print("llmctl: terminated", file=sys.stderr)
        raise typer.Exit(EXIT_TERMINATED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
