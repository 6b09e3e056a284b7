"""The streamed side of an attempt: the tap that passes text on as it comes (and notes the
first byte), the gatherer of a streamed answer's chunks, and a cached answer replayed."""

from __future__ import annotations

from collections.abc import Callable

from llmctl.catalog.entry import LLM
from llmctl.engine.policy import ChainRun, Send
from llmctl.engine.records import Attempt, Result
from llmctl.errors import Malformed
from llmctl.providers.wire import ChatResult, Usage

OnText = Callable[[str], None]
# Told, just before an LLM's first streamed text goes out, which LLM it is and every attempt
# so far (the answering one last): a server can name both in its response headers.
OnStart = Callable[[LLM, list[Attempt]], None]


class Tap:
    """Passes streamed text on and notes when the first byte went out."""

    __slots__ = ("clock", "on_text", "first", "parts", "beat", "start")

    def __init__(
        self,
        clock: Callable[[], float],
        on_text: OnText | None,
        beat: Callable[[], None] | None = None,
        start: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_text = on_text
        self.beat = beat  # told of every piece: the attempt is alive
        self.start = start  # told once, before the first piece goes out
        self.first: float | None = None
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        """The text passed on so far."""
        return "".join(self.parts)

    def __call__(self, text: str) -> None:
        if not text:
            return
        if self.first is None:
            self.first = self.clock()
            if self.start is not None:
                self.start()
        self.parts.append(text)
        if self.on_text is not None:
            self.on_text(text)
        if self.beat is not None:
            self.beat()


def starter(on_start: OnStart | None, run: ChainRun, step: Send) -> Callable[[], None] | None:
    """The tap's first-text call: `on_start` with the LLM and the attempts so far."""
    if on_start is None:
        return None
    return lambda: on_start(step.entry, [*run.passed_over, *run.attempts])


def replayed(result: Result, on_text: OnText | None) -> Result:
    """A cached answer streams out whole, as a sent one would have."""
    if result.cached and on_text is not None and result.text:
        on_text(result.text)
    return result


class StreamedAnswer:
    """Gathers a streamed answer's chunks: its text goes out through the tap as it comes."""

    __slots__ = ("entry", "usage", "finish")

    def __init__(self, entry: LLM) -> None:
        self.entry = entry
        self.usage = Usage()
        self.finish: str | None = None

    def take(self, chunks: list, tap: Tap) -> None:
        for chunk in chunks:
            tap(chunk.text)
            if chunk.usage is not None:
                self.usage = chunk.usage
            self.finish = chunk.finish_reason or self.finish

    def result(self, tap: Tap) -> ChatResult:
        if not tap.parts and self.finish is None and self.usage.output_tokens is None:
            raise Malformed(f"{self.entry.provider}: the stream carried no answer")
        return ChatResult("".join(tap.parts), self.usage, self.entry.model, self.finish)
