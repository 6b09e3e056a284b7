"""`--provider` keeps one provider's LLMs; `--prefer-provider` (and config.toml's
`prefer_providers`) puts some providers' LLMs first without touching a pinned choice."""

from __future__ import annotations

import json

import pytest

from conftest import entry, write_json


@pytest.fixture
def mixed(home, monkeypatch):
    path = write_json(
        home.parent / "mixed.json",
        {
            "llms": [
                entry("openai/best", quality_score=9, priority=3),
                entry("openai/good", quality_score=8, priority=4),
                entry("anthropic/fine", provider="anthropic", quality_score=7, priority=2),
                entry("anthropic/ok", provider="anthropic", quality_score=6, priority=1),
                entry("groq/meh", provider="groq", quality_score=5, priority=5),
            ]
        },
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(path))
    return path


def pick(cli, *args):
    result = cli("pick", "--group", "writer", "--assume-available", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_provider_keeps_only_that_providers_llms(cli, mixed):
    got = pick(cli, "--provider", "anthropic")
    assert got["llm"] == "anthropic/fine" and got["chain"] == ["anthropic/fine", "anthropic/ok"]
    assert got["provider"] == "anthropic" and got["sources"]["provider"] == "command line"
    others = {c["id"]: c["skipped"] for c in got["candidates"] if c["id"].startswith("openai/")}
    assert others == {
        "openai/best": "served by openai, not anthropic",
        "openai/good": "served by openai, not anthropic",
    }


def test_prefer_provider_puts_its_llms_first_in_the_order_given(cli, mixed):
    assert pick(cli)["chain"] == ["openai/best", "openai/good", "anthropic/fine"]
    got = pick(cli, "--prefer-provider", "groq", "--prefer-provider", "anthropic")
    assert got["chain"] == ["groq/meh", "anthropic/fine", "anthropic/ok"]
    assert got["prefer_providers"] == ["groq", "anthropic"]


def test_config_prefer_providers_applies_unless_the_command_line_says_otherwise(cli, mixed, home):
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text('prefer_providers = ["anthropic"]\n')
    got = pick(cli)
    assert got["llm"] == "anthropic/fine" and got["sources"]["prefer_providers"].startswith("config.toml")
    assert pick(cli, "--prefer-provider", "openai")["llm"] == "openai/best"


def test_a_pinned_choice_is_never_moved_by_a_preference(cli, mixed):
    assert cli("book", "default", "set", "moby", "writer", "groq/meh").exit_code == 0
    got = pick(cli, "--book", "moby", "--prefer-provider", "openai")
    assert (got["llm"], got["rule"]) == ("groq/meh", "book_default")
    assert pick(cli, "--llm", "anthropic/ok", "--prefer-provider", "openai")["llm"] == "anthropic/ok"


def test_provider_passes_over_a_pinned_choice_of_another_provider_and_says_why(cli, mixed):
    assert cli("book", "default", "set", "moby", "writer", "groq/meh").exit_code == 0
    got = pick(cli, "--book", "moby", "--provider", "openai")
    assert (
        got["llm"] == "openai/best"
        and "book default groq/meh skipped: served by groq, not openai" in got["warnings"]
    )


@pytest.mark.parametrize("option", ["--provider", "--prefer-provider"])
def test_an_unknown_provider_exits_2_with_the_closest_names(cli, mixed, option):
    result = cli("pick", "--group", "writer", option, "antropic")
    assert result.exit_code == 2 and "unknown provider 'antropic'; did you mean 'anthropic'" in result.stderr


def test_an_unknown_provider_in_config_is_named(cli, mixed, home):
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text('prefer_providers = ["opnai"]\n')
    result = cli("pick", "--group", "writer")
    assert result.exit_code == 3 and "did you mean 'openai'" in result.stderr
    assert f"{home / 'config.toml'}:1: field 'prefer_providers': unknown provider 'opnai'" in result.stderr


def test_get_llm_by_provider(home, mixed):
    from llmctl import get_llm_by_provider
    from llmctl.errors import NoMatchError, UnknownNameError

    assert get_llm_by_provider("anthropic", assume_available=True).id == "anthropic/ok"  # lowest priority
    with pytest.raises(NoMatchError):
        get_llm_by_provider("anthropic")  # no key set
    with pytest.raises(UnknownNameError):
        get_llm_by_provider("nobody")
