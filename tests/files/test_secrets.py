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
