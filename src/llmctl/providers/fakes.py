"""What `--simulate` answers, shared by the adapters: the types of a read-back request and
of a canned answer, and the answers of the faults in a body. Each adapter builds its own
protocol's answers and error bodies from these (`fake_chat`, `fake_embed`, `fake_failure`);
the engine's simulator sends them. No I/O."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Asked:
    """What a request asks for, as its adapter reads back a request it built: embeddings or
    a chat, streamed or not, and the texts it carries (the simulator counts tokens from them)."""

    embed: bool = False
    stream: bool = False
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fake:
    """An answer as a server sends it: status, headers and the body in the pieces it is
    flushed in. A stream's first piece carries its first text (what a dropped stream lets
    through before it breaks)."""

    status: int = 200
    pieces: tuple[bytes, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)


def fake_json(data: Any, status: int = 200) -> Fake:
    """An answer whose body is `data` as JSON."""
    return Fake(status, (json.dumps(data).encode(),), (("content-type", "application/json"),))


def fake_frames(frames: Iterable[str]) -> Fake:
    """A streamed answer, one piece a frame."""
    return Fake(200, tuple(frame.encode() for frame in frames))


def halves(text: str) -> list[str]:
    """A fake stream's text pieces: the text in two."""
    half = len(text) // 2
    return [text[:half], text[half:]]


VECTOR = [0.1, 0.2, 0.3]  # every simulated embedding
# What a proxy or a captive portal answers in place of the provider: no protocol's own.
PAGE = "<html>simulated: not an answer</html>"
CONTEXT = "simulated: this model's maximum context length is exceeded"
FAULTS = ("400", "401", "404", "429", "500", "503", "context", "malformed", "empty")

ErrorBody = Callable[[str, int, str], Any]  # (fault, status, message) -> the provider's error body


def failure(fault: str, stream: bool, error_body: ErrorBody, stream_end: str) -> Fake:
    """The answer of a fault in the body (one of FAULTS) in a protocol whose error bodies
    `error_body` builds and whose streams end with `stream_end`: an error status with the
    provider's error body; `malformed`, a page that is no answer; `empty`, an answer that
    carries nothing (no body at all, or a stream's end alone). Raises KeyError for another."""
    if fault not in FAULTS:
        raise KeyError(fault)
    if fault == "malformed":
        return Fake(200, (PAGE.encode(),), (("content-type", "text/html"),))
    if fault == "empty":
        return Fake(200, (stream_end.encode(),) if stream else ())
    status = 400 if fault == "context" else int(fault)
    message = CONTEXT if fault == "context" else f"simulated {fault}"
    return fake_json(error_body(fault, status, message), status)


def message_texts(messages: Any) -> list[str]:
    """The text of each message of a request body (for counting tokens)."""
    if not isinstance(messages, list):
        return []
    return [str(m.get("content") or "") for m in messages if isinstance(m, dict)]
