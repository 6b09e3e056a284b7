"""The Anthropic adapter's own details: `max_tokens` always set, the system prompt apart,
its event stream and error bodies (what `--simulate` sends) and reading them back."""

from __future__ import annotations

import pytest

from llmctl.errors import BadRequest, RateLimited, ServerFailed
from llmctl.providers import anthropic
from llmctl.providers.wire import ChatRequest, Message, Usage
from providers.adapters import REQ, body_json, endpoint, path, read_plain, read_stream


def test_the_cap_is_always_set_and_read_back():
    ep = endpoint("anthropic")
    bare = anthropic.build_chat(ep, "m", ChatRequest([Message("user", "hi")]), False, {})
    assert anthropic.answer_cap(ep, bare) == anthropic.DEFAULT_MAX_TOKENS
    assert anthropic.answer_cap(ep, anthropic.build_chat(ep, "m", REQ, False, {})) == 77


def test_the_system_prompt_is_read_back_from_its_own_field():
    call = anthropic.build_chat(endpoint("anthropic"), "m", REQ, True, {})
    assert "system" in call.json and all(m["role"] != "system" for m in call.json["messages"])
    asked = anthropic.asked(path(call), call.json)
    assert asked.stream and "Be brief." in asked.texts


def test_the_fake_stream_is_its_event_types_in_order_and_ends_with_message_stop():
    fake = anthropic.fake_chat("m", "abcd", Usage(4, 2), stream=True)
    events = [line[7:] for p in fake.pieces for line in p.decode().split("\n") if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert events.count("content_block_delta") == 2 and "message_delta" in events
    first = fake.pieces[0].decode()  # the server flushes the start with the first text
    assert "message_start" in first and "text_delta" in first
    chunks = read_stream("anthropic", fake)
    assert chunks[-1].usage.input_tokens == 4 and chunks[-1].finish_reason == "end_turn"


@pytest.mark.parametrize(
    "fault, kind",
    [
        ("400", "invalid_request_error"),
        ("401", "authentication_error"),
        ("404", "not_found_error"),
        ("429", "rate_limit_error"),
        ("500", "api_error"),
        ("context", "invalid_request_error"),
    ],
)
def test_error_bodies_are_anthropics_shape_with_its_types(fault, kind):
    body = body_json(anthropic.fake_failure(fault, False))
    assert body["type"] == "error" and body["error"]["type"] == kind and body["error"]["message"]


def test_retry_after_comes_through_and_server_errors_retry():
    fake = anthropic.fake_failure("429", False)
    with pytest.raises(RateLimited):
        read_plain("anthropic", fake.__class__(429, fake.pieces, (("retry-after", "3"),)))
    with pytest.raises(ServerFailed):
        read_plain("anthropic", anthropic.fake_failure("503", False))


def test_an_error_event_in_the_stream_is_a_server_failure():
    event = 'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
    with pytest.raises(ServerFailed) as caught:
        read_stream("anthropic", anthropic.fake_failure("empty", True).__class__(200, (event.encode(),)))
    assert caught.value.status == 529


def test_there_are_no_embeddings():
    assert not anthropic.EMBEDDINGS
    with pytest.raises(BadRequest):
        anthropic.fake_embed("m", [[0.1]], Usage(1, None))
