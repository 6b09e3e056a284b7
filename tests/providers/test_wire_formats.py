"""Wire formats of each adapter, checked with pytest-httpx."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import entry, write_json
from fakeserver import Reply
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.http import send_json, stream_lines
from llmctl.errors import Malformed, ProviderError
from llmctl.providers import anthropic, ollama, openai_compat
from llmctl.providers.resolve import resolve_endpoint
from llmctl.providers.table import Provider
from llmctl.providers.wire import ChatRequest, Message, malformed, retry_after, status_error

KEY = "sk-provider-test"
REQ = ChatRequest([Message("system", "Be brief."), Message("user", "Hi")], temperature=0.2, max_tokens=50)


def llm(**fields):
    spec = entry(fields.pop("id", "openai/gpt-4o"), **fields)
    return DictRegistry([spec]).get_by_id(spec["id"])


def endpoint_for(e, env=None, providers=None):
    return resolve_endpoint(
        e, providers or {}, env if env is not None else {"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY}
    )


def test_openai_request_shape(httpx_mock):
    e = llm()
    ep = endpoint_for(e)
    httpx_mock.add_response(
        url="https://api.openai.com/v1/chat/completions",
        json={
            "choices": [{"message": {"content": "Hello"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1},
            "model": "gpt-4o",
        },
    )
    call = openai_compat.build_chat(ep, e.model, REQ, False, {"temperature": 0.7, "top_p": 0.9})
    with httpx.Client() as client:
        result = openai_compat.parse_chat(send_json(client, call, ep, 5), ep)
    sent = httpx_mock.get_request()
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = json.loads(sent.content)
    assert body == {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 50,  # OpenAI's name; its reasoning models refuse max_tokens
    }
    assert (result.text, result.usage.input_tokens, result.usage.output_tokens) == ("Hello", 9, 1)


def test_openai_stream_chunks_and_usage(httpx_mock):
    ep = endpoint_for(llm())
    sse = (
        'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'
        'data: {"choices":[{"delta":{"content":"He"}}]}\n\n'
        ": keep-alive comment\n\n"
        'data: {"choices":[{"delta":{"content":"llo"},"finish_reason":"stop"}]}\n\n'
        'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'
        "data: [DONE]\n\n"
    )
    httpx_mock.add_response(content=sse.encode(), headers={"content-type": "text/event-stream"})
    call = openai_compat.build_chat(ep, "gpt-4o", REQ, True)
    assert call.json["stream"] is True and call.json["stream_options"] == {"include_usage": True}
    with httpx.Client() as client:
        chunks = list(openai_compat.parse_stream(stream_lines(client, call, ep, 5), ep))
    assert "".join(c.text for c in chunks) == "Hello"
    assert chunks[-1].usage.output_tokens == 2


def test_openai_stream_without_done_is_broken(httpx_mock):
    ep = endpoint_for(llm())
    httpx_mock.add_response(content=b'data: {"choices":[{"delta":{"content":"He"}}]}\n\n')
    with httpx.Client() as client, pytest.raises(ProviderError) as info:
        list(
            openai_compat.parse_stream(
                stream_lines(client, openai_compat.build_chat(ep, "m", REQ, True), ep, 5), ep
            )
        )
    assert info.value.kind == "stream_broken"


def test_azure_deployment_url_api_key_header_and_version(httpx_mock):
    e = llm(id="azure/my-deployment", provider="azure", api_base="https://res.openai.azure.com")
    ep = endpoint_for(e, {"AZURE_OPENAI_API_KEY": KEY, "AZURE_OPENAI_API_VERSION": "2024-06-01"})
    httpx_mock.add_response(
        url="https://res.openai.azure.com/openai/deployments/my-deployment/chat/completions"
        "?api-version=2024-06-01",
        json={"choices": [{"message": {"content": "ok"}}]},
    )
    call = openai_compat.build_chat(ep, e.model, REQ, False)
    with httpx.Client() as client:
        send_json(client, call, ep, 5)
    sent = httpx_mock.get_request()
    assert sent.headers["api-key"] == KEY and "authorization" not in sent.headers
    assert "model" not in json.loads(sent.content)


def test_openai_embeddings(httpx_mock):
    ep = endpoint_for(llm(id="openai/text-embedding-3-small"))
    httpx_mock.add_response(
        url="https://api.openai.com/v1/embeddings",
        json={
            "data": [{"index": 1, "embedding": [0.3]}, {"index": 0, "embedding": [0.1, 0.2]}],
            "usage": {"prompt_tokens": 4},
        },
    )
    call = openai_compat.build_embed(ep, "text-embedding-3-small", ["a", "b"])
    with httpx.Client() as client:
        vectors, usage = openai_compat.parse_embed(send_json(client, call, ep, 5), ep)
    assert vectors == [[0.1, 0.2], [0.3]] and usage.input_tokens == 4
    assert json.loads(httpx_mock.get_request().content) == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
    }


def test_anthropic_request_shape_and_response(httpx_mock):
    e = llm(id="anthropic/claude-x", provider="anthropic")
    ep = endpoint_for(e)
    httpx_mock.add_response(
        url="https://api.anthropic.com/v1/messages",
        json={
            "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}],
            "model": "claude-x",
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 12, "output_tokens": 2},
        },
    )
    call = anthropic.build_chat(
        ep, e.model, ChatRequest([Message("system", "Be brief."), Message("user", "Hi")]), False
    )
    with httpx.Client() as client:
        result = anthropic.parse_chat(send_json(client, call, ep, 5), ep)
    sent = httpx_mock.get_request()
    assert sent.headers["x-api-key"] == KEY and sent.headers["anthropic-version"] == "2023-06-01"
    body = json.loads(sent.content)
    assert body == {
        "model": "claude-x",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 4096,
        "system": "Be brief.",
    }
    assert (result.text, result.usage.input_tokens, result.finish_reason) == ("Hello", 12, "end_turn")


def test_anthropic_stream_error_event(httpx_mock):
    ep = endpoint_for(llm(id="anthropic/c", provider="anthropic"))
    sse = (
        'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":5}}}\n\n'
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    httpx_mock.add_response(content=sse.encode())
    call = anthropic.build_chat(ep, "c", REQ, True)
    with httpx.Client() as client, pytest.raises(ProviderError) as info:
        list(anthropic.parse_stream(stream_lines(client, call, ep, 5), ep))
    assert info.value.kind == "server" and info.value.retryable and "Overloaded" in info.value.message


def test_ollama_request_options_and_ndjson_stream(httpx_mock):
    e = llm(id="ollama/llama3.2:3b", provider="ollama")
    ep = endpoint_for(e, {})
    assert ep.api_key is None and ep.base_url == "http://localhost:11434"
    lines = (
        b'{"message":{"content":"A"},"done":false}\n{"message":{"content":"B"},"done":true,'
        b'"prompt_eval_count":4,"eval_count":2}\n'
    )
    httpx_mock.add_response(url="http://localhost:11434/api/chat", content=lines)
    call = ollama.build_chat(ep, e.model, REQ, True)
    with httpx.Client() as client:
        chunks = list(ollama.parse_stream(stream_lines(client, call, ep, 5), ep))
    body = json.loads(httpx_mock.get_request().content)
    assert body["options"] == {"temperature": 0.2, "num_predict": 50} and body["stream"] is True
    assert "".join(c.text for c in chunks) == "AB" and chunks[-1].usage.input_tokens == 4


def test_ollama_embed(httpx_mock):
    ep = endpoint_for(llm(id="ollama/nomic-embed-text", provider="ollama"), {})
    httpx_mock.add_response(url="http://localhost:11434/api/embed", json={"embeddings": [[0.5, 0.25]]})
    with httpx.Client() as client:
        vectors, _ = ollama.parse_embed(
            send_json(client, ollama.build_embed(ep, "nomic-embed-text", ["x"]), ep, 5), ep
        )
    assert vectors == [[0.5, 0.25]]


@pytest.mark.parametrize(
    "adapter, body",
    [
        (openai_compat, ["not", "an", "object"]),
        (openai_compat, {"data": [{"embedding": [0.1]}], "usage": ["x"]}),
        (openai_compat, {"data": [["no", "objects"]]}),
        (ollama, ["embeddings"]),
    ],
)
def test_embedding_answers_of_the_wrong_shape_are_malformed_not_a_crash(adapter, body):
    ep = endpoint_for(llm(id="ollama/e", provider="ollama"), {})
    with pytest.raises(Malformed, match="unexpected response shape"):
        adapter.parse_embed(body, ep)


@pytest.mark.parametrize(
    "status, body, kind, retryable",
    [
        (400, '{"error":{"message":"maximum context length is 8192 tokens"}}', "context_length", False),
        (400, '{"error":{"message":"bad temperature"}}', "bad_request", False),
        (401, '{"error":{"message":"invalid key"}}', "auth", False),
        (404, '{"error":"model not found"}', "not_found", False),
        (408, "timeout", "timeout", True),
        (429, '{"error":{"message":"rate"}}', "rate_limit", True),
        (500, "oops", "server", True),
        (529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', "server", True),
    ],
)
def test_status_mapping(status, body, kind, retryable):
    ep = endpoint_for(llm())
    err = status_error(status, body, {}, ep)
    assert (err.kind, err.retryable, err.status) == (kind, retryable, status)


def test_retry_after_seconds_and_http_date():
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}) is None


def test_missing_key_is_reported_not_sent():
    with pytest.raises(ProviderError) as info:
        endpoint_for(llm(), {})
    assert info.value.kind == "no_key" and info.value.message == "OPENAI_API_KEY is not set"


def test_base_url_precedence():
    e = llm(provider="openai")
    assert endpoint_for(e, {"OPENAI_API_KEY": KEY}).base_url == "https://api.openai.com/v1"
    providers = {"openai": Provider(base_url="http://config.example/v1")}
    assert endpoint_for(e, {"OPENAI_API_KEY": KEY}, providers).base_url == "http://config.example/v1"
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "http://env.example/v1/"}
    assert endpoint_for(e, env, providers).base_url == "http://env.example/v1"
    e2 = llm(provider="openai", api_base="http://entry.example/v1")
    assert endpoint_for(e2, env, providers).base_url == "http://entry.example/v1"


def test_key_in_error_bodies_is_redacted(httpx_mock):
    ep = endpoint_for(llm())
    httpx_mock.add_response(
        status_code=401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}
    )
    with httpx.Client() as client, pytest.raises(ProviderError) as info:
        send_json(client, openai_compat.build_chat(ep, "gpt-4o", REQ, False), ep, 5)
    assert KEY not in info.value.message and "***" in info.value.message


def test_compatible_servers_keep_max_tokens_and_mistral_gets_no_stream_options():
    groq = endpoint_for(llm(id="groq/x", provider="groq"), {"GROQ_API_KEY": KEY})
    call = openai_compat.build_chat(groq, "x", REQ, True)
    assert call.json["max_tokens"] == 50 and call.json["stream_options"] == {"include_usage": True}
    mistral = endpoint_for(llm(id="mistral/m", provider="mistral"), {"MISTRAL_API_KEY": KEY})
    call = openai_compat.build_chat(mistral, "m", REQ, True)
    assert call.json["stream"] is True and "stream_options" not in call.json


def test_azure_model_list_url(httpx_mock):
    ep = endpoint_for(
        llm(id="azure/d", provider="azure", api_base="https://res.openai.azure.com"),
        {"AZURE_OPENAI_API_KEY": KEY},
    )
    httpx_mock.add_response(
        url="https://res.openai.azure.com/openai/models?api-version=2024-10-21",
        json={"data": [{"id": "gpt-4o"}]},
    )
    with httpx.Client() as client:
        assert openai_compat.parse_models(send_json(client, openai_compat.build_models(ep), ep, 5), ep) == [
            {"id": "gpt-4o"}
        ]


def test_odd_stream_chunks_do_not_crash(httpx_mock):
    ep = endpoint_for(llm())
    sse = (
        'data: {"choices":[{"delta":null,"finish_reason":null}]}\n\n'
        'data: {"choices":[{"delta":{"content":"ok"}}]}\n\n'
        "data: [DONE]\n\n"
    )
    httpx_mock.add_response(content=sse.encode())
    with httpx.Client() as client:
        chunks = list(
            openai_compat.parse_stream(
                stream_lines(client, openai_compat.build_chat(ep, "m", REQ, True), ep, 5), ep
            )
        )
    assert "".join(c.text for c in chunks) == "ok"


def test_ollama_errors_are_redacted(httpx_mock):
    e = llm(id="ollama/l", provider="ollama", auth={"api_key_env": "OLLAMA_KEY"})
    ep = endpoint_for(e, {"OLLAMA_KEY": KEY})
    httpx_mock.add_response(content=f'{{"error":"invalid token {KEY}"}}\n'.encode())
    with httpx.Client() as client, pytest.raises(ProviderError) as info:
        list(ollama.parse_stream(stream_lines(client, ollama.build_chat(ep, "l", REQ, True), ep, 5), ep))
    assert KEY not in info.value.message and "***" in info.value.message
    assert KEY not in malformed(ep, {"weird": KEY}).message


def test_retry_after_future_http_date():
    import email.utils
    import time

    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after({"retry-after": future}) <= 30


def test_anthropic_stream_keeps_input_tokens_from_message_start():
    """message_start carries the input tokens; a later message_delta that repeats them as 0
    (or leaves them out) must not undercount the cost."""
    ep = endpoint_for(llm(id="anthropic/c", provider="anthropic"))
    for later in ('"input_tokens":0,', ""):
        lines = (
            'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1234,"output_tokens":1}}}\n\n'
            'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"}}\n\n'
            'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
            f'"usage":{{{later}"output_tokens":42}}}}\n\n'
            'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        ).split("\n")
        chunks = list(anthropic.parse_stream(iter(lines), ep))
        usage = [c.usage for c in chunks if c.usage][-1]
        assert (usage.input_tokens, usage.output_tokens) == (1234, 42)


def test_a_stream_that_is_not_json_is_unreadable_not_retried():
    from llmctl.errors import StreamUnreadable

    ep = endpoint_for(llm())
    parser = openai_compat.stream_parser(ep)
    with pytest.raises(StreamUnreadable) as info:
        parser.feed("data: <html>proxy error</html>")
        parser.feed("")
    assert info.value.retryable is False and "--no-stream" in info.value.hint


def test_stream_parsers_take_lines_one_at_a_time():
    """The async engine feeds lines as they arrive; the parser gives chunks as soon as a
    line completes them, and nothing after the terminator."""
    ep = endpoint_for(llm())
    parser = openai_compat.stream_parser(ep)
    assert parser.feed('data: {"choices":[{"delta":{"content":"He"}}]}') == []
    assert [c.text for c in parser.feed("")] == ["He"]
    parser.feed("data: [DONE]")
    parser.feed("")
    assert parser.done and parser.feed('data: {"choices":[{"delta":{"content":"late"}}]}') == []
    assert parser.close() == []


def test_cached_input_and_reasoning_tokens_are_read_where_reported():
    ep = endpoint_for(llm())
    data = {
        "choices": [{"message": {"content": "x"}}],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 40,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": {"reasoning_tokens": 30},
        },
    }
    usage = openai_compat.parse_chat(data, ep).usage
    assert (usage.cached_input_tokens, usage.reasoning_tokens) == (64, 30)
    anth = endpoint_for(llm(id="anthropic/c", provider="anthropic"))
    body = {
        "content": [{"type": "text", "text": "x"}],
        "usage": {
            "input_tokens": 9,
            "output_tokens": 2,
            "cache_read_input_tokens": 7,
            "cache_creation_input_tokens": 4,
        },
    }
    usage = anthropic.parse_chat(body, anth).usage
    # llmctl's input count is the whole prompt, as OpenAI's is: fresh + read + written
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens) == (20, 7, 2)
    assert usage.cache_write_tokens == 4


LONG_KEY = "sk-proj-Q7vX2mLp9RtZ4wKc8NbH3yJd6FgA1sEu"


@pytest.mark.parametrize("straddle", [1, 6, 20, len(LONG_KEY) - 1])
@pytest.mark.parametrize("known", [True, False])
def test_error_text_is_redacted_before_it_is_cut(straddle, known):
    """A key across the 300-character cut of an error body keeps no part of its head, in a
    status error, an error in a stream and a malformed answer alike, known key or not."""
    env = {"OPENAI_API_KEY": LONG_KEY if known else KEY}
    ep = endpoint_for(llm(), env)
    text = "x" * (299 - straddle) + " " + LONG_KEY + " is not a valid key"
    messages = [
        status_error(401, json.dumps({"error": {"message": text}}), {}, ep).message,
        status_error(500, text, {}, ep).message,
        malformed(ep, text[150:]).message,
    ]
    with pytest.raises(ProviderError) as raised:
        parser = openai_compat.stream_parser(ep)
        parser.feed("data: " + json.dumps({"error": {"message": text}}))
        parser.feed("")
    messages.append(raised.value.message)
    for message in messages:
        assert not any(LONG_KEY[n : n + 6] in message for n in range(len(LONG_KEY) - 5)), message
        assert "xxx" in message


def test_a_cut_drops_a_key_beginning_it_splits():
    from llmctl.files.secrets import cut

    assert cut("error: sk-ab" + "cd" * 20, 12) == "error: ***"
    assert cut("error: plain words", 12) == "error: plain"
    assert cut("short", 12) == "short"


PARTS = [
    {"type": "text", "text": "Hel"},
    {"type": "image_url", "image_url": {"url": "https://x.example/i.png"}},
    {"type": "reasoning", "text": "(hidden)"},
    {"type": "output_text", "text": "lo"},
    " world",
]


def test_openai_content_as_a_list_of_parts_is_one_string(httpx_mock):
    """Plain and streamed, an answer given as parts reaches the caller as one string."""
    ep = endpoint_for(llm())
    httpx_mock.add_response(
        url="https://api.openai.com/v1/chat/completions",
        json={"choices": [{"message": {"content": PARTS}, "finish_reason": "stop"}]},
    )
    sse = "".join(
        "data: " + json.dumps({"choices": [{"delta": {"content": content}}]}) + "\n\n"
        for content in (PARTS[:2], [], PARTS[2:], None, "!")
    )
    httpx_mock.add_response(content=(sse + "data: [DONE]\n\n").encode())
    with httpx.Client() as client:
        plain = openai_compat.parse_chat(
            send_json(client, openai_compat.build_chat(ep, "gpt-4o", REQ, False), ep, 5), ep
        )
        call = openai_compat.build_chat(ep, "gpt-4o", REQ, True)
        chunks = list(openai_compat.parse_stream(stream_lines(client, call, ep, 5), ep))
    assert plain.text == "Hello world"
    assert [c.text for c in chunks] == ["Hel", "", "lo world", "", "!"]
    assert all(isinstance(c.text, str) for c in chunks)


def test_anthropic_and_ollama_parts_are_joined_and_odd_ones_malformed():
    ep = endpoint_for(llm(id="anthropic/c", provider="anthropic"))
    blocks = [
        {"type": "thinking", "thinking": "hmm"},
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]
    assert anthropic.parse_chat({"content": blocks}, ep).text == "ab"
    assert ollama.parse_chat({"message": {"content": PARTS}}, ep).text == "Hello world"
    for odd in ({"message": {"content": 42}}, {"message": {"content": [{"type": "text", "text": 7}]}}):
        with pytest.raises(Malformed):
            ollama.parse_chat(odd, ep)
        with pytest.raises(Malformed):
            openai_compat.parse_chat({"choices": [odd]}, ep)


def test_an_answer_in_parts_is_a_string_in_prompt_json_and_batch(cli, home, server, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    catalog = write_json(
        tmp_path / "team.json",
        {"llms": [entry("openai/a", api_base=f"{server.url}/v1", capabilities=["streaming"])]},
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(catalog))
    answer = {"choices": [{"message": {"content": PARTS}, "finish_reason": "stop"}]}
    streamed = [
        "data: " + json.dumps({"choices": [{"delta": {"content": PARTS}}]}) + "\n\n",
        "data: [DONE]\n\n",
    ]
    server.add("/v1/chat/completions", Reply(body=answer), Reply(body=answer), Reply(body=answer))
    server.add("/v1/chat/completions", Reply(headers={"content-type": "text/event-stream"}, chunks=streamed))
    result = cli("prompt", "hi", "--llm", "openai/a", "--no-stream")
    assert (result.exit_code, result.stdout) == (0, "Hello world\n"), result.stderr
    result = cli("prompt", "hi", "--llm", "openai/a", "--json")
    assert json.loads(result.stdout)["text"] == "Hello world"
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": "1", "prompt": "x"}\n')
    assert cli("batch", str(lines), "-o", str(tmp_path / "out.jsonl"), "--llm", "openai/a").exit_code == 0
    assert json.loads((tmp_path / "out.jsonl").read_text())["text"] == "Hello world"
    result = cli("prompt", "hi", "--llm", "openai/a")
    assert (result.exit_code, result.stdout) == (0, "Hello world\n"), result.stderr
