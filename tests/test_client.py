"""The Python client against a local server: complete, stream, embed, async, seed 002's invoke."""

from __future__ import annotations

import asyncio

import pytest

from fakeserver import Reply, openai_chat, openai_stream
from llmctl.client import LLMClient, get_llm_with_fallback


def test_client_complete_stream_embed_and_async(team, server):
    server.add("/a/v1/chat/completions", openai_chat("one"), openai_stream(["t", "wo"]), openai_chat("three"))
    server.add("/a/v1/embeddings", Reply(body={"data": [{"index": 0, "embedding": [1.0]}]}))
    client = LLMClient(team.get("openai/first"), catalog=team)
    response = client.complete("hi", system="Be brief.", temperature=0.1)
    assert (response.content, response.text, response.llm) == ("one", "one", "openai/first")
    assert server.requests[0]["json"]["temperature"] == 0.1
    assert list(client.stream("hi")) == ["t", "wo"]
    assert asyncio.run(client.ainvoke("hi")).content == "three"
    embed_client = LLMClient(team.get("openai/emb"), catalog=team)
    assert embed_client.embed("whale") == [[1.0]]


def test_llm_record_invoke_has_the_seed_002_shape(team, server, home):
    server.add("/a/v1/chat/completions", openai_chat("Python is a language."))
    import llmctl

    llm = llmctl.get_llm(llm_id="openai/first", catalog=team)
    assert llm.invoke("What is Python?").content == "Python is a language."


def test_get_llm_with_fallback_walks_priority_and_raises_runtime_error(team, server):
    server.add("/a/v1/chat/completions", Reply(401, {"error": {"message": "no"}}))
    server.add("/b/v1/chat/completions", openai_chat("from second"))
    assert get_llm_with_fallback(catalog=team).invoke("hi").content == "from second"
    server.add("/a/v1/chat/completions", Reply(401, {"error": {"message": "no"}}))
    server.add("/b/v1/chat/completions", Reply(403, {"error": {"message": "forbidden"}}))
    with pytest.raises(RuntimeError) as info:
        get_llm_with_fallback(catalog=team).invoke("hi")
    text = str(info.value)
    assert "openai/first" in text and "openai/second" in text and "openai/old-model" in text
    assert "anthropic/nokey (anthropic): ANTHROPIC_API_KEY is not set" in text  # listed, nothing sent
