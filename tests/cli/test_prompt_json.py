"""Structured output through prompt: JSON asked of LLMs with the `json` capability only,
the answer checked against the schema, one corrective retry on the same LLM, then the
attempt fails (invalid_output) and the chain goes on; `--json` gains `data`."""

from __future__ import annotations

import json

import pytest
from compose.homes import write

from conftest import entry
from fakeserver import openai_chat

SCHEMA = {"type": "object", "properties": {"tags": {"type": "array"}}, "required": ["tags"]}


def llms(url: str) -> list[dict]:
    return [
        entry("openai/plain", priority=1, api_base=f"{url}/p/v1"),
        entry("openai/first", priority=2, api_base=f"{url}/a/v1", capabilities=["json"]),
        entry("openai/second", priority=3, api_base=f"{url}/b/v1", capabilities=["json"]),
    ]


pytestmark = pytest.mark.team(llms=llms)
A, B = "/a/v1/chat/completions", "/b/v1/chat/completions"


@pytest.fixture
def schema_file(team):
    write(team / "jobs.toml", '[jobs.tag]\ngroup = "writer"\nschema_file = "tags.json"\n')
    return write(team / "tags.json", json.dumps(SCHEMA))


def to(server, path):
    return [r["json"] for r in server.requests if r["path"] == path]


def test_a_valid_answer_gains_data_and_llms_without_json_are_passed_over(cli, server, schema_file):
    server.add(A, openai_chat('{"tags": ["sea"]}'))
    out = cli("prompt", "Tag it", "--json-schema", str(schema_file), "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["data"] == {"tags": ["sea"]} and data["llm"] == "openai/first"
    # openai/plain comes first by priority, but lacks the `json` capability
    assert to(server, A)[0]["response_format"]["json_schema"]["schema"] == SCHEMA
    assert not to(server, "/p/v1/chat/completions")


def test_one_corrective_retry_on_the_same_llm(cli, server, schema_file):
    server.add(A, openai_chat("not json at all"))
    server.add(A, openai_chat('{"tags": []}'))
    out = cli("prompt", "Tag it", "--job", "tag", "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["data"] == {"tags": []}
    first, second = to(server, A)
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert second["messages"][-2] == {"role": "assistant", "content": "not json at all"}
    assert "not the JSON asked for" in second["messages"][-1]["content"]


def test_twice_invalid_fails_the_attempt_and_the_chain_goes_on(cli, server, schema_file):
    server.add(A, openai_chat('{"tag": 1}'))
    server.add(A, openai_chat('{"tag": 2}'))
    server.add(B, openai_chat('{"tags": ["ok"]}'))
    out = cli("prompt", "Tag it", "--job", "tag", "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["llm"] == "openai/second" and data["data"] == {"tags": ["ok"]}
    failed = next(a for a in data["attempts"] if a["llm"] == "openai/first")
    assert "not the JSON asked for" in failed["error"] and "tags" in failed["error"]
    assert len(to(server, A)) == 2


def test_twice_invalid_is_billed_for_both_answers(cli, server, schema_file, team):
    from llmctl.engine.usage import UsageStore
    from llmctl.paths import Home

    server.add(A, openai_chat('{"tag": 1}', prompt_tokens=100, completion_tokens=10))
    server.add(A, openai_chat('{"tag": 2}', prompt_tokens=120, completion_tokens=12))
    server.add(B, openai_chat('{"tags": ["ok"]}'))
    assert cli("prompt", "Tag it", "--job", "tag", "--json").exit_code == 0
    rows = UsageStore.for_home(Home.resolve(team)).rows()
    failed = next(r for r in rows if r["llm"] == "openai/first")
    # Both answers were billed: 220 prompt and 22 answer tokens at $1/M and $2/M.
    assert (failed["outcome"], failed["input_tokens"], failed["output_tokens"]) == ("error", 220, 22)
    assert failed["cost"] == pytest.approx((220 * 1.0 + 22 * 2.0) / 1e6)


def test_plain_output_prints_the_json_text(cli, server, schema_file):
    server.add(A, openai_chat('{"tags": ["x"]}'))
    out = cli("prompt", "Tag it", "--job", "tag")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout) == {"tags": ["x"]}


def test_a_bad_schema_file_is_exit_2_and_nothing_is_sent(cli, server, team, tmp_path):
    bad = write(tmp_path / "bad.json", '{"type": 12}')
    out = cli("prompt", "x", "--json-schema", str(bad))
    assert out.exit_code == 2 and "--json-schema" in out.stderr
    assert server.requests == []


def test_batch_lines_of_a_json_job_are_checked_and_corrected(cli, server, schema_file, tmp_path):
    server.add(A, openai_chat("nope"))
    server.add(A, openai_chat('{"tags": ["fixed"]}'))
    path = write(tmp_path / "in.jsonl", json.dumps({"id": "1", "prompt": "Tag it", "job": "tag"}) + "\n")
    out = cli("batch", str(path))
    assert out.exit_code == 0, out.stderr
    line = json.loads(out.stdout)
    assert json.loads(line["text"]) == {"tags": ["fixed"]} and line["llm"] == "openai/first"
    assert len(to(server, A)) == 2 and not to(server, "/p/v1/chat/completions")


def test_run_job_of_a_json_job(server, schema_file):
    import llmctl

    server.add(A, openai_chat('{"tags": ["py"]}'))
    response = llmctl.run_job("tag", input="Tag it")
    assert json.loads(response.text) == {"tags": ["py"]} and response.llm == "openai/first"
    assert response.data == {"tags": ["py"]}


def test_batch_json_schema_applies_to_every_line(cli, server, schema_file, tmp_path):
    server.add(A, openai_chat('{"tags": []}'))
    path = write(tmp_path / "in.jsonl", json.dumps({"id": "1", "prompt": "Tag it"}) + "\n")
    out = cli("batch", str(path), "--json-schema", str(schema_file))
    assert out.exit_code == 0, out.stderr
    assert to(server, A)[0]["response_format"]["json_schema"]["schema"] == SCHEMA
