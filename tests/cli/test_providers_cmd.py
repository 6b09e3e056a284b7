"""`providers list` and `providers check` against a local server."""

from __future__ import annotations

import json

import pytest

from fakeserver import Reply, refused_url

KEY = "sk-client-secret"


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
    assert report["reachable"] is False and "nothing is listening at" in report["error"]
    server.add("/v1/models", Reply(404, {"error": {"message": "no such path"}}))
    result = cli("providers", "check", "openai", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["reachable"] is True
    assert cli("providers", "check", "opnai").exit_code == 2


@pytest.mark.parametrize("columns", ["80", "120"])
def test_tables_on_a_narrow_terminal_keep_every_column(cli, monkeypatch, columns):
    monkeypatch.setattr("llmctl.cli.output.rich_output", lambda: True)
    monkeypatch.setenv("COLUMNS", columns)
    assert "KEY SET" in cli("providers", "list").stdout
    assert "GROUPS" in cli("list", "--group", "writer").stdout
