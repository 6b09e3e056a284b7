"""SIGTERM handled like Ctrl-C, for the commands that send (`prompt`, `compare`, `batch`):
the attempt in flight is cut short and recorded (at its estimated cost), what was finished
is kept, and the exit code is 143 (128 + SIGTERM), as a shell reports a terminated process.

    with terminable():
        ...  # a SIGTERM raises Terminated (a KeyboardInterrupt) here; exit 143
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

import typer

EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so that everything that cleans up after
    Ctrl-C (records, kept lines, released reservations) does the same for it."""


@contextlib.contextmanager
def terminable() -> Iterator[None]:
    """Run the block with SIGTERM raising Terminated (once: a second SIGTERM while the
    first is being cleaned up after is ignored, so the records are still written); on
    Terminated, say so and exit 143. Outside the main thread (where no handler can be
    set) the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Terminated

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except Terminated:
        print("llmctl: terminated", file=sys.stderr)
        raise typer.Exit(EXIT_TERMINATED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
