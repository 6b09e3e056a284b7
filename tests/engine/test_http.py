"""Errors of the async transport that are not httpx's own still become provider errors."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest
from yarl import URL

from conftest import entry
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.http import AsyncPool, _Cap, _Lines, astream_lines, stream_lines, transport_error
from llmctl.engine.router import Router
from llmctl.errors import AllFailedError, ConnectFailed, ProviderError, StreamInterrupted, TooLarge
from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import ChatRequest, HttpCall, Message

REQ = ChatRequest([Message("user", "hello")])
ANSWER = b'{"choices": [{"message": {"content": "from b"}}], "usage": {}}'


def _response_error() -> Exception:
    info = aiohttp.RequestInfo(URL("http://a.test/v1"), "POST", {}, URL("http://a.test/v1"))
    return aiohttp.ClientResponseError(info, (), status=400, message="bad header")


class _Raw(httpx.AsyncBaseTransport):
    """Fails requests to `hosts` with `error` (raw, as the aiohttp transport may let
    through); answers every other host."""

    def __init__(self, error: Exception, hosts: tuple[str, ...] = ("a.test",)) -> None:
        self.error, self.hosts = error, hosts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in self.hosts:
            raise self.error
        return httpx.Response(200, content=ANSWER)


class _Broken(httpx.AsyncByteStream):
    async def __aiter__(self):
        yield b'data: {"choices": [{"delta": {"content": "Hel"}}]}\n\n'
        raise aiohttp.ClientPayloadError("Response payload is not completed")


class _BreaksMidStream(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_Broken())


def _chain():
    specs = [entry("openai/a", api_base="http://a.test/v1"), entry("openai/b", api_base="http://b.test/v1")]
    return [DictRegistry([s]).get_by_id(s["id"]) for s in specs]


async def _achat(transport):
    pool = AsyncPool(httpx.AsyncClient(transport=transport))
    router = Router.of(env={"OPENAI_API_KEY": "sk-x"}, apool=pool, retries=0)
    try:
        return await router.achat(_chain(), REQ)
    finally:
        await pool.aclose()


@pytest.mark.parametrize(
    "error, said",
    [
        (_response_error(), "the connection broke"),
        (aiohttp.ServerDisconnectedError(), "the connection broke"),
        (TimeoutError(), "read timed out"),
    ],
)
def test_raw_aiohttp_errors_fall_back_like_any_provider_error(error, said):
    result = asyncio.run(_achat(_Raw(error)))
    assert result.text == "from b" and result.llm.id == "openai/b"
    first = result.attempts[0]
    assert first.outcome == "error" and said in first.error


def test_a_raw_aiohttp_error_mid_stream_is_a_broken_stream_not_a_crash():
    seen: list[str] = []

    async def main():
        pool = AsyncPool(httpx.AsyncClient(transport=_BreaksMidStream()))
        router = Router.of(env={"OPENAI_API_KEY": "sk-x"}, apool=pool, retries=0)
        try:
            return await router.achat(_chain(), REQ, on_text=seen.append)
        finally:
            await pool.aclose()

    with pytest.raises(StreamInterrupted, match="broke off mid-answer"):
        asyncio.run(main())
    assert seen == ["Hel"]


def test_every_llm_failing_with_raw_errors_raises_all_failed():
    failing = _Raw(aiohttp.ClientPayloadError("truncated"), hosts=("a.test", "b.test"))
    with pytest.raises(AllFailedError) as caught:
        asyncio.run(_achat(failing))
    assert [a.outcome for a in caught.value.attempts] == ["error", "error"]


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.sent = 0

    def __iter__(self):
        for chunk in self.chunks:
            self.sent += 1
            yield chunk

    async def __aiter__(self):
        for chunk in self.__iter__():
            yield chunk


def _lines(chunks, status=200, max_bytes=None, use_async=False):
    """The lines `stream_lines` (or `astream_lines`) gives for a body sent as `chunks`."""
    stream = chunks if isinstance(chunks, _Chunks) else _Chunks(chunks)
    ep = Endpoint("openai", "openai_compat", "http://a.test/v1", None)
    call = HttpCall("POST", "http://a.test/v1/chat/completions", {}, {})

    def reply(request):
        return httpx.Response(status, stream=stream)

    if not use_async:
        with httpx.Client(transport=httpx.MockTransport(reply)) as client:
            return list(stream_lines(client, call, ep, 5.0, max_bytes)), stream

    async def main():
        async with httpx.AsyncClient(transport=httpx.MockTransport(reply)) as client:
            return [line async for line in astream_lines(client, call, ep, 5.0, max_bytes)]

    return asyncio.run(main()), stream


@pytest.mark.parametrize("use_async", [False, True])
def test_lines_are_split_across_chunks_and_the_cap_counts_bytes_as_they_come(use_async):
    lines, _ = _lines([b"data: a", b"b\r\n\r\nda", "ta: é\n".encode(), b"tail"], use_async=use_async)
    assert lines == ["data: ab", "", "data: é", "tail"]
    endless = _Chunks([b"x" * 100] * 1000)  # one line that never ends
    with pytest.raises(TooLarge, match="larger than 1000 bytes"):
        _lines(endless, max_bytes=1000, use_async=use_async)
    assert endless.sent <= 11  # stopped at the cap, not at the end of the line


@pytest.mark.parametrize("use_async", [False, True])
def test_a_huge_error_body_is_not_read_whole(use_async):
    body = _Chunks([b'{"error": {"message": "overloaded"}}', *[b" " * 65_536] * 100])
    with pytest.raises(ProviderError, match="overloaded") as caught:
        _lines(body, status=503, use_async=use_async)
    assert caught.value.status == 503 and body.sent <= 2  # 64 KiB read, not 6.4 MB


def test_a_long_line_is_joined_once_not_once_per_chunk():
    """Thousands of small chunks of one line: linear work (a quadratic join took minutes)."""
    lines = _Lines(_Cap(None, Endpoint("openai", "openai_compat", "http://a.test/v1", None)))
    for _ in range(20_000):
        assert lines.feed(b"x" * 1024) == []
    (line,) = lines.feed(b"y\nz")
    assert len(line) == 20_000 * 1024 + 1 and lines.close() == ["z"]


def test_a_base_url_without_a_scheme_is_an_endpoint_that_cannot_be_reached():
    ep = Endpoint("ollama", "ollama", "localhost:11434", None)
    error = transport_error(httpx.UnsupportedProtocol("Request URL is missing an 'http://' protocol."), ep)
    assert isinstance(error, ConnectFailed) and not error.retryable


def test_the_aiohttp_pool_fails_like_the_sync_client(server, caplog, capfd):
    from llmctl.engine.http import asend_json, send_json, shared_client

    bad = Endpoint("ollama", "ollama", "localhost:11434", None)  # no scheme: cannot be reached
    call = HttpCall("POST", "localhost:11434/api/chat", {}, {"model": "m"})
    pool = AsyncPool()

    async def send(n: int):
        try:
            await asend_json(pool.get(), call, bad, 1.0)
        finally:
            if n:
                await pool.aclose()

    with pytest.raises(ConnectFailed):
        asyncio.run(send(0))  # the pool's session outlives this loop...
    with pytest.raises(ConnectFailed):
        send_json(shared_client(), call, bad, 1.0)
    with pytest.raises(ConnectFailed):
        asyncio.run(send(1))  # ...and is let go, sockets closed, when the next loop asks
    assert "Unclosed" not in caplog.text + "".join(capfd.readouterr())


def test_the_async_pool_goes_through_the_proxy_the_environment_names(server, monkeypatch):
    """HTTP_PROXY / NO_PROXY count on the async path as on the sync one (the local server
    plays the proxy: it gets the request with the whole target URL)."""
    from fakeserver import openai_chat
    from llmctl.engine.http import asend_json, send_json

    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "direct.invalid")
    server.add(
        "http://api.example.invalid/v1/chat/completions", openai_chat("via proxy"), openai_chat("via proxy")
    )
    endpoint = Endpoint("openai", "openai_compat", "http://api.example.invalid/v1", None)
    call = HttpCall("POST", "http://api.example.invalid/v1/chat/completions", {}, {"model": "m"})
    pool = AsyncPool()

    async def send(target: HttpCall):
        try:
            return await asend_json(pool.get(), target, endpoint, 5.0)
        finally:
            await pool.aclose()

    assert asyncio.run(send(call))["choices"][0]["message"]["content"] == "via proxy"
    import httpx as real_httpx

    with real_httpx.Client() as sync:  # the sync client reads the same variables
        assert send_json(sync, call, endpoint, 5.0)["choices"][0]["message"]["content"] == "via proxy"
    assert [r["path"] for r in server.requests] == ["http://api.example.invalid/v1/chat/completions"] * 2
    bypassed = HttpCall("POST", "http://direct.invalid/v1/chat/completions", {}, {"model": "m"})
    with pytest.raises(ConnectFailed):  # NO_PROXY: sent directly, to a host that does not exist
        asyncio.run(send(bypassed))
