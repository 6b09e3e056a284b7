"""`--simulate FAULT@TARGET`: the real routing against an in-process transport, through the CLI."""

from __future__ import annotations

import json

import pytest

from conftest import entry
from llmctl.engine.simulate import FAULTS

CHAIN = ["--group", "writer", "--max-attempts", "3", "--json"]


# Three writers on three providers (no key set anywhere: a simulation needs none).
pytestmark = pytest.mark.team(
    [
        entry("acme/first", quality_score=9, priority=1, tier="standard", aliases=["first"]),
        entry("anthropic/second", provider="anthropic", quality_score=8, tier="standard"),
        entry("ollama/third", provider="ollama", quality_score=7, tier="local"),
    ],
    keys={},
)


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


# --- the simulator below the CLI: every fault on the sync and the async path ------------------

LLMS = {"openai": "acme/first", "anthropic": "anthropic/second", "ollama": "ollama/third"}
RETRIED = ("error", 3)
ONCE = ("error", 1)
# fault -> (plain, streamed): (outcome, tries, status, error class) as today's sync path gives them
EXPECTED = {
    "refused": [(*ONCE, None, "ConnectFailed")] * 2,
    "timeout": [(*RETRIED, None, "TimedOut")] * 2,
    "400": [(*ONCE, 400, "BadRequest")] * 2,
    "401": [(*ONCE, 401, "AuthFailed")] * 2,
    "404": [(*ONCE, 404, "ModelNotFound")] * 2,
    "429": [(*RETRIED, 429, "RateLimited")] * 2,
    "500": [(*RETRIED, 500, "ServerFailed")] * 2,
    "503": [(*RETRIED, 503, "ServerFailed")] * 2,
    "context": [(*ONCE, 400, "ContextTooLong")] * 2,
    "drop": [(*RETRIED, None, "StreamBroken"), ("interrupted", "simulated")],
    "malformed": [(*RETRIED, None, "Malformed"), (*RETRIED, None, "StreamBroken")],
    "empty": [(*RETRIED, None, "Malformed")] * 2,
}
assert set(EXPECTED) == set(FAULTS)


def send(fault, llm, *, aio, stream):
    """One LLM, its fault, through the simulated sender's router: what its attempt shows."""
    from llmctl.engine.sender import Sender
    from llmctl.errors import AllFailedError, StreamInterrupted
    from llmctl.providers.wire import ChatRequest, messages_for

    sender = Sender.create(simulate=[f"{fault}@{llm}" if fault else "500@xai"])  # xai: no LLM here
    entry, req, seen = sender.catalog.entries[llm], ChatRequest(messages_for("hi")), []
    router = sender.router()
    on_text = seen.append if stream else None
    try:
        if aio:
            result = sender.run(lambda: router.achat([entry], req, on_text=on_text))
        else:
            result = router.chat([entry], req, on_text=on_text)
        attempt = result.attempts[-1]
    except AllFailedError as exc:
        attempt = exc.attempts[-1]
    except StreamInterrupted:
        return ("interrupted", "".join(seen))
    finally:
        sender.close()
    failure = attempt.failure.__name__ if attempt.failure else None
    return (getattr(attempt.outcome, "value", attempt.outcome), attempt.tries, attempt.status, failure)


@pytest.mark.parametrize("protocol", LLMS)
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_every_fault_has_the_same_outcome_on_the_sync_and_the_async_path(team, protocol, fault, stream):
    expected = EXPECTED[fault][stream]
    if (fault, stream, protocol) == ("malformed", True, "ollama"):
        expected = (*ONCE, None, "StreamUnreadable")  # a line that is not JSON: --no-stream may do
    llm = LLMS[protocol]
    assert send(fault, llm, aio=False, stream=stream) == expected
    assert send(fault, llm, aio=True, stream=stream) == expected


@pytest.mark.parametrize("protocol", LLMS)
@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_a_dropped_stream_breaks_after_its_first_text_in_every_protocol(team, protocol, aio):
    # Ollama's simulated stream used to end whole, Anthropic's to break before any text.
    assert send("drop", LLMS[protocol], aio=aio, stream=True) == ("interrupted", "simulated")


@pytest.mark.parametrize("protocol", LLMS)
@pytest.mark.parametrize("aio", [False, True], ids=["sync", "async"])
def test_without_a_fault_each_protocol_answers_plain_and_streamed(team, protocol, aio):
    for stream in (False, True):
        assert send(None, LLMS[protocol], aio=aio, stream=stream) == ("ok", 1, 200, None)


def test_the_answer_is_in_the_protocol_of_the_providers_kind_whatever_the_url(team):
    from llmctl.catalog.load import load_catalog
    from llmctl.engine.simulate import Simulation
    from llmctl.paths import Home
    from llmctl.providers import anthropic
    from llmctl.providers.resolve import Endpoint

    simulation = Simulation(load_catalog(Home.resolve()))
    entry = simulation.catalog.entries["anthropic/second"]
    body = b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}'
    reply = simulation.accept({"x-llmctl-simulate": entry.id})("/not/a/known/path", body)
    ep = Endpoint("anthropic", "anthropic", "https://x", None)
    assert (
        anthropic.parse_chat(json.loads(reply.fake.body), ep).text == "simulated answer from anthropic/second"
    )


def test_the_async_path_runs_over_the_engines_aiohttp_session(team):
    import aiohttp

    from llmctl.engine.sender import Sender

    sender = Sender.create(simulate=["500@ollama"])

    async def session():
        return sender.apool.get()

    assert isinstance(sender.run(session), aiohttp.ClientSession)


def test_a_simulation_opens_no_socket_on_either_path(team, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation touched the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for aio in (False, True):
        assert send(None, "acme/first", aio=aio, stream=True) == ("ok", 1, 200, None)
        assert send("refused", "acme/first", aio=aio, stream=False)[3] == "ConnectFailed"


def test_many_async_sends_at_once_each_get_their_own_answer(team):
    import asyncio

    from llmctl.engine.options import SendOptions
    from llmctl.engine.sender import Sender
    from llmctl.providers.wire import ChatRequest, messages_for

    sender = Sender.create(simulate=["503x10@ollama"])
    router = sender.router(SendOptions(retries=10))  # which request meets the ten 503s is the loop's choice
    entries = [sender.catalog.entries[llm] for llm in LLMS.values()] * 20

    async def main():
        return await asyncio.gather(*(router.achat([e], ChatRequest(messages_for("hi"))) for e in entries))

    results = sender.run(main)
    assert [r.text for r in results] == [f"simulated answer from {e.id}" for e in entries]
    assert sum(r.attempts[-1].tries - 1 for r in results) == 10  # each of the ten 503s retried


def test_compare_takes_the_sending_options_prompt_takes(cli, team):
    once = ["compare", "hi", "--llm", "first", "--simulate", "503x1@acme/first", "--json"]
    retried = cli(*once)
    assert retried.exit_code == 0, retried.stderr  # the default retries ride over one 503
    assert json.loads(retried.stdout)[0]["text"] == "simulated answer from acme/first"
    no_retries = cli(*once, "--retries", "0")
    assert no_retries.exit_code == 1 and "503" in json.loads(no_retries.stdout)[0]["error"]
    capped = cli("compare", "hi", "--llm", "first", "--max-cost", "0", "--simulate", "401@ollama", "--json")
    assert capped.exit_code == 1 and "--max-cost" in json.loads(capped.stdout)[0]["error"]
