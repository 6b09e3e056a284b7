"""The Ollama adapter's own details: the cap under `options.num_predict`, NDJSON streams
ending at `done`, its one-string error bodies (what `--simulate` sends)."""

from __future__ import annotations

import json

import pytest

from llmctl.errors import ModelNotFound, StreamBroken
from llmctl.providers import ollama
from llmctl.providers.wire import Usage
from providers.adapters import REQ, body_json, endpoint, read_plain, read_stream


def test_the_cap_is_num_predict_in_options():
    ep = endpoint("ollama")
    call = ollama.build_chat(ep, "m", REQ, False, {})
    assert ollama.max_tokens_field(ep) == "options.num_predict"
    assert call.json["options"] == {"num_predict": 77} and ollama.answer_cap(ep, call) == 77


def test_a_request_without_stream_streams_as_ollama_does():
    assert ollama.asked("/api/chat", {"messages": []}).stream
    assert not ollama.asked("/api/chat", {"messages": [], "stream": False}).stream
    assert ollama.asked("/api/embed", {"input": ["a"]}).embed


def test_the_fake_stream_is_one_json_object_a_line_ending_at_done():
    fake = ollama.fake_chat("m", "abcd", Usage(4, 2), stream=True)
    objects = [json.loads(p) for p in fake.pieces]
    assert [o["done"] for o in objects] == [False, False, True]
    assert (objects[-1]["prompt_eval_count"], objects[-1]["eval_count"]) == (4, 2)
    assert "".join(c.text for c in read_stream("ollama", fake)) == "abcd"


def test_a_stream_that_ends_before_done_is_broken():
    fake = ollama.fake_chat("m", "abcd", Usage(4, 2), stream=True)
    with pytest.raises(StreamBroken, match="done"):
        read_stream("ollama", fake.__class__(200, fake.pieces[:-1]))


def test_errors_are_one_string_and_read_back():
    assert body_json(ollama.fake_failure("404", False)) == {"error": "simulated 404"}
    with pytest.raises(ModelNotFound, match="simulated 404"):
        read_plain("ollama", ollama.fake_failure("404", False))
