"""The Python client against a local server: complete, stream, embed, async, seed 002's invoke."""

from __future__ import annotations

import asyncio

import pytest

from fakeserver import Reply, openai_chat, openai_stream
from llmctl.client import LLMClient, get_llm_with_fallback


def test_client_complete_stream_embed_and_async(team_catalog, server):
    server.add("/a/v1/chat/completions", openai_chat("one"), openai_stream(["t", "wo"]), openai_chat("three"))
    server.add("/a/v1/embeddings", Reply(body={"data": [{"index": 0, "embedding": [1.0]}]}))
    client = LLMClient(team_catalog.get("openai/first"), catalog=team_catalog)
    response = client.complete("hi", system="Be brief.", temperature=0.1)
    assert (response.content, response.text, response.llm) == ("one", "one", "openai/first")
    assert server.requests[0]["json"]["temperature"] == 0.1
    assert list(client.stream("hi")) == ["t", "wo"]
    assert asyncio.run(client.ainvoke("hi")).content == "three"
    embed_client = LLMClient(team_catalog.get("openai/emb"), catalog=team_catalog)
    assert embed_client.embed("whale") == [[1.0]]


def test_llm_record_invoke_has_the_seed_002_shape(team_catalog, server, home):
    server.add("/a/v1/chat/completions", openai_chat("Python is a language."))
    import llmctl

    llm = llmctl.get_llm(llm_id="openai/first", catalog=team_catalog)
    assert llm.invoke("What is Python?").content == "Python is a language."


def test_get_llm_with_fallback_walks_priority_and_raises_runtime_error(team_catalog, server):
    server.add("/a/v1/chat/completions", Reply(400, {"error": {"message": "no"}}))  # (a 401 cools the key)
    server.add("/b/v1/chat/completions", openai_chat("from second"))
    assert get_llm_with_fallback(catalog=team_catalog).invoke("hi").content == "from second"
    server.add("/a/v1/chat/completions", Reply(401, {"error": {"message": "no"}}))
    server.add("/b/v1/chat/completions", Reply(403, {"error": {"message": "forbidden"}}))
    with pytest.raises(RuntimeError) as info:
        get_llm_with_fallback(catalog=team_catalog).invoke("hi")
    text = str(info.value)
    assert "openai/first" in text and "openai/second" in text and "openai/old-model" in text
    assert "anthropic/nokey (anthropic): ANTHROPIC_API_KEY is not set" in text  # listed, nothing sent


def test_async_calls_are_native_and_share_one_pool(team_catalog, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("pooled")
    server.add("/a/v1/embeddings", Reply(body={"data": [{"index": 0, "embedding": [0.5, 0.25]}]}))

    async def main():
        async with LLMClient(team_catalog.get("openai/first"), catalog=team_catalog) as client:
            answers = await asyncio.gather(*(client.acomplete(f"q{n}") for n in range(20)))
            pieces = [p async for p in client.astream("hi")]
            vectors = await LLMClient(team_catalog.get("openai/emb"), catalog=team_catalog).aembed("whale")
            return answers, pieces, vectors, client.sender.apool

    answers, pieces, vectors, pool = asyncio.run(main())
    assert {a.content for a in answers} == {"pooled"} and "".join(pieces) == "pooled"
    assert vectors == [[0.5, 0.25]]
    assert pool._session is None  # closed by `async with`
    # 21 chat requests at once over a pool: far fewer connections than requests.
    assert len({r["client_port"] for r in server.requests if r["path"].endswith("completions")}) < 21


def test_an_http_client_passed_in_is_used_as_is(team_catalog):
    import httpx

    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"content": "mocked"}}], "usage": {}})

    transport = httpx.MockTransport(handler)
    with (
        httpx.Client(transport=transport) as http,
        LLMClient(team_catalog.get("openai/first"), http_client=http, catalog=team_catalog) as c,
    ):
        assert c.complete("hi").content == "mocked"
    assert seen and seen[0].url.path == "/a/v1/chat/completions"

    async def main():
        async with httpx.AsyncClient(transport=transport) as http:
            client = LLMClient(team_catalog.get("openai/first"), http_client=http, catalog=team_catalog)
            answer = await client.acomplete("hi")
            await client.aclose()
            return answer, http.is_closed

    answer, closed = asyncio.run(main())
    assert answer.content == "mocked" and closed is False  # left open: it is the caller's


def test_batch_returns_one_output_per_item_in_order(team_catalog, server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("a")
    server.defaults["/b/v1/chat/completions"] = openai_chat("b")
    client = LLMClient([team_catalog.get("openai/first")], catalog=team_catalog)
    items = [{"prompt": f"p{n}"} for n in range(6)] + [{"id": "own", "prompt": "x", "llm": "openai/second"}]
    out = client.batch(items, concurrency=3)
    assert [o["id"] for o in out] == ["0", "1", "2", "3", "4", "5", "own"]
    assert [o["text"] for o in out] == ["a"] * 6 + ["b"]
    with pytest.raises(Exception) as info:
        client.batch([{"prompt": "x", "colour": "red"}])
    assert "unknown field 'colour'" in str(info.value)


def test_python_api_warns_when_a_named_llm_is_skipped(team_catalog):
    import llmctl
    from llmctl.errors import LlmctlWarning

    class Draft:
        allowed_llm_group = "writer"

    with pytest.warns(LlmctlWarning, match="job llm anthropic/nokey skipped: ANTHROPIC_API_KEY is not set"):
        llm = llmctl.select_llm_for_job(Draft, None, {"llm_id": "anthropic/nokey"}, catalog=team_catalog)
    assert llm.id == "openai/first"


def test_an_async_client_nobody_closes_lets_its_sockets_go_quietly(server, tmp_path):
    """aiohttp says "Unclosed client session" when a process ends with a session open; a
    pool nobody closed lets its session go first."""
    import subprocess
    import sys

    server.defaults["/a/v1/chat/completions"] = openai_chat("unclosed")
    script = f"""
import asyncio
from llmctl import LLMClient
from llmctl.catalog.registry import DictRegistry
entry = DictRegistry([{{"id": "acme/a", "provider": "openai", "api_base": "{server.url}/a/v1"}}]).get_by_id("acme/a")
print(asyncio.run(LLMClient(entry).acomplete("hi")).content)
"""
    env = {"OPENAI_API_KEY": "k", "LLMCTL_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout == "unclosed\n", done.stderr
    assert "Unclosed" not in done.stderr


def test_bad_time_limits_and_text_that_is_not_unicode_are_refused_before_sending(team_catalog, server):
    from llmctl.errors import UsageError

    for seconds in (float("inf"), float("nan"), 2 * 86_400.0):
        with pytest.raises(UsageError, match="time limit"):
            LLMClient(team_catalog.get("openai/first"), catalog=team_catalog, timeout=seconds)
    client = LLMClient(team_catalog.get("openai/first"), catalog=team_catalog, timeout=5.0)
    with pytest.raises(ValueError, match="not valid Unicode"):  # a 400 on serve
        client.complete("caf\udce9")
    with pytest.raises(ValueError, match="not valid Unicode"):
        asyncio.run(client.acomplete("\ud800 lone"))
    assert server.requests == []


def test_the_async_client_takes_max_cost_and_cache_as_prompt_does(team_catalog, server):
    from llmctl.errors import NoMatchError

    team = team_catalog
    server.add("/a/v1/chat/completions", openai_chat("kept"))
    first = team.get("openai/first")
    assert first.input_cost_per_mtok  # priced, so --max-cost applies

    async def main():
        async with LLMClient(first, catalog=team, cache=True) as cached:
            sent = await cached.acomplete("same question")
            again = await cached.acomplete("same question")
        async with LLMClient(first, catalog=team, max_cost=0.0000001) as capped:
            with pytest.raises(NoMatchError, match="--max-cost"):
                await capped.acomplete("too dear")
        return sent, again

    sent, again = asyncio.run(main())
    assert sent.content == again.content == "kept"
    assert [a.outcome for a in again.attempts] == ["cache_hit"]
    assert len(server.requests) == 1  # the second answer came from the cache; the capped one sent nothing
