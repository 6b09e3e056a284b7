"""The OpenAI-compatible adapter's own details: its cap's name per provider, its SSE
stream and `[DONE]`, its error bodies (what `--simulate` sends) and reading them back."""

from __future__ import annotations

import json

import pytest

from llmctl.errors import ContextTooLong, StreamBroken
from llmctl.providers import openai_compat
from llmctl.providers.wire import ChatRequest, Usage
from providers.adapters import REQ, body_json, endpoint, lines, path, read_plain, read_stream


@pytest.mark.parametrize(
    "provider, field",
    [("openai", "max_completion_tokens"), ("azure", "max_completion_tokens"), ("groq", "max_tokens")],
)
def test_the_cap_is_max_completion_tokens_for_openai_and_azure_only(provider, field):
    ep = endpoint("openai_compat", provider)
    call = openai_compat.build_chat(ep, "m", REQ, False, {})
    assert openai_compat.max_tokens_field(ep) == field
    assert (
        call.json[field] == 77 and {"max_tokens", "max_completion_tokens"} - {field} & set(call.json) == set()
    )
    assert openai_compat.answer_cap(ep, call) == 77


def test_a_cap_given_under_the_other_name_by_an_entrys_params_still_counts():
    ep = endpoint("openai_compat", "groq")
    call = openai_compat.build_chat(ep, "m", ChatRequest(REQ.messages), False, {"max_completion_tokens": 9})
    assert openai_compat.answer_cap(ep, call) == 9
    assert (
        openai_compat.answer_cap(ep, openai_compat.build_chat(ep, "m", ChatRequest(REQ.messages), False, {}))
        is None
    )


def test_embeddings_and_chat_are_told_apart_by_path_and_a_single_input_is_one_text():
    assert openai_compat.asked("/v1/embeddings", {"input": "one"}).texts == ("one",)
    assert not openai_compat.asked("/v1/chat/completions", {"messages": []}).embed


def test_the_fake_stream_is_sse_chunks_then_usage_then_done():
    fake = openai_compat.fake_chat("m", "abcd", Usage(4, 2), stream=True)
    frames = [p.decode() for p in fake.pieces]
    assert all(f.startswith("data: ") and f.endswith("\n\n") for f in frames)
    assert frames[-1] == "data: [DONE]\n\n"
    assert json.loads(frames[-2][6:]) == {
        "choices": [],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2},
    }
    assert [c.finish_reason for c in read_stream("openai_compat", fake) if c.finish_reason] == ["stop"]


def test_a_stream_without_done_is_broken():
    fake = openai_compat.fake_chat("m", "abcd", Usage(4, 2), stream=True)
    with pytest.raises(StreamBroken, match=r"\[DONE\]"):
        read_stream("openai_compat", fake.__class__(200, fake.pieces[:-1]))


def test_error_bodies_are_openais_shape_with_its_codes():
    context = body_json(openai_compat.fake_failure("context", False))
    assert context["error"]["code"] == "context_length_exceeded"
    assert context["error"]["type"] == "invalid_request_error"
    assert body_json(openai_compat.fake_failure("401", False))["error"]["code"] == "invalid_api_key"
    assert body_json(openai_compat.fake_failure("429", False))["error"]["code"] == "rate_limit_exceeded"
    with pytest.raises(ContextTooLong):
        read_plain("openai_compat", openai_compat.fake_failure("context", False))


def test_an_empty_stream_is_done_alone():
    fake = openai_compat.fake_failure("empty", True)
    assert lines(fake) == ["data: [DONE]", "", ""]


def test_the_azure_request_reads_back_from_its_deployment_path():
    ep = endpoint("openai_compat", "azure")
    call = openai_compat.build_embed(ep, "dep", ["x"])
    assert path(call).endswith("/openai/deployments/dep/embeddings")
    assert openai_compat.asked(path(call), call.json).embed
