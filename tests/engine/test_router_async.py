"""The async driver against a real local server: streaming, refused, stalled, dropped and
rate-limited requests, many at once over one pool."""

from __future__ import annotations

import asyncio
import time

import pytest

from conftest import entry
from fakeserver import Reply, openai_chat, openai_stream, refused_url
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.http import AsyncPool
from llmctl.engine.router import Router
from llmctl.errors import AllFailedError, StreamInterrupted
from llmctl.providers.wire import ChatRequest, Message

KEY = "sk-async-router-secret"
ENV = {"OPENAI_API_KEY": KEY}
REQ = ChatRequest([Message("user", "hello")])


def llms(*specs):
    return [DictRegistry([s]).get_by_id(s["id"]) for s in specs]


def oa(llm_id, base, **kw):
    return entry(llm_id, api_base=f"{base}/v1", **kw)


def run(coro_fn, **router_kw):
    """Run `coro_fn(router)` in a fresh loop over a fresh pool, closed at the end."""
    waits = []

    async def asleep(seconds):
        waits.append(seconds)

    async def main():
        pool = AsyncPool()
        router = Router.of(env=ENV, apool=pool, asleep=asleep, rng=lambda: 0.5, **router_kw)
        try:
            return await coro_fn(router)
        finally:
            await pool.aclose()

    return asyncio.run(main()), waits


def test_async_plain_and_streamed_answers(server):
    server.add(
        "/v1/chat/completions", openai_chat("plain", 7, 2), openai_stream(["str", "eam"], chunk_delay=0.01)
    )
    (a,) = llms(oa("openai/a", server.url))
    seen = []

    async def go(router):
        plain = await router.achat([a], REQ)
        streamed = await router.achat([a], REQ, on_text=seen.append)
        return plain, streamed

    (plain, streamed), _ = run(go)
    assert (plain.text, plain.usage.input_tokens) == ("plain", 7)
    assert streamed.text == "stream" and seen == ["str", "eam"] and streamed.ttft_ms is not None
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"


def test_async_refused_falls_back_at_once(server):
    server.add("/v1/chat/completions", openai_chat("from b"))
    a, b = llms(oa("openai/a", refused_url()), oa("openai/b", server.url))
    result, waits = run(lambda router: router.achat([a, b], REQ))
    assert result.llm.id == "openai/b" and waits == []
    assert result.attempts[0].tries == 1 and "cannot connect" in result.attempts[0].error


def test_async_stall_times_out_and_drop_mid_stream_is_not_stitched(server):
    server.add("/v1/chat/completions", Reply(delay=1.5, body={"never": "seen"}))
    server.add("/v2/chat/completions", openai_chat("after the stall"))
    a, b = llms(oa("openai/a", server.url), entry("openai/b", api_base=f"{server.url}/v2"))
    result, _ = run(lambda router: router.achat([a, b], REQ), timeout=0.3, retries=0)
    assert result.llm.id == "openai/b" and "timed out" in result.attempts[0].error

    server.add("/v1/chat/completions", openai_stream(["half ", "of it"], drop_after=1))
    server.add("/v2/chat/completions", openai_chat("never asked"))
    seen = []
    with pytest.raises(StreamInterrupted):
        run(lambda router: router.achat([a, b], REQ, on_text=seen.append))
    assert seen == ["half "]
    assert not any(r["path"].startswith("/v2/") for r in server.requests[2:])  # nothing after the drop


def test_async_429_honours_retry_after_under_concurrency(server):
    server.add(
        "/v1/chat/completions", *[Reply(429, {"error": "slow down"}, headers={"retry-after": "2"})] * 3
    )
    server.defaults["/v1/chat/completions"] = openai_chat("ok")
    (a,) = llms(oa("openai/a", server.url))

    async def go(router):
        return await asyncio.gather(*(router.achat([a], REQ) for _ in range(10)))

    # Which request meets which 429 depends on timing (one may meet all three): enough
    # retries that every request gets through either way.
    results, waits = run(go, retries=3)
    assert all(r.text == "ok" for r in results)
    assert waits.count(2.0) == 3  # each 429 waited its Retry-After, asked of the (fake) clock
    assert sum(r.attempts[0].tries for r in results) == 13


def test_async_every_llm_failing_raises_with_every_attempt(server):
    server.defaults["/v1/chat/completions"] = Reply(401, {"error": {"message": f"bad key {KEY}"}})
    (a,) = llms(oa("openai/a", server.url))
    with pytest.raises(AllFailedError) as info:
        run(lambda router: router.achat([a], REQ))
    assert "answered 401: bad key ***" in str(info.value) and KEY not in str(info.value)


def test_many_requests_run_at_once_and_reuse_their_connections(server):
    server.defaults["/v1/chat/completions"] = Reply(delay=0.05, body=openai_chat("x").body)
    (a,) = llms(oa("openai/a", server.url))
    started = time.monotonic()

    async def go(router):
        return await asyncio.gather(*(router.achat([a], REQ) for _ in range(40)))

    async def twice(router):
        await go(router)
        return await go(router)

    results, _ = run(twice)
    elapsed = time.monotonic() - started
    assert len(results) == 40
    assert elapsed < 40 * 0.05  # concurrent, not one after another
    # The second wave reused the first wave's connections: no new ones were opened.
    ports = [r["client_port"] for r in server.requests]
    assert set(ports[40:]) <= set(ports[:40])
