"""`--simulate FAULT@TARGET`: the real routing against an in-process transport, through the CLI."""

from __future__ import annotations

import json

import pytest

from conftest import entry, write_json

CHAIN = ["--group", "writer", "--max-attempts", "3", "--json"]


@pytest.fixture
def team(home, monkeypatch):
    """Three writers on three providers (no key set anywhere: a simulation needs none)."""
    path = write_json(
        home.parent / "team.json",
        {
            "llms": [
                entry("acme/first", quality_score=9, priority=1, tier="standard", aliases=["first"]),
                entry("anthropic/second", provider="anthropic", quality_score=8, tier="standard"),
                entry("ollama/third", provider="ollama", quality_score=7, tier="local"),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    return home


def simulate(cli, *faults, args=CHAIN, text="hi"):
    options = [x for fault in faults for x in ("--simulate", fault)]
    return cli("prompt", text, *args, "--allow-upgrade", *options)


def outcomes(result):
    data = json.loads(result.stdout)
    return [(a["llm"], a["outcome"], a["tries"], a["status"]) for a in data["attempts"]], data


def test_without_faults_every_llm_answers_in_its_own_protocol(cli, team):
    for target, llm in (("acme/first", "acme/first"), ("anthropic/second", "anthropic/second")):
        result = cli("prompt", "hi", "--llm", target, "--json", "--simulate", "500@ollama")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["text"] == f"simulated answer from {llm}" and data["usage"]["output_tokens"] > 0
    streamed = cli("prompt", "hi", "--llm", "ollama/third", "--simulate", "500@openai")
    assert streamed.exit_code == 0 and streamed.stdout == "simulated answer from ollama/third\n"


@pytest.mark.parametrize(
    "fault, status, tries",
    [
        ("500", 500, 3),
        ("503", 503, 3),
        ("429", 429, 3),
        ("timeout", None, 3),
        ("malformed", None, 3),
        ("empty", None, 3),
    ],
)
def test_retryable_faults_are_retried_then_fall_back(cli, team, fault, status, tries):
    result = simulate(cli, f"{fault}@acme/first")
    assert result.exit_code == 0, result.stderr
    attempts, data = outcomes(result)
    assert attempts[0] == ("acme/first", "error", tries, status)
    assert attempts[1][:2] == ("anthropic/second", "ok") and data["llm"] == "anthropic/second"


@pytest.mark.parametrize(
    "fault, status", [("400", 400), ("401", 401), ("404", 404), ("refused", None), ("context", 400)]
)
def test_final_faults_move_on_at_once(cli, team, fault, status):
    result = simulate(cli, f"{fault}@first")  # an alias names the LLM too
    attempts, _data = outcomes(result)
    assert attempts[0] == ("acme/first", "error", 1, status)
    assert attempts[1][1] == "ok"


def test_retry_after_and_a_limited_number_of_failures(cli, team):
    result = simulate(cli, "429:3x2@openai")  # a provider as target; Retry-After 3 s, not slept
    attempts, data = outcomes(result)
    assert attempts == [("acme/first", "ok", 3, 200)] and data["llm"] == "acme/first"
    result = simulate(cli, "503x1@*")
    attempts, _ = outcomes(result)
    assert attempts == [("acme/first", "ok", 2, 200)]


def test_everything_failing_exits_1_with_every_attempt(cli, team):
    result = simulate(cli, "503@*")
    assert result.exit_code == 1
    attempts, data = outcomes(result)
    assert [a[:3] for a in attempts] == [
        ("acme/first", "error", 3),
        ("anthropic/second", "error", 3),
        ("ollama/third", "error", 3),
    ]
    assert data["error"].startswith("every LLM of the chain failed")


def test_a_dropped_stream_is_reported_not_stitched(cli, team):
    result = simulate(cli, "drop@acme/first", args=["--group", "writer"])
    assert result.exit_code == 1
    assert result.stdout.startswith("simulated") and "broke off mid-answer" in result.stderr
    assert "second" not in result.stdout


def test_batch_and_compare_simulate_too(cli, team, tmp_path):
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": "1", "prompt": "a"}\n{"id": "2", "prompt": "b", "llm": "ollama/third"}\n')
    result = cli("batch", str(lines), "--group", "writer", "--simulate", "refused@openai")
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert {o["id"]: o["llm"] for o in out} == {"1": "anthropic/second", "2": "ollama/third"}
    result = cli(
        "compare", "hi", "--llm", "first", "--llm", "ollama/third", "--simulate", "401@ollama", "--json"
    )
    assert result.exit_code == 1
    answers = {a["llm"]: a for a in json.loads(result.stdout)}
    assert answers["acme/first"]["text"] == "simulated answer from acme/first"
    assert "401" in answers["ollama/third"]["error"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("503", "expected FAULT@TARGET"),
        ("boom@*", "unknown fault 'boom'"),
        ("502@*", "unknown fault '502'"),
        ("500:3@*", "only 429 takes :SECONDS"),
        ("500@nobody", "'nobody' is no LLM or provider"),
        ("500@", "expected FAULT@TARGET"),
    ],
)
def test_a_bad_simulate_value_is_a_usage_error(cli, team, value, message):
    result = cli("prompt", "hi", "--group", "writer", "--simulate", value)
    assert result.exit_code == 2 and message in result.stderr


def test_a_simulation_sends_nothing_and_leaves_no_trace(cli, team, home):
    result = simulate(cli, "refused@*")
    assert result.exit_code == 1
    assert not (home / "usage.sqlite").exists()
    assert not (home / "state" / "cooldown.json").exists()


def test_compare_takes_the_sending_options_prompt_takes(cli, team):
    once = ["compare", "hi", "--llm", "first", "--simulate", "503x1@acme/first", "--json"]
    retried = cli(*once)
    assert retried.exit_code == 0, retried.stderr  # the default retries ride over one 503
    assert json.loads(retried.stdout)[0]["text"] == "simulated answer from acme/first"
    no_retries = cli(*once, "--retries", "0")
    assert no_retries.exit_code == 1 and "503" in json.loads(no_retries.stdout)[0]["error"]
    capped = cli("compare", "hi", "--llm", "first", "--max-cost", "0", "--simulate", "401@ollama", "--json")
    assert capped.exit_code == 1 and "--max-cost" in json.loads(capped.stdout)[0]["error"]
