"""`prompt` through an LLM's deployments: `--deployment` forces one, `--seed` and
`LLMCTL_SEED` repeat the weighted draws, each attempt names its deployment."""

from __future__ import annotations

import json

import pytest

from conftest import entry
from fakeserver import openai_chat


def two_ways(url: str) -> list[dict]:
    """`openai/a`, reached at `/a/v1` (deployment `one`) or `/b/v1` (deployment `two`)."""
    deployments = [
        {"id": "one", "provider": "openai", "api_base": f"{url}/a/v1"},
        {"id": "two", "provider": "openai", "api_base": f"{url}/b/v1"},
    ]
    return [entry("openai/a", deployments=deployments)]


pytestmark = pytest.mark.team(llms=two_ways)


@pytest.fixture
def answers(server):
    server.defaults["/a/v1/chat/completions"] = openai_chat("from one")
    server.defaults["/b/v1/chat/completions"] = openai_chat("from two")
    return server


def sent(cli, *args: str) -> dict:
    result = cli("prompt", "hello", "--llm", "openai/a", "--json", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_deployment_forces_one(cli, team, answers):
    for _ in range(5):
        data = sent(cli, "--deployment", "two")
        assert data["text"] == "from two"
        assert [(a["deployment"], a["provider"], a["outcome"]) for a in data["attempts"]] == [
            ("two", "openai", "ok")
        ]


def test_seed_and_llmctl_seed_repeat_the_draw(cli, team, answers, monkeypatch):
    by_flag = [sent(cli, "--seed", str(n))["attempts"][-1]["deployment"] for n in range(8)]
    assert set(by_flag) == {"one", "two"}  # eight seeds draw both
    for n, drawn in enumerate(by_flag):
        monkeypatch.setenv("LLMCTL_SEED", str(n))
        assert sent(cli)["attempts"][-1]["deployment"] == drawn
