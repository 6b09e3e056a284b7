"""`--simulate FAULT@TARGET`: the real routing (policy, adapters, stream parsers) against an
in-process transport, to test a routing setup in CI. Nothing is sent and no key is needed;
the policy's waits are not slept; the cooldown state and the usage store are not touched.

FAULT: refused, timeout, 400, 401, 404, 429, 429:SECONDS (with Retry-After), 500, 503,
context, drop (the stream breaks after its first chunk), malformed, empty; a suffix `xN`
fails only the first N tries. TARGET: an LLM id or alias, a provider name, or `*`.
LLMs without a fault answer `simulated answer from ID`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from llmctl.catalog.costs import estimate_tokens
from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog
from llmctl.errors import UsageError, did_you_mean
from llmctl.providers.table import provider_names

if TYPE_CHECKING:
    from llmctl.engine.http import AsyncPool

FAULTS = (
    "refused",
    "timeout",
    "400",
    "401",
    "404",
    "429",
    "500",
    "503",
    "context",
    "drop",
    "malformed",
    "empty",
)
HEADER = "x-llmctl-simulate"
_SPEC = re.compile(
    r"^(?P<fault>[a-z]+|\d+)(?::(?P<after>\d+(?:\.\d+)?))?(?:x(?P<times>\d+))?@(?P<target>.+)$"
)


@dataclass
class Fault:
    """One injected failure: which, for which LLMs, and for how many tries (None: all)."""

    kind: str
    target: str
    retry_after: float | None = None
    times: int | None = None
    used: int = 0

    def hits(self, entry: LLM) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        return self.target in ("*", entry.id, entry.provider)


def parse_faults(specs: list[str], catalog: Catalog) -> list[Fault]:
    """Read `FAULT@TARGET` values. Raises UsageError (exit 2) for an unknown fault or a target
    that names no LLM or provider."""
    faults = []
    providers = set(provider_names(catalog.config.providers)) | {e.provider for e in catalog}
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if not match:
            raise UsageError(
                f"--simulate {spec!r}: expected FAULT@TARGET (e.g. 503x1@openai, 429:5@*)",
                hint=f"faults: {', '.join(FAULTS)}, 429:SECONDS; a suffix xN fails only the first N tries",
            )
        kind, after, times, target = match["fault"], match["after"], match["times"], match["target"]
        if kind not in FAULTS:
            raise UsageError(f"--simulate {spec!r}: unknown fault {kind!r}{did_you_mean(kind, FAULTS)}")
        if after is not None and kind != "429":
            raise UsageError(f"--simulate {spec!r}: only 429 takes :SECONDS (its Retry-After)")
        if target != "*" and target not in providers:
            if target not in catalog:
                known = [*providers, *catalog.entries, *catalog.aliases]
                raise UsageError(
                    f"--simulate {spec!r}: {target!r} is no LLM or provider{did_you_mean(target, known)}",
                    hint="a TARGET is an LLM id or alias, a provider name, or *",
                )
            target = catalog.resolve_id(target)
        faults.append(Fault(kind, target, float(after) if after else None, int(times) if times else None))
    return faults


@dataclass
class Simulation:
    """Answers every request in process, failing those the faults name."""

    catalog: Catalog
    faults: list[Fault] = field(default_factory=list)

    def tag(self, entry: LLM) -> dict[str, str]:
        """The header that tells the transport which LLM a request is for."""
        return {HEADER: entry.id}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def clients(self) -> tuple[httpx.Client, AsyncPool]:
        """A sync client and an async pool whose requests this simulation answers."""
        from llmctl.engine.http import AsyncPool

        transport = self.transport()
        return httpx.Client(transport=transport), AsyncPool(httpx.AsyncClient(transport=transport))

    def handle(self, request: httpx.Request) -> httpx.Response:
        entry = self.catalog.entries[request.headers[HEADER]]
        body = json.loads(request.content or b"{}")
        fault = next((f for f in self.faults if f.hits(entry)), None)
        if fault is not None:
            fault.used += 1
            return _fail(fault, request, body)
        return _answer(entry, request, body)


def _protocol(request: httpx.Request) -> str:
    path = request.url.path
    if path.endswith("/v1/messages"):
        return "anthropic"
    if path.endswith(("/api/chat", "/api/embed")):
        return "ollama"
    return "openai"


def _fail(fault: Fault, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
    kind = fault.kind
    if kind == "refused":
        raise httpx.ConnectError("simulated: connection refused", request=request)
    if kind == "timeout":
        raise httpx.ReadTimeout("simulated: read timed out", request=request)
    if kind == "context":
        message = "simulated: this model's maximum context length is exceeded"
        return httpx.Response(400, json={"error": {"message": message}})
    if kind == "malformed":
        return httpx.Response(200, text="<html>simulated: not an answer</html>")
    if kind == "empty":
        if body.get("stream"):
            return httpx.Response(200, content=_terminator(_protocol(request)).encode())
        return httpx.Response(200, content=b"")
    if kind == "drop":
        if not body.get("stream"):
            raise httpx.RemoteProtocolError("simulated: the connection dropped", request=request)
        first = _stream(_protocol(request), "simulated partial ", 1, 1).split("\n\n")[0] + "\n\n"
        return httpx.Response(200, stream=_Dropping(first.encode()))
    headers = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    return httpx.Response(int(kind), json={"error": {"message": f"simulated {kind}"}}, headers=headers)


def _answer(entry: LLM, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
    protocol = _protocol(request)
    if request.url.path.endswith(("/embeddings", "/api/embed")):
        texts = body.get("input") or [""]
        vectors = [[0.1, 0.2, 0.3] for _ in texts]
        tokens = estimate_tokens(texts)
        if protocol == "ollama":
            return httpx.Response(200, json={"embeddings": vectors, "prompt_eval_count": tokens})
        data = [{"index": n, "embedding": v} for n, v in enumerate(vectors)]
        return httpx.Response(200, json={"data": data, "usage": {"prompt_tokens": tokens}})
    text = f"simulated answer from {entry.id}"
    contents = [m.get("content") or "" for m in body.get("messages") or [] if isinstance(m, dict)]
    contents.append(body.get("system") or "")
    tokens_in, tokens_out = estimate_tokens(contents), estimate_tokens([text])
    if body.get("stream"):
        return httpx.Response(200, content=_stream(protocol, text, tokens_in, tokens_out).encode())
    if protocol == "anthropic":
        usage = {"input_tokens": tokens_in, "output_tokens": tokens_out}
        data = {"content": [{"type": "text", "text": text}], "usage": usage, "stop_reason": "end_turn"}
    elif protocol == "ollama":
        data = {
            "message": {"content": text},
            "done": True,
            "prompt_eval_count": tokens_in,
            "eval_count": tokens_out,
        }
    else:
        usage = {"prompt_tokens": tokens_in, "completion_tokens": tokens_out}
        data = {"choices": [{"message": {"content": text}, "finish_reason": "stop"}], "usage": usage}
    return httpx.Response(200, json={**data, "model": entry.model})


def _stream(protocol: str, text: str, tokens_in: int, tokens_out: int) -> str:
    """A whole streamed answer in the protocol's own framing, in two text chunks."""
    half = len(text) // 2
    parts = [text[:half], text[half:]]
    if protocol == "anthropic":
        events = [
            ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": tokens_in}}})
        ]
        events += [
            (
                "content_block_delta",
                {"type": "content_block_delta", "delta": {"type": "text_delta", "text": p}},
            )
            for p in parts
        ]
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": tokens_out},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
    if protocol == "ollama":
        lines = [{"message": {"content": p}, "done": False} for p in parts]
        lines.append(
            {
                "message": {"content": ""},
                "done": True,
                "prompt_eval_count": tokens_in,
                "eval_count": tokens_out,
            }
        )
        return "".join(json.dumps(line) + "\n" for line in lines)
    chunks = [{"choices": [{"delta": {"content": p}, "finish_reason": None}]} for p in parts]
    chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    chunks.append({"choices": [], "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out}})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def _terminator(protocol: str) -> str:
    """A stream that ends properly but carries no answer."""
    if protocol == "anthropic":
        return 'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    if protocol == "ollama":
        return '{"done": true}\n'
    return "data: [DONE]\n\n"


class _Dropping(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that breaks off after its first chunk."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx.ReadError("simulated: the stream dropped")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("simulated: the stream dropped")
