"""An attempt holding a budget reservation keeps it alive while it runs: renewed every
RENEW_EVERY seconds from a thread (sync) or a task (async), since a non-streamed answer
gives no other sign of life."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator

from llmctl.engine import spend
from llmctl.engine.policy import ChainRun


@contextlib.contextmanager
def kept(run: ChainRun) -> Iterator[None]:
    """While a sync attempt runs, its budget reservation is renewed every RENEW_EVERY
    seconds (from a thread: a non-streamed answer gives no other sign of life)."""
    if not run.holds():
        yield
        return
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(spend.RENEW_EVERY):
            with contextlib.suppress(Exception):  # a renewal that fails leaves the first expiry
                run.renew()

    thread = threading.Thread(target=keep, name="llmctl-renew", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


@contextlib.asynccontextmanager
async def akept(run: ChainRun) -> AsyncIterator[None]:
    """`kept` for the async drivers: a task renews the reservation while the attempt runs."""
    if not run.holds():
        yield
        return

    async def keep() -> None:
        while True:
            await asyncio.sleep(spend.RENEW_EVERY)
            with contextlib.suppress(Exception):
                run.renew()

    keeper = asyncio.create_task(keep())
    try:
        yield
    finally:
        keeper.cancel()
