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
