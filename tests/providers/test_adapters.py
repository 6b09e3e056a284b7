"""Every adapter of `table.ADAPTERS` keeps the `Adapter` protocol: its requests read back
as they were built, its cap is where it puts it, and every canned answer it gives
`--simulate` reads through its own parsers as the engine reads a real one. A new protocol
gets these tests by its row in the table."""

from __future__ import annotations

import inspect
from dataclasses import replace

import pytest

from llmctl.errors import (
    AuthFailed,
    BadRequest,
    ContextTooLong,
    Malformed,
    ModelNotFound,
    RateLimited,
    ServerFailed,
    StreamBroken,
)
from llmctl.providers import Adapter, adapter_for, fakes
from llmctl.providers.table import ADAPTERS, BUILTIN_PROVIDERS, KINDS
from llmctl.providers.wire import Usage, parse_json
from providers.adapters import REQ, body_json, endpoint, lines, path, read_plain, read_stream

ALL = pytest.mark.parametrize("kind", KINDS)
EMBEDDING = [k for k in KINDS if adapter_for(k).EMBEDDINGS]


def test_the_table_names_a_module_for_every_kind_a_provider_uses():
    assert set(KINDS) == set(ADAPTERS)
    assert {p.kind for p in BUILTIN_PROVIDERS.values()} <= set(KINDS)


@ALL
def test_each_adapter_offers_every_member_of_the_protocol(kind):
    adapter = adapter_for(kind)
    members = {n for n, _ in inspect.getmembers(Adapter) if not n.startswith("_")} | {"EMBEDDINGS"}
    assert {m for m in members if not hasattr(adapter, m)} == set()
    assert isinstance(adapter.EMBEDDINGS, bool)


@ALL
@pytest.mark.parametrize("stream", [False, True])
def test_a_built_chat_request_reads_back_as_it_was_built(kind, stream):
    adapter, ep = adapter_for(kind), endpoint(kind)
    call = adapter.build_chat(ep, "m-1", REQ, stream, {})
    asked = adapter.asked(path(call), call.json)
    assert (asked.embed, asked.stream) == (False, stream)
    assert {"Be brief.", "Say hi"} <= set(asked.texts)


@ALL
def test_the_answer_cap_is_read_where_the_max_tokens_field_puts_it(kind):
    adapter, ep = adapter_for(kind), endpoint(kind)
    call = adapter.build_chat(ep, "m-1", REQ, False, {})
    where = call.json
    *parents, name = adapter.max_tokens_field(ep).split(".")
    for parent in parents:
        where = where[parent]
    assert where[name] == 77 and adapter.answer_cap(ep, call) == 77


@ALL
def test_a_fake_plain_answer_parses_to_its_text_and_usage(kind):
    fake = adapter_for(kind).fake_chat("m-1", "hello there", Usage(12, 3), stream=False)
    result = read_plain(kind, fake)
    assert (result.text, result.usage.input_tokens, result.usage.output_tokens) == ("hello there", 12, 3)
    assert result.model == "m-1"


@ALL
def test_a_fake_stream_parses_to_its_text_usage_and_end(kind):
    fake = adapter_for(kind).fake_chat("m-1", "hello there", Usage(12, 3), stream=True)
    chunks = read_stream(kind, fake)  # raises StreamBroken if the stream misses its end
    assert "".join(c.text for c in chunks) == "hello there"
    usage = [c.usage for c in chunks if c.usage is not None][-1]
    assert (usage.input_tokens, usage.output_tokens) == (12, 3)
    assert len([c for c in chunks if c.text]) == 2  # the text comes in pieces


@ALL
def test_a_fake_streams_first_piece_carries_text_and_alone_is_a_broken_stream(kind):
    adapter, ep = adapter_for(kind), endpoint(kind)
    fake = adapter.fake_chat("m-1", "hello there", Usage(1, 1), stream=True)
    parser = adapter.stream_parser(ep)
    first = replace(fake, pieces=fake.pieces[:1])
    text = "".join(c.text for line in lines(first) for c in parser.feed(line))
    assert text == "hello"
    with pytest.raises(StreamBroken):
        parser.close()


STATUS_FAULTS = [
    ("400", 400, BadRequest),
    ("401", 401, AuthFailed),
    ("404", 404, ModelNotFound),
    ("429", 429, RateLimited),
    ("500", 500, ServerFailed),
    ("503", 503, ServerFailed),
    ("context", 400, ContextTooLong),
]


@ALL
@pytest.mark.parametrize("fault, status, error", STATUS_FAULTS)
@pytest.mark.parametrize("stream", [False, True])
def test_a_fake_error_is_the_providers_body_and_maps_to_its_class(kind, fault, status, error, stream):
    fake = adapter_for(kind).fake_failure(fault, stream)
    assert fake.status == status and isinstance(body_json(fake), dict)
    with pytest.raises(error) as caught:
        read_plain(kind, fake)
    expected = fakes.CONTEXT if fault == "context" else f"simulated {fault}"
    assert caught.value.message.endswith(f"answered {status}: {expected}")


@ALL
def test_a_fake_malformed_answer_is_no_json_and_an_empty_one_carries_nothing(kind):
    adapter, ep = adapter_for(kind), endpoint(kind)
    for stream in (False, True):
        with pytest.raises(Malformed, match="not JSON"):
            parse_json(adapter.fake_failure("malformed", stream).body.decode(), ep)
    with pytest.raises(Malformed, match=r"not JSON \(''\)"):
        read_plain(kind, adapter.fake_failure("empty", False))
    empty = read_stream(kind, adapter.fake_failure("empty", True))  # ends properly
    assert "".join(c.text for c in empty) == "" and all(
        c.usage is None or c.usage.output_tokens is None for c in empty
    )


@ALL
def test_an_unknown_fault_is_no_answer(kind):
    with pytest.raises(KeyError):
        adapter_for(kind).fake_failure("drop", False)  # a connection's fault: the simulator's


@pytest.mark.parametrize("kind", EMBEDDING)
def test_a_fake_embeddings_answer_reads_back_with_its_request(kind):
    adapter, ep = adapter_for(kind), endpoint(kind)
    call = adapter.build_embed(ep, "e-1", ["one", "two"])
    asked = adapter.asked(path(call), call.json)
    assert asked.embed and asked.texts == ("one", "two")
    fake = adapter.fake_embed("e-1", [[0.1, 0.2], [0.3, 0.4]], Usage(5, None))
    vectors, usage = adapter.parse_embed(body_json(fake), ep)
    assert vectors == [[0.1, 0.2], [0.3, 0.4]] and usage.input_tokens == 5
