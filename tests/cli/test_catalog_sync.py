"""`catalog sync PROVIDER` against a local server's model list."""

from __future__ import annotations

import json

from conftest import CLIENT_KEY as KEY
from conftest import DATA
from fakeserver import Reply


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
