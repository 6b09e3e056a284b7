"""Helpers for the adapter tests: an endpoint of a given protocol, and a fake answer read
back through its adapter's own parsers (as the engine reads a real one)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from llmctl.providers import adapter_for
from llmctl.providers.fakes import Fake
from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import ChatRequest, Message, parse_json, parse_lines, status_error

# One provider of each protocol, as the resolver gives it.
PROVIDERS = {"openai_compat": "openai", "anthropic": "anthropic", "ollama": "ollama"}
REQ = ChatRequest([Message("system", "Be brief."), Message("user", "Say hi")], max_tokens=77)


def endpoint(kind: str, provider: str | None = None) -> Endpoint:
    provider = provider or PROVIDERS[kind]
    return Endpoint(provider, kind, f"https://{provider}.example/v1", None, "sk-adapter-test-key")


def path(call) -> str:
    return urlsplit(call.url).path


def lines(fake: Fake) -> list[str]:
    """A fake body's lines, as engine/http.py splits a body."""
    text = fake.body.decode()
    return [line.removesuffix("\r") for line in text.split("\n")]


def read_plain(kind: str, fake: Fake):
    """A plain answer through the adapter (an error status becomes its ProviderError)."""
    ep = endpoint(kind)
    if fake.status >= 400:
        raise status_error(fake.status, fake.body.decode(), dict(fake.headers), ep)
    return adapter_for(kind).parse_chat(parse_json(fake.body.decode(), ep), ep)


def read_stream(kind: str, fake: Fake) -> list:
    """A streamed answer's chunks through the adapter's stream parser."""
    ep = endpoint(kind)
    return list(parse_lines(adapter_for(kind).stream_parser(ep), iter(lines(fake))))


def body_json(fake: Fake):
    return json.loads(fake.body)
