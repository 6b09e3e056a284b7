"""The Python client, providers list/check and catalog sync against a local server."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import DATA, entry, write_json
from fakeserver import Reply, openai_chat, openai_stream, refused_url
from llmctl.catalog.load import load_catalog
from llmctl.client import LLMClient, get_llm_with_fallback
from llmctl.paths import Home

KEY = "sk-client-secret"


@pytest.fixture
def team(home, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    path = write_json(
        home.parent / "team.json",
        {
            "llms": [
                entry("openai/first", priority=1, api_base=f"{server.url}/a/v1"),
                entry("openai/second", priority=2, api_base=f"{server.url}/b/v1"),
                entry("openai/old-model", priority=3, api_base=refused_url() + "/v1"),
                entry("anthropic/nokey", provider="anthropic", priority=4, api_base=refused_url()),
                entry(
                    "openai/emb", valid_groups=[], capabilities=["embeddings"], api_base=f"{server.url}/a/v1"
                ),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    return load_catalog(Home.resolve(home))


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


def test_providers_list_and_check(cli, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    rows = {r["provider"]: r for r in json.loads(cli("providers", "list", "--json").stdout)}
    assert (
        rows["openai"]["base_url"] == f"{server.url}/v1"
        and rows["openai"]["base_url_source"] == "env OPENAI_BASE_URL"
    )
    assert rows["openai"]["key_set"] is True and rows["ollama"]["key_env"] is None
    server.add(
        "/v1/models",
        Reply(body={"data": [{"id": "a"}, {"id": "b"}]}),
        Reply(401, {"error": {"message": "bad"}}),
    )
    result = cli("providers", "check", "openai", "--json")
    report = json.loads(result.stdout)[0]
    assert result.exit_code == 0 and report["reachable"] and report["auth_ok"] and report["models"] == 2
    result = cli("providers", "check", "openai", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["auth_ok"] is False
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    monkeypatch.setenv("OLLAMA_BASE_URL", refused_url())
    report = json.loads(cli("providers", "check", "ollama", "--json").stdout)[0]
    assert report["reachable"] is False and "cannot connect" in report["error"]
    server.add("/v1/models", Reply(404, {"error": {"message": "no such path"}}))
    result = cli("providers", "check", "openai", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["reachable"] is True
    assert cli("providers", "check", "opnai").exit_code == 2


def test_catalog_sync_openai_compatible(cli, team, server, monkeypatch, home):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    listing = Reply(body={"data": [{"id": "first"}, {"id": "second"}, {"id": "emb"}, {"id": "brand-new"}]})
    server.add("/v1/models", listing, listing)
    dry = cli("catalog", "sync", "openai", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.stderr
    plan = {s["id"]: s for s in json.loads(dry.stdout)["changes"]}
    assert plan["openai/brand-new"]["action"] == "add"
    assert (
        plan["openai/brand-new"]["changes"]["enabled"] is False
        and plan["openai/brand-new"]["changes"]["valid_groups"] == []
    )
    assert plan["openai/old-model"] == {
        "id": "openai/old-model",
        "action": "deprecate",
        "changes": {"deprecated": True},
    }
    assert not (home / "catalog.toml").exists()
    assert cli("catalog", "sync", "openai").exit_code == 0
    shown = json.loads(cli("show", "openai/brand-new", "--json").stdout)
    assert shown["enabled"] is False and shown["valid_groups"] == []
    assert json.loads(cli("show", "openai/old-model", "--json").stdout)["deprecated"] is True
    assert {r["command"] for r in json.loads(cli("audit", "--json").stdout)} == {"catalog sync openai"}


def test_catalog_sync_openrouter_brings_prices(cli, server, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", f"{server.url}/api/v1")
    models = json.loads((DATA / "openrouter_models.json").read_text())["data"][:5]
    server.add("/api/v1/models", Reply(body={"data": models}))
    result = cli("catalog", "sync", "openrouter", "--json")
    assert result.exit_code == 0, result.stderr
    added = [s for s in json.loads(result.stdout)["changes"] if s["action"] == "add"]
    assert added and all(s["changes"]["input_cost_per_mtok"] is not None for s in added)
    assert cli("catalog", "sync", "nope").exit_code == 2


def test_sync_matches_existing_entries_by_provider_model(cli, server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    listed = [
        "claude-sonnet-4-5",
        "claude-opus-4-8",
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-sonnet-5",
        "claude-fable-5",
        "claude-brand-new",
    ]
    server.add("/v1/models", Reply(body={"data": [{"id": m, "display_name": m} for m in listed]}))
    plan = json.loads(cli("catalog", "sync", "anthropic", "--dry-run", "--json").stdout)["changes"]
    added = [s["id"] for s in plan if s["action"] == "add"]
    assert added == ["anthropic/claude-brand-new"]
    deprecated = {s["id"] for s in plan if s["action"] == "deprecate"}
    assert "anthropic/claude-sonnet-4.5" not in deprecated
    assert server.requests[0]["headers"]["x-api-key"] == KEY and server.requests[0]["path"].startswith(
        "/v1/models"
    )


def test_sync_refuses_an_empty_or_unreadable_list(cli, server, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    monkeypatch.setenv("OPENROUTER_BASE_URL", f"{server.url}/api/v1")
    server.add("/api/v1/models", Reply(body={"data": []}), Reply(body={"data": [{"id": "x"}]}))
    for _ in range(2):
        result = cli("catalog", "sync", "openrouter")
        assert result.exit_code == 1 and "nothing changed" in result.stderr
    assert json.loads(cli("show", "anthropic/claude-opus-5", "--json").stdout)["deprecated"] is False
