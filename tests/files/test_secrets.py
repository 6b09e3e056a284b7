"""A literal secret is refused wherever one can hide, in catalog files, config.toml and edits."""

from __future__ import annotations

import pytest

from llmctl.files.secrets import find_secret, secret_name, url_secret

KEYLIKE = "sk-" + "a1b2c3d4e5f6g7h8i9j0k1"


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "openai_api_key",
        "X-Custom-Auth",
        "x-goog-api-key",
        "X-Auth-Token",
        "Cookie",
        "xApiKey",
        "Authorization",
        "signature",
    ],
)
def test_credential_names_in_any_case_and_separator(name):
    assert secret_name(name)


@pytest.mark.parametrize(
    "name", ["max_tokens", "temperature", "top_k", "keep_alive", "HTTP-Referer", "X-Title", "monkey"]
)
def test_ordinary_names_pass(name):
    assert not secret_name(name)


def test_credentials_in_urls():
    assert url_secret("https://u:pw@proxy.example/v1")
    assert url_secret("https://proxy.example/v1?key=abc")
    assert url_secret("https://proxy.example/v1?x=" + KEYLIKE)
    assert url_secret("https://proxy.example/v1?version=2") is None
    assert find_secret({"extra": {"url": "https://u:pw@h/v1"}}, "params") == "params.extra.url"


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--param", "openai_api_key=abc"], "params.openai_api_key"),
        (["--param", 'extra_headers={"X-Custom-Auth": "abc"}'], "params.extra_headers.X-Custom-Auth"),
        (["--api-base", "https://u:KEY@host.example/v1"], "must not hold credentials"),
        (["--api-base", "https://host.example/v1?key=KEY"], "must not hold credentials"),
        (["--description", f"my key is {KEYLIKE}"], "looks like an API key"),
        (["--name", KEYLIKE], "looks like an API key"),
    ],
)
def test_edits_never_write_a_secret(cli, home, args, problem):
    result = cli("edit", "gpt4o", *args)
    assert result.exit_code == 2 and problem in result.stderr
    assert not (home / "catalog.toml").exists()
    assert KEYLIKE not in result.stderr and "KEY@" not in result.stderr


@pytest.mark.parametrize(
    "config, problem",
    [
        ('[providers.openai]\nheaders = { "x-goog-api-key" = "abc" }\n', "headers.x-goog-api-key"),
        ('[providers.openai]\nheaders = { "X-Auth-Token" = "abc" }\n', "headers.X-Auth-Token"),
        ('[providers.openai]\nheaders = { "Cookie" = "session=1" }\n', "headers.Cookie"),
        ('[providers.openai]\nbase_url = "https://u:pw@proxy.example/v1"\n', "must not hold credentials"),
        (f'[defaults]\nglobal = "{KEYLIKE}"\n', "looks like an API key"),
    ],
)
def test_config_never_holds_a_secret(cli, home, config, problem):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(config)
    result = cli("list")
    assert result.exit_code == 3 and problem in result.stderr
    assert KEYLIKE not in result.stderr and "pw@" not in result.stderr


def test_ordinary_headers_and_params_pass(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        '[providers.openrouter]\nheaders = { "HTTP-Referer" = "https://x.org", "X-Title" = "moby" }\n'
    )
    assert cli("list").exit_code == 0
    assert cli("edit", "gpt4o", "--param", "max_tokens=100", "--param", "top_k=5").exit_code == 0


MORE_SHAPES = {
    "hf": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",  # Hugging Face keys are letters only
    "aws": "AKIA" + "IOSFODNNQEXAMPLE",  # base32: it need not hold a digit
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "github_pat": "github_pat_" + "11ABCDEFG0abcdefghijkl_" + "x1" * 20,
}


@pytest.mark.parametrize(
    "fields, field",
    [
        *(({"description": f"my key: {key}"}, "description") for key in MORE_SHAPES.values()),
        ({"params": {"extra": MORE_SHAPES["aws"]}}, "params"),
        ({"api_base": "https://acct.blob.example/v1?sv=2024&sig=abc%2Bdef"}, "api_base"),
        ({"api_base": "https://host.example/v1?signature=abc"}, "api_base"),
        ({"auth": {"api_key_cmd": "echo sk-literal-key"}}, "auth"),
        ({"auth": {"api_key_cmd": "printf %s abc"}}, "auth"),
        ({"auth": {"api_key_cmd": "/bin/echo abc"}}, "auth"),
        ({"auth": {"api_key_cmd": "sh -c 'echo abc'"}}, "auth"),
    ],
)
def test_a_catalog_file_refuses_more_shapes_of_secret(cli, home, monkeypatch, fields, field):
    from conftest import entry, write_json

    catalog = write_json(home / "team.json", {"llms": [entry("openai/a", **fields)]})
    monkeypatch.setenv("LLMCTL_CATALOG", str(catalog))
    result = cli("catalog", "validate")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "team.json" in result.stderr and "openai/a" in result.stderr and field in result.stderr
    for key in MORE_SHAPES.values():
        assert key not in result.stderr


@pytest.mark.parametrize(
    "config, problem",
    [
        ('[providers.openai]\napi_key_cmd = "echo sk-literal-key"\n', "api_key_cmd"),
        ('[providers.openai]\napi_key_cmd = "printf %s abc"\n', "api_key_cmd"),
        ('[providers.openai]\nbase_url = "https://h.example/v1?sig=abc"\n', "must not hold credentials"),
        (f'[defaults]\nglobal = "{MORE_SHAPES["github"]}"\n', "looks like an API key"),
        (f'[defaults]\nglobal = "{MORE_SHAPES["hf"]}"\n', "looks like an API key"),
    ],
)
def test_config_refuses_more_shapes_of_secret(cli, home, config, problem):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(config)
    result = cli("list")
    assert result.exit_code == 3 and problem in result.stderr and "config.toml" in result.stderr


@pytest.mark.parametrize(
    "command",
    ["pass show openai", "gcloud auth print-access-token", "sh -c 'echo \"$TOKEN\"'", "op read op://x/y"],
)
def test_key_commands_that_compute_a_key_pass(command):
    from llmctl.files.secrets import literal_command

    assert literal_command(command) is None


@pytest.mark.parametrize(
    "value", ["hf_transfer", "openai/gpt-4o-2024-08-06", "meta-llama/Llama-3.1-8B-Instruct", "ghp_short"]
)
def test_ordinary_values_are_not_key_shaped(value):
    from llmctl.files.secrets import key_shaped

    assert not key_shaped(value)
