"""Keys from a command (`api_key_cmd`), the built-in bedrock and vertex providers, and
Azure's seed variables: what the resolver and the picker make of them, and what a real
send does (the key command run once, its output never shown)."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import entry, write_json
from fakeserver import openai_chat
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.keys import KeyCommands
from llmctl.errors import KeyMissing, NotConfigured
from llmctl.providers.resolve import resolve_endpoint, why_unusable
from llmctl.providers.table import Provider

PY = sys.executable


def llm(**fields):
    spec = entry(fields.pop("id", "acme/m"), **fields)
    return DictRegistry([spec]).get_by_id(spec["id"])


def script(tmp_path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return f"{PY} {path}"


def test_the_key_variable_wins_then_the_command(tmp_path):
    command = script(tmp_path, "key", "print('  sk-from-command-0123456789  ')")
    e = llm(provider="openai", auth={"api_key_cmd": command})
    runs = []

    def run(cmd):
        runs.append(cmd)
        return KeyCommands()(cmd)

    assert resolve_endpoint(e, {}, {"OPENAI_API_KEY": "sk-env"}, run_key_cmd=run).api_key == "sk-env"
    assert runs == []  # the variable is set: the command is not run
    assert resolve_endpoint(e, {}, {}, run_key_cmd=run).api_key == "sk-from-command-0123456789"
    assert why_unusable(e, {}, {}) is None  # its program (given by path) can be run


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("import sys; print('secret-stdout'); print('secret-err', file=sys.stderr); sys.exit(3)", "exit 3"),
        ("import time; time.sleep(30)", "no answer in 0.5 s"),
        ("pass", "printed no key"),
        ("import sys; print('sk-only-on-stderr', file=sys.stderr)", "printed no key"),
    ],
)
def test_a_failing_key_command_says_why_and_never_what_it_printed(tmp_path, body, words):
    commands = KeyCommands(timeout=0.5)
    with pytest.raises(KeyMissing) as caught:
        commands(script(tmp_path, "bad", body))
    assert words in caught.value.message and "secret" not in caught.value.message
    assert "sk-only" not in caught.value.message
    with pytest.raises(KeyMissing, match="not found"):
        commands("no-such-program-here --x")
    with pytest.raises(KeyMissing, match="cannot be read as a command line"):
        commands("pass show 'unclosed")


def test_pick_counts_a_key_command_available_when_its_program_is_on_path(cli, home, monkeypatch, tmp_path):
    path = write_json(
        tmp_path / "team.json",
        {
            "llms": [
                entry("acme/cmd", auth={"api_key_cmd": f"{PY} -c print"}, quality_score=9),
                entry(
                    "acme/absent", auth={"api_key_cmd": "no-such-password-manager show x"}, quality_score=8
                ),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    picked = json.loads(cli("pick", "--group", "writer", "--json").stdout)
    assert picked["llm"] == "acme/cmd"
    absent = {c["id"]: c["skipped"] for c in picked["candidates"]}["acme/absent"]
    assert (
        absent == "OPENAI_API_KEY is not set and 'no-such-password-manager' (its api_key_cmd) is not on PATH"
    )
    shown = json.loads(cli("show", "acme/cmd", "--json").stdout)
    assert shown["available"] is True and shown["key_cmd"] == f"{PY} -c print"


def test_a_prompt_gets_its_key_from_the_command_and_it_leaks_nowhere(
    cli, home, server, monkeypatch, tmp_path
):
    key = "sk-from-a-password-manager-42"
    command = script(tmp_path, "pm", f"print({key!r})")
    failing = script(tmp_path, "broken", "import sys; print('sk-leaked-by-failure-99'); sys.exit(1)")
    path = write_json(
        tmp_path / "team.json",
        {
            "llms": [
                entry("acme/first", auth={"api_key_cmd": failing}, api_base=f"{server.url}/a/v1", priority=1),
                entry(
                    "acme/second", auth={"api_key_cmd": command}, api_base=f"{server.url}/b/v1", priority=2
                ),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    server.add("/b/v1/chat/completions", openai_chat("answered"))
    result = cli("prompt", "hi", "--group", "writer", "--strategy", "priority", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"] == "answered" and data["llm"] == "acme/second"
    assert data["attempts"][0]["error"] == "api_key_cmd failed: exit 1"
    assert server.requests[-1]["headers"]["authorization"] == f"Bearer {key}"
    assert [r["path"] for r in server.requests] == ["/b/v1/chat/completions"]  # nothing sent without a key
    everything = (result.stdout + result.stderr).encode()
    everything += b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())  # the stores too
    assert key.encode() not in everything and b"sk-leaked" not in everything


def test_a_provider_key_command_in_config(tmp_path):
    command = script(tmp_path, "key", "print('sk-provider-level-000111222')")
    providers = {"openai": Provider(api_key_cmd=command)}
    endpoint = resolve_endpoint(llm(provider="openai"), providers, {}, run_key_cmd=KeyCommands())
    assert endpoint.api_key == "sk-provider-level-000111222"
    with pytest.raises(KeyMissing, match="api_key_cmd is run only when sending"):
        resolve_endpoint(llm(provider="openai"), providers, {})


def test_bedrock_and_vertex_build_their_urls_from_the_environment(tmp_path):
    bedrock = llm(id="bedrock/openai.gpt-oss-120b-1:0", provider="bedrock")
    assert why_unusable(bedrock, {}, {}) == "AWS_BEARER_TOKEN_BEDROCK is not set"
    assert why_unusable(bedrock, {}, {"AWS_BEARER_TOKEN_BEDROCK": "t"}) == (
        "AWS_REGION is not set (the base URL needs it)"
    )
    with pytest.raises(NotConfigured, match="AWS_REGION is not set"):
        resolve_endpoint(bedrock, {}, {"AWS_BEARER_TOKEN_BEDROCK": "t"})
    ep = resolve_endpoint(bedrock, {}, {"AWS_BEARER_TOKEN_BEDROCK": "t", "AWS_REGION": "us-east-1"})
    assert ep.base_url == "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1" and ep.api_key == "t"

    vertex = llm(id="vertex/google/gemini-2.5-pro", provider="vertex")
    env = {"VERTEX_LOCATION": "europe-west4", "VERTEX_PROJECT": "books-prod", "PATH": str(tmp_path)}
    assert "'gcloud' (its api_key_cmd) is not on PATH" in why_unusable(vertex, {}, env)
    gcloud = tmp_path / "gcloud"
    gcloud.write_text("#!/bin/sh\necho ya29.access-token-from-gcloud\n")
    gcloud.chmod(0o755)
    assert why_unusable(vertex, {}, env) is None
    ep = resolve_endpoint(vertex, {}, env, run_key_cmd=lambda cmd: "ya29.token")
    assert ep.base_url == (
        "https://europe-west4-aiplatform.googleapis.com/v1beta1/projects/books-prod"
        "/locations/europe-west4/endpoints/openapi"
    )


def test_azure_reads_the_seeds_variables():
    from llmctl.providers import openai_compat
    from llmctl.providers.wire import ChatRequest, Message

    env = {
        "AZURE_OPENAI_API_KEY": "k",
        "AZURE_OPENAI_API_BASE": "https://seed.openai.azure.com/",
        "AZURE_OPENAI_DEPLOYMENT_NAME": "prod-gpt4o",
    }
    unnamed = llm(id="azure/gpt-4o", provider="azure")
    ep = resolve_endpoint(unnamed, {}, env)
    call = openai_compat.build_chat(ep, unnamed.model, ChatRequest([Message("user", "hi")]), False)
    assert call.url == "https://seed.openai.azure.com/openai/deployments/prod-gpt4o/chat/completions"
    named = llm(id="azure/mine", provider="azure", model="my-deployment")
    ep = resolve_endpoint(named, {}, {**env, "AZURE_BASE_URL": "https://first.openai.azure.com"})
    call = openai_compat.build_chat(ep, named.model, ChatRequest([Message("user", "hi")]), False)
    assert call.url == "https://first.openai.azure.com/openai/deployments/my-deployment/chat/completions"


def test_a_catalog_entry_may_name_a_key_command_but_not_a_key(cli, tmp_path):
    ok = write_json(tmp_path / "ok.json", {"llms": [entry("acme/a", auth={"api_key_cmd": "pass show acme"})]})
    assert cli("catalog", "validate", str(ok)).exit_code == 0
    bad = write_json(tmp_path / "bad.json", {"llms": [entry("acme/a", auth={"api_key": "x"})]})
    result = cli("catalog", "validate", str(bad))
    assert result.exit_code == 3 and "api_key_cmd are allowed" in result.stderr


def test_a_failed_key_command_is_remembered_for_a_minute(tmp_path):
    marker = tmp_path / "runs"
    command = script(tmp_path, "count", f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(2)")
    now = [0.0]
    commands = KeyCommands(clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(KeyMissing, match="exit 2"):
            commands(command)
    assert marker.read_text() == "x" and commands.settled(command)
    now[0] = 61.0
    assert not commands.settled(command)
    with pytest.raises(KeyMissing):
        commands(command)
    assert marker.read_text() == "xx"


def test_the_async_engine_runs_a_key_command_off_the_event_loop(tmp_path, server):
    import asyncio

    from llmctl.engine.router import Router

    key = "sk-slow-password-manager-0001"
    command = script(tmp_path, "slow", f"import time; time.sleep(0.4); print({key!r})")
    server.add("/a/v1/chat/completions", openai_chat("hi"))
    target = llm(provider="openai", auth={"api_key_cmd": command}, api_base=f"{server.url}/a/v1")
    router = Router.of(env={}, key_commands=KeyCommands())

    async def main():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticker = asyncio.create_task(tick())
        from llmctl.providers.wire import ChatRequest, Message

        result = await router.achat([target], ChatRequest([Message("user", "hi")]))
        ticker.cancel()
        await router.services.apool.aclose()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result.text == "hi" and ticks >= 10  # the loop kept running while the command ran
    assert {k.lower(): v for k, v in server.requests[-1]["headers"].items()}[
        "authorization"
    ] == f"Bearer {key}"


def test_a_key_with_a_line_break_is_refused_and_shown_nowhere(cli, home, server, monkeypatch, tmp_path):
    key = "sk-windows-line-ending-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key + "\r")
    path = write_json(tmp_path / "team.json", {"llms": [entry("acme/a", api_base=f"{server.url}/a/v1")]})
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    result = cli("prompt", "hi", "--llm", "acme/a", "--json")
    assert result.exit_code != 0 and server.requests == []
    assert "OPENAI_API_KEY holds a space, a line break or another character a key has not" in result.stdout
    everything = (result.stdout + result.stderr).encode() + b"".join(
        p.read_bytes() for p in home.rglob("*") if p.is_file()
    )
    assert key.encode() not in everything and repr(key)[1:-1].encode() not in everything


def test_a_key_command_gives_its_first_line_and_is_asked_again_when_refused_or_old(tmp_path):
    marker = tmp_path / "runs"
    command = script(
        tmp_path, "pass", f"open({str(marker)!r}, 'a').write('x'); print('sk-first-line-secret\\nlogin: me')"
    )
    now = [0.0]
    commands = KeyCommands(clock=lambda: now[0])
    assert commands(command) == "sk-first-line-secret" and commands(command) == "sk-first-line-secret"
    assert marker.read_text() == "x"  # once per process...
    commands.refused("sk-first-line-secret")  # ...until the provider refuses it (an expired token)
    assert commands(command) == "sk-first-line-secret" and marker.read_text() == "xx"
    now[0] = 901.0  # or it is 15 minutes old
    commands(command)
    assert marker.read_text() == "xxx"


def test_a_key_with_a_character_no_key_has_is_refused(server):
    for odd in ("\u201csk-smart-quoted-0123456789\u201d", "sk-with space-0123456789"):
        with pytest.raises(KeyMissing, match="OPENAI_API_KEY holds"):
            resolve_endpoint(llm(provider="openai"), {}, {"OPENAI_API_KEY": odd})
