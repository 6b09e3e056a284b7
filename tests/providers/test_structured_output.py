"""Structured output in each wire protocol's own form, sent to a recording local server:
OpenAI-compatible `response_format` (json_schema strict, or json_object), Anthropic a forced
tool whose input is the answer, Ollama `format`; each answer read back as JSON text."""

from __future__ import annotations

import json

import pytest

from conftest import entry
from fakeserver import Reply, openai_chat
from llmctl.engine.options import SendOptions
from llmctl.engine.sender import Sender
from llmctl.paths import Home
from llmctl.providers.wire import ChatRequest, Message

SCHEMA = {"type": "object", "properties": {"tags": {"type": "array"}}, "required": ["tags"]}
ANSWER = {"tags": ["sea", "$10 {{ x }}"]}


def three(url: str) -> list[dict]:
    return [
        entry("openai/o", api_base=f"{url}/o/v1", capabilities=["json"]),
        entry("anthropic/c", provider="anthropic", api_base=f"{url}/c", capabilities=["json"]),
        entry("ollama/l", provider="ollama", api_base=f"{url}/l", capabilities=["json"]),
    ]


pytestmark = pytest.mark.team(llms=three, keys={"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-c"})


@pytest.fixture
def send(team, team_catalog, server):
    server.defaults["/o/v1/chat/completions"] = openai_chat(json.dumps(ANSWER))
    server.defaults["/c/v1/messages"] = Reply(
        body={
            "model": "m",
            "content": [{"type": "tool_use", "id": "t", "name": "answer", "input": ANSWER}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 5, "output_tokens": 3},
        }
    )
    server.defaults["/l/api/chat"] = Reply(
        body={"message": {"role": "assistant", "content": json.dumps(ANSWER)}, "done": True}
    )
    sender = Sender.create(Home.resolve(team), team_catalog)

    def run(llm: str, schema: dict | None) -> tuple[dict, str]:
        req = ChatRequest([Message("user", "Tag it.")], output="json", schema=schema)
        result = sender.router(SendOptions(retries=0)).chat([team_catalog.get(llm)], req)
        return server.requests[-1]["json"], result.text

    yield run
    sender.close()


def test_openai_compatible_asks_json_schema_strict_or_json_object(send):
    body, text = send("openai/o", SCHEMA)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
    }
    assert json.loads(text) == ANSWER
    body, _ = send("openai/o", None)
    assert body["response_format"] == {"type": "json_object"}


def test_anthropic_forces_a_tool_whose_input_is_the_answer(send):
    body, text = send("anthropic/c", SCHEMA)
    assert body["tools"] == [{"name": "answer", "description": "Give the answer.", "input_schema": SCHEMA}]
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}
    assert json.loads(text) == ANSWER
    body, _ = send("anthropic/c", None)
    assert body["tools"][0]["input_schema"] == {"type": "object"}


def test_ollama_sends_format(send):
    body, text = send("ollama/l", SCHEMA)
    assert body["format"] == SCHEMA and json.loads(text) == ANSWER
    body, _ = send("ollama/l", None)
    assert body["format"] == "json"


def test_a_text_request_asks_for_no_json():
    from llmctl.providers import anthropic, ollama, openai_compat
    from providers.adapters import endpoint

    plain = ChatRequest([Message("user", "hi")])
    for module, kind in ((openai_compat, "openai_compat"), (anthropic, "anthropic"), (ollama, "ollama")):
        body = module.build_chat(endpoint(kind), "m", plain, False, {}).json
        assert not {"response_format", "tools", "tool_choice", "format"} & set(body)


def test_anthropic_streams_the_tool_input_as_the_answer_text():
    from llmctl.providers import anthropic
    from providers.adapters import endpoint

    events = [
        ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        ("content_block_delta", {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": '{"tags": '}}),
        ("content_block_delta", {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": '["a"]}'}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 2}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    lines = [line for event, data in events for line in (f"event: {event}", f"data: {json.dumps(data)}", "")]
    chunks = list(anthropic.parse_stream(iter(lines), endpoint("anthropic")))
    assert json.loads("".join(c.text or "" for c in chunks)) == {"tags": ["a"]}
