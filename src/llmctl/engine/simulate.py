"""`--simulate FAULT@TARGET`: the real routing (policy, adapters, stream parsers, the HTTP
clients and their error mapping) with the network replaced in process, to test a routing
setup in CI. Nothing is sent and no key is needed; the policy's waits are not slept; the
cooldown state and the usage store are not touched.

FAULT: refused, timeout, 400, 401, 404, 429, 429:SECONDS (with Retry-After), 500, 503,
context, drop (the stream breaks after its first chunk), malformed, empty; a suffix `xN`
fails only the first N tries. TARGET: an LLM id or alias, a provider name, or `*`.
LLMs without a fault answer `simulated answer from ID`.

Each request is answered in its LLM's own wire protocol: the adapter of the provider's
`kind` reads the request back and gives the answer (`Adapter.asked`, `fake_*`). The
answer goes back through the transport stack a real send uses: an httpx transport under
the sync client, an aiohttp connector under the async pool's session (`simwire`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import httpx

from llmctl.catalog.costs import estimate_tokens
from llmctl.catalog.entry import LLM
from llmctl.catalog.load import Catalog
from llmctl.engine.simwire import DROP, REFUSED, TIMEOUT, Answer, Reply, SimulatedConnector
from llmctl.errors import UsageError, did_you_mean
from llmctl.providers import adapter_for
from llmctl.providers.fakes import VECTOR
from llmctl.providers.resolve import provider_settings
from llmctl.providers.table import provider_names
from llmctl.providers.wire import Usage

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
PARTIAL = "simulated partial "  # the text of a stream that drops
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

    def clients(self) -> tuple[httpx.Client, AsyncPool]:
        """A sync client and an async pool, built as a real send's are, whose requests this
        simulation answers."""
        from llmctl.engine.http import AsyncPool, make_client

        sync = make_client(httpx.MockTransport(self.handle))
        return sync, AsyncPool(connector=lambda: SimulatedConnector(self.accept))

    def accept(self, headers: Mapping[str, str]) -> Answer | None:
        """How a request is answered, when it connects: by the LLM its tag names and the
        first fault that hits it (counted as used); None when its connection is refused."""
        entry = self.catalog.entries[headers[HEADER]]
        fault = next((f for f in self.faults if f.hits(entry)), None)
        if fault is not None:
            fault.used += 1
            if fault.kind == REFUSED:
                return None
        return lambda path, content: self.reply(entry, fault, path, content)

    def reply(self, entry: LLM, fault: Fault | None, path: str, content: bytes) -> Reply:
        """The answer to a request for `entry` (its URL path and body) meeting `fault`, in
        the protocol of the entry's provider."""
        adapter = adapter_for(provider_settings(entry.provider, self.catalog.config.providers).kind or "")
        asked = adapter.asked(path, json.loads(content or b"{}"))
        if fault is None:
            if asked.embed:
                texts = list(asked.texts) or [""]
                usage = Usage(estimate_tokens(texts), None)
                return Reply(adapter.fake_embed(entry.model, [list(VECTOR) for _ in texts], usage))
            text = f"simulated answer from {entry.id}"
            usage = Usage(estimate_tokens(asked.texts), estimate_tokens([text]))
            return Reply(adapter.fake_chat(entry.model, text, usage, asked.stream))
        if fault.kind == TIMEOUT or (fault.kind == DROP and not asked.stream):
            return Reply(None, fault.kind)
        if fault.kind == DROP:
            stream = adapter.fake_chat(entry.model, PARTIAL, Usage(1, 1), True)
            return Reply(replace(stream, pieces=stream.pieces[:1]), DROP)
        fake = adapter.fake_failure(fault.kind, asked.stream)
        if fault.retry_after is not None:
            fake = replace(fake, headers=(*fake.headers, ("retry-after", f"{fault.retry_after:g}")))
        return Reply(fake)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The sync client's transport: the reply as httpx gives a real one (or raises)."""
        answer = self.accept(request.headers)
        if answer is None:
            raise httpx.ConnectError("simulated: connection refused", request=request)
        reply = answer(request.url.path, request.content)
        if reply.failure == TIMEOUT:
            raise httpx.ReadTimeout("simulated: read timed out", request=request)
        if reply.fake is None:
            raise httpx.RemoteProtocolError("simulated: the connection dropped", request=request)
        fake = reply.fake
        if reply.failure == DROP:
            return httpx.Response(fake.status, headers=list(fake.headers), stream=_Dropping(fake.pieces))
        return httpx.Response(fake.status, headers=list(fake.headers), content=fake.body)


class _Dropping(httpx.SyncByteStream):
    """A response body that breaks off after its pieces."""

    def __init__(self, pieces: tuple[bytes, ...]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        raise httpx.ReadError("simulated: the stream dropped")
