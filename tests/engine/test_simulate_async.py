"""A simulated failure on the async path meets the same aiohttp code, error classes and
outcomes as the real failure it stands for, sent to the local fake server."""

from __future__ import annotations

import asyncio

import pytest

from conftest import entry
from fakeserver import Reply, openai_stream, refused_url
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.http import AsyncPool
from llmctl.engine.options import SendOptions
from llmctl.engine.router import Router
from llmctl.engine.sender import Sender
from llmctl.errors import AllFailedError, StreamInterrupted
from llmctl.providers import fakes, openai_compat
from llmctl.providers.wire import ChatRequest, messages_for

KEY = "sk-simulate-async-secret"
REQ = ChatRequest(messages_for("hi"))


def error_reply(fault: str, **headers: str) -> Reply:
    fake = openai_compat.fake_failure(fault, False)
    return Reply(fake.status, fake.body.decode(), headers)


# fault -> what a real server does for it, plain and streamed (None: nothing listens)
REAL = {
    "refused": (None, None),
    "timeout": (Reply(delay=1.0, body={}), Reply(delay=1.0, body={})),
    "400": (error_reply("400"),) * 2,
    "401": (error_reply("401"),) * 2,
    "404": (error_reply("404"),) * 2,
    "429": (error_reply("429", **{"retry-after": "2"}),) * 2,
    "500": (error_reply("500"),) * 2,
    "503": (error_reply("503"),) * 2,
    "context": (error_reply("context"),) * 2,
    # a plain answer cut off after its head; a stream after its first text
    "drop": (Reply(chunks=["{"], drop_after=0), openai_stream(["simulated", " partial "], drop_after=1)),
    "malformed": (Reply(body=fakes.PAGE, headers={"content-type": "text/html"}),) * 2,
    "empty": (Reply(body=""), Reply(chunks=["data: [DONE]\n\n"])),
}


pytestmark = pytest.mark.team([entry("acme/first", quality_score=9)], keys={})


def outcome(run, seen):
    """What one attempt came to: its outcome, tries, status and error class (or the
    interruption and the text before it), and its error text."""
    try:
        result = asyncio.run(run())
        attempt = result.attempts[-1]
    except AllFailedError as exc:
        attempt = exc.attempts[-1]
    except StreamInterrupted as exc:
        return ("interrupted", "".join(seen)), exc.message
    failure = attempt.failure.__name__ if attempt.failure else None
    return (
        getattr(attempt.outcome, "value", attempt.outcome),
        attempt.tries,
        attempt.status,
        failure,
    ), attempt.error


def simulated(fault, stream):
    sender = Sender.create(simulate=[f"{fault}@acme/first"])
    router, seen = sender.router(SendOptions(retries=0)), []
    llm = sender.catalog.entries["acme/first"]

    async def run():
        try:
            return await router.achat([llm], REQ, on_text=seen.append if stream else None)
        finally:
            await sender.apool.aclose()

    return outcome(run, seen)


def real(server, fault, stream):
    reply = REAL[fault][stream]
    base = refused_url() if reply is None else server.url
    if reply is not None:
        server.add("/v1/chat/completions", reply)
    (llm,) = [DictRegistry([entry("openai/a", api_base=f"{base}/v1")]).get_by_id("openai/a")]
    seen = []

    async def no_wait(_seconds):
        pass

    async def run():
        pool = AsyncPool()
        router = Router.of(env={"OPENAI_API_KEY": KEY}, apool=pool, retries=0, timeout=0.3, asleep=no_wait)
        try:
            return await router.achat([llm], REQ, on_text=seen.append if stream else None)
        finally:
            await pool.aclose()

    return outcome(run, seen)


@pytest.mark.parametrize("fault", list(REAL))
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_simulated_async_failure_is_the_real_one(team, server, fault, stream):
    sim, sim_error = simulated(fault, stream)
    got, real_error = real(server, fault, stream)
    if fault == "drop" and stream:
        assert sim == ("interrupted", "simulated") == got
    else:
        assert sim == got
    if fault in ("refused", "drop"):  # aiohttp's own words, as a real failure gives them
        words = {"refused": "Cannot connect to host", "drop": "Response payload is not completed"}
        if fault == "drop" and not stream:
            words["drop"] = "the connection broke"
        assert words[fault] in sim_error and words[fault] in real_error
