"""No key leaves the environment: a distinctive key is set for every built-in provider, every
provider is pointed at the local server (which echoes keys back in its errors), and a
representative run of every command family must show none of them in any output or file."""

from __future__ import annotations

import json

from conftest import entry, write_json
from fakeserver import Reply, openai_chat
from llmctl.providers.resolve import base_url_env
from llmctl.providers.table import BUILTIN_PROVIDERS


def test_no_key_in_any_output_or_file(cli, home, server, monkeypatch, tmp_path):
    keys = {}
    for name, provider in BUILTIN_PROVIDERS.items():
        if provider.api_key_env:
            keys[provider.api_key_env] = f"sk-leaktest-{name}-0123456789abcdef"
            monkeypatch.setenv(provider.api_key_env, keys[provider.api_key_env])
        monkeypatch.setenv(base_url_env(name), f"{server.url}/{name}")
    echo = Reply(401, {"error": {"message": "bad key " + " ".join(keys.values())}})
    for name in BUILTIN_PROVIDERS:
        for path in (
            "/chat/completions",
            "/v1/messages",
            "/embeddings",
            "/models",
            "/v1/models",
            "/api/tags",
        ):
            server.defaults[f"/{name}{path}"] = echo
    server.defaults["/openai/chat/completions"] = openai_chat("fine")
    catalog = write_json(
        tmp_path / "team.json",
        {
            "llms": [
                entry("openai/a", quality_score=9),
                entry("anthropic/b", provider="anthropic", quality_score=8),
                entry("groq/c", provider="groq", quality_score=7),
                entry("openai/emb", valid_groups=[], capabilities=["embeddings"]),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(catalog))
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": "1", "prompt": "x"}\n{"id": "2", "prompt": "y", "llm": "anthropic/b"}\n')
    runs = [
        ("list", "--json"),
        ("show", "openai/a", "--json"),
        ("pick", "--group", "writer", "--explain"),
        ("prompt", "hi", "--group", "writer", "-v"),
        ("prompt", "hi", "--llm", "anthropic/b", "--json"),
        ("prompt", "hi", "--group", "writer", "--dry-run"),
        ("prompt", "hi", "--group", "writer", "--dry-run", "--json"),
        ("batch", str(lines), "-o", str(tmp_path / "out.jsonl"), "--group", "writer"),
        ("compare", "hi", "--llm", "openai/a", "--llm", "groq/c", "--json"),
        ("embed", "whale", "--llm", "openai/emb"),
        ("providers", "list", "--json"),
        ("providers", "check", "--json"),
        ("catalog", "sync", "groq", "--dry-run"),
        ("book", "default", "set", "moby", "writer", "openai/a"),
        ("default", "set", "openai/a"),
        ("edit", "openai/a", "--priority", "3"),
        ("catalog", "export"),
        ("audit", "--json"),
    ]
    outputs = []
    for args in runs:
        result = cli(*args)
        outputs.append(result.stdout + result.stderr)
    assert "bad key ***" in "".join(outputs)  # the echoed keys were there to leak, and were redacted
    for key in keys.values():
        for args, out in zip(runs, outputs, strict=True):
            assert key not in out, args
        for path in [*home.rglob("*"), *tmp_path.rglob("*")]:
            if path.is_file() and path != catalog:
                assert key.encode() not in path.read_bytes(), path
    assert json.loads(outputs[1])["key_env"] == "OPENAI_API_KEY"


def _pieces(key: str, size: int = 6) -> list[str]:
    return [key[n : n + size] for n in range(len(key) - size + 1)]


def _leaks(key: str, text: str) -> list[str]:
    return [piece for piece in _pieces(key) if piece in text]


USED = "sk-proj-Q7vX2mLp9RtZ4wKc8NbH3yJd6FgA1sEu"  # the key the request sent
OTHER = "sk-ant-api03-Hq8ZrW5tKm2VxB7nLc4PyD9sJf6GaE3u"  # a key llmctl never knew of


def test_an_error_body_is_redacted_before_it_is_cut(cli, home, server, monkeypatch, tmp_path):
    """A key straddling the 300-character cut of an error body leaks none of its head:
    not on stderr, not in --json, not in a batch line, not in the usage store."""
    monkeypatch.setenv("OPENAI_API_KEY", USED)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    catalog = write_json(tmp_path / "team.json", {"llms": [entry("openai/a")]})
    monkeypatch.setenv("LLMCTL_CATALOG", str(catalog))
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": "1", "prompt": "x"}\n')
    outputs = []
    for key in (USED, OTHER):
        for straddle in (1, 6, 15, len(key) - 6, len(key) - 1):
            pad = "x" * (299 - straddle) + " "
            for body in ({"error": {"message": pad + key + " was refused"}}, pad + key + " was refused"):
                server.defaults["/v1/chat/completions"] = Reply(400, body)
                for args in (
                    ("prompt", "hi", "--llm", "openai/a", "--no-stream"),
                    ("prompt", "hi", "--llm", "openai/a", "--json"),
                ):
                    result = cli(*args)
                    assert result.exit_code == 1, result.stdout + result.stderr
                    outputs.append(result.stdout + result.stderr)
        out = tmp_path / f"out-{len(outputs)}.jsonl"
        result = cli("batch", str(lines), "-o", str(out), "--llm", "openai/a")
        outputs.append(result.stdout + result.stderr + out.read_text())
    assert "answered 400: xxx" in outputs[0]
    for key in (USED, OTHER):
        assert not _leaks(key, "\n".join(outputs))
        for path in [*home.rglob("*"), *tmp_path.rglob("*")]:
            if path.is_file() and path != catalog:
                assert not _leaks(key, path.read_bytes().decode("utf-8", "replace")), path
