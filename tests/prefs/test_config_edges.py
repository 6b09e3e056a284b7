"""config.toml's rough edges: a provider with no key at all, errors on the line they are on."""

from __future__ import annotations

import json


def test_a_server_without_a_key_needs_no_dummy_variable(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[providers.work-vllm]\nkind = "openai_compat"\nbase_url = "http://gpu-box:8000/v1"\napi_key_env = ""\n'
    )
    assert cli("add", "work/llama", "--provider", "work-vllm", "--group", "writer").exit_code == 0
    shown = json.loads(cli("show", "work/llama", "--json").stdout)
    assert (shown["key_env"], shown["available"]) == (None, True)
    assert cli("pick", "--llm", "work/llama", "--group", "writer").stdout == "work/llama\n"
    rows = {r["provider"]: r for r in json.loads(cli("providers", "list", "--json").stdout)}
    assert rows["work-vllm"]["key_env"] is None


def test_a_bad_value_in_a_provider_table_names_its_own_line(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[providers.a]\napi_key_env = "A_KEY"\n\n[providers.b]\nkind = "openai_compat"\napi_key_env = "lower case"\n'
    )
    result = cli("list")
    assert (
        result.exit_code == 3
        and "config.toml:6:" in result.stderr
        and "providers.b.api_key_env" in result.stderr
    )
