"""`pick` over an LLM's deployments: usable when any deployment is, `--provider` by any
deployment, `--deployment` with `--llm`, and the balancer's step in `--json`/`--explain`."""

from __future__ import annotations

import json


def add(cli, llm: str, dep: str, provider: str, *extra: str) -> None:
    result = cli("deployment", "add", llm, "--id", dep, "--provider", provider, *extra)
    assert result.exit_code == 0, result.stderr


def picked(cli, *args: str) -> dict:
    result = cli("pick", *args, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_an_llm_is_usable_through_any_deployment_whose_key_is_set(cli, home, monkeypatch):
    add(cli, "gpt4o", "or", "openrouter")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    data = picked(cli, "--llm", "gpt4o")
    assert data["llm"] == "openai/gpt-4o"
    assert data["rule"] == "job_llm"
    by_id = {d["id"]: d for d in data["deployments"]}
    assert by_id["or"] == {
        "id": "or",
        "provider": "openrouter",
        "share": 1.0,
        "state": "eligible",
        "reason": "100%",
    }
    assert by_id["openai"]["state"] == "no_key" and "OPENAI_API_KEY" in by_id["openai"]["reason"]


def test_without_any_key_the_llm_is_skipped_with_every_deployment_s_reason(cli, home):
    add(cli, "gpt4o", "or", "openrouter")
    data = json.loads(cli("pick", "--llm", "gpt4o", "--json").stdout)
    assert any("no deployment usable" in w and "OPENROUTER_API_KEY" in w for w in data["warnings"])


def test_shares_of_the_eligible_deployments_sum_to_one(cli, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    add(cli, "gpt4o", "or", "openrouter", "--weight", "0.5")
    add(cli, "gpt4o", "az", "azure", "--order", "2")
    data = picked(cli, "--llm", "gpt4o")
    shares = {d["id"]: d["share"] for d in data["deployments"]}
    assert shares["openai"] == 2 / 3 and shares["or"] == 1 / 3
    assert sum(d["share"] for d in data["deployments"] if d["state"] == "eligible") == 1
    explain = cli("pick", "--llm", "gpt4o", "--explain").stdout
    assert "deployments (weighted): openai 67% · or 33% · az " in explain


def test_provider_matches_an_llm_by_any_deployment_and_uses_only_those(cli, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    add(cli, "gpt4o", "or", "openrouter")
    data = picked(cli, "--llm", "gpt4o", "--provider", "openrouter")
    assert data["llm"] == "openai/gpt-4o"
    states = {d["id"]: (d["state"], d["share"]) for d in data["deployments"]}
    assert states == {"openai": ("provider", 0.0), "or": ("eligible", 1.0)}
    listed = [c["id"] for c in data["candidates"] if c["skipped"] is None]
    assert "openai/gpt-4o" in listed


def test_deployment_forces_one_of_the_named_llm(cli, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test")
    add(cli, "gpt4o", "or", "openrouter")
    data = picked(cli, "--llm", "gpt4o", "--deployment", "or")
    assert [d["id"] for d in data["deployments"] if d["state"] == "eligible"] == ["or"]


def test_deployment_needs_llm_and_an_existing_id(cli, home):
    result = cli("pick", "--deployment", "or")
    assert result.exit_code == 2 and "--deployment needs --llm" in result.stderr
    result = cli("pick", "--llm", "gpt4o", "--deployment", "opena")
    assert result.exit_code == 2
    assert "unknown deployment of openai/gpt-4o 'opena'" in result.stderr and "'openai'" in result.stderr


def test_an_llm_without_deployments_shows_its_implicit_one(cli, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    data = picked(cli, "--llm", "gpt4o")
    assert data["deployments"] == [
        {"id": "openai", "provider": "openai", "share": 1.0, "state": "eligible", "reason": "100%"}
    ]


def test_list_provider_matches_an_llm_by_any_deployment(cli, home):
    add(cli, "gpt4o", "or", "openrouter")
    result = cli("list", "--provider", "openrouter", "--all", "--json")
    assert result.exit_code == 0, result.stderr
    assert "openai/gpt-4o" in [e["id"] for e in json.loads(result.stdout)]
