"""llmctl.run_job and llmctl.arun_job: a job's work rendered, picked, sent with fallback
to a real local server, the result returned and its usage row tagged with the template."""

from __future__ import annotations

import asyncio

import pytest
from compose.homes import TRICKY, write

import llmctl
from conftest import entry
from fakeserver import Reply, openai_chat
from llmctl.engine.usage import UsageStore
from llmctl.errors import TemplateError, UsageError
from llmctl.paths import Home

JOBS = """
[jobs.echo]
group = "writer"
system = "Sys"
prompt = "A={{ a }}|I={{ input }}"
params = { temperature = 0.2 }

[jobs.echo.vars.a]
required = true
"""


def two_llms(url: str) -> list[dict]:
    return [
        entry("openai/first", priority=1, api_base=f"{url}/a/v1"),
        entry("openai/second", priority=2, api_base=f"{url}/b/v1"),
    ]


pytestmark = pytest.mark.team(llms=two_llms)


@pytest.fixture
def jobs(team, server):
    write(team / "jobs.toml", JOBS)
    server.defaults["/b/v1/chat/completions"] = openai_chat("from b")
    return team


def test_run_job_renders_sends_with_fallback_and_records_the_template(jobs, server):
    server.add("/a/v1/chat/completions", Reply(500, {"error": "down"}))
    server.defaults["/a/v1/chat/completions"] = Reply(500, {"error": "down"})
    response = llmctl.run_job("echo", vars={"a": TRICKY}, input=TRICKY, retries=0, max_tokens=9)
    assert (response.text, response.llm) == ("from b", "openai/second")
    body = server.requests[-1]["json"]
    assert body["messages"][1]["content"] == f"A={TRICKY}|I={TRICKY}"
    assert body["temperature"] == 0.2
    rows = UsageStore.for_home(Home.resolve(jobs)).rows()
    assert [r["outcome"] for r in rows] == ["error", "ok"]
    assert len({r["template_hash"] for r in rows}) == 1 and rows[0]["template_hash"]


def test_arun_job_sends_natively(jobs, server):
    response = asyncio.run(llmctl.arun_job("echo", vars={"a": "x"}, input="in", llm="openai/second"))
    assert response.text == "from b"
    assert server.requests[-1]["json"]["messages"][1]["content"] == "A=x|I=in"


def test_bad_calls_send_nothing(jobs, server):
    with pytest.raises(TemplateError, match="'a' is required"):
        llmctl.run_job("echo", input="x")
    with pytest.raises(UsageError, match="did you mean 'retries'"):
        llmctl.run_job("echo", vars={"a": "1"}, input="x", retrys=1)
    assert server.requests == []
