"""pick, book, job and completion commands through CliRunner and a real bash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import llmctl_exe

ROOT = Path(__file__).resolve().parents[2]


def test_pick_prints_only_the_id(cli):
    result = cli("pick", "--job", "draft_chapter")
    assert result.exit_code == 0
    assert result.stdout == "ollama/qwen3:8b\n"  # no keys: the best local writer


def test_pick_with_keys_and_book_default(cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert cli("book", "default", "set", "moby", "writer", "gpt4o").exit_code == 0
    assert cli("pick", "--book", "moby", "--job", "draft_chapter").stdout == "openai/gpt-4o\n"
    assert (
        cli("pick", "--book", "moby", "--job", "draft_chapter", "--llm", "gpt-5").stdout == "openai/gpt-5\n"
    )
    assert cli(
        "pick", "--book", "moby", "--job", "draft_chapter", "--prop", "llm_id=openai/gpt-5-mini"
    ).stdout == ("openai/gpt-5-mini\n")


def test_pick_explain_shows_rules_sources_candidates_and_chain(cli, home, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    cli("book", "override", "set", "moby", "opus")
    cli("disable", "opus")
    result = cli("pick", "--book", "moby", "--job", "draft_chapter", "--explain")
    assert result.exit_code == 0
    out = result.stdout
    assert "1. book_override  skipped  anthropic/claude-opus-4.8 skipped: disabled" in out
    assert f"[book file {home / 'books' / 'moby.toml'}]" in out
    assert "group        job draft_chapter (bundled jobs)" in out
    assert "skip openai/gpt-4o" in out and "OPENAI_API_KEY is not set" in out
    assert "fallback chain (" in out and "worst case $" in out
    assert out.rstrip().splitlines()[-1].startswith("chosen: anthropic/")
    assert "book override anthropic/claude-opus-4.8 skipped: disabled" in result.stderr


def test_pick_json_shape(cli):
    data = json.loads(cli("pick", "--job", "tag_scenes", "--assume-available", "--json").stdout)
    assert {"llm", "rule", "group", "tier", "strategy", "chain", "candidates", "trace"} <= set(data)
    assert data["group"] == "tagger" and data["tier"] == "economy" and data["rule"] == "best_in_group"
    assert data["chain"][0] == data["llm"] and len(data["chain"]) <= 3
    assert len(data["candidates"]) > 40 and all(set(c) == {"id", "skipped"} for c in data["candidates"])
    assert [t["rule"] for t in data["trace"]][:3] == ["book_override", "job_llm", "book_default"]


def test_pick_tier_only_and_nothing_given(cli):
    data = json.loads(cli("pick", "--tier", "economy", "--assume-available", "--json").stdout)
    assert (data["rule"], data["strategy"]) == ("tier", "cheapest")
    assert json.loads(cli("pick", "--assume-available", "--json").stdout)["rule"] == "priority"
    cli("default", "set", "gpt4o")
    data = json.loads(cli("pick", "--assume-available", "--json").stdout)
    assert (data["rule"], data["llm"]) == ("scope_default", "openai/gpt-4o")


def test_pick_allow_upgrade_and_max_attempts(cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    base = ["pick", "--group", "writer", "--llm", "openai/gpt-5-mini", "--json"]
    tiers = [e["tier"] for e in json.loads(cli(*base).stdout)["chain_detail"]]
    assert tiers[0] == "economy" and set(tiers) <= {"economy", "local"}  # down or sideways, never up
    data = json.loads(cli(*base, "--allow-upgrade", "--max-attempts", "5").stdout)
    assert len(data["chain"]) == 5 and "premium" in {e["tier"] for e in data["chain_detail"]}


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--job", "draft_chaptr"), "did you mean 'draft_chapter'"),
        (("--group", "writr"), "did you mean 'writer'"),
        (("--tier", "cheap"), "unknown tier 'cheap'"),
        (("--strategy", "fast"), "did you mean 'fastest'"),
        (("--llm", "gpt-4oo"), "unknown LLM 'gpt-4oo'"),
        (("--prop", "llm_id"), "--prop needs KEY=VALUE"),
        (("--book", "../x"), "unsafe book name"),
        (("--book", ""), "cannot be empty"),
        (("--max-attempts", "0"), "at least 1"),
        (("--prop", "min_context=big"), "whole number"),
    ],
)
def test_pick_bad_input_exits_2(cli, args, needle):
    result = cli("pick", *args)
    assert result.exit_code == 2, result.stderr
    assert needle in result.stderr


def test_pick_nothing_fits_exits_4(cli):
    result = cli("pick", "--job", "review_chapter")
    assert result.exit_code == 4
    assert result.stderr.startswith("llmctl: error: no LLM fits group reviewer")
    assert "--assume-available" in result.stderr


def test_pick_unknown_book_warns(cli):
    cli("book", "default", "set", "moby", "writer", "gpt4o")
    result = cli("pick", "--book", "mobi", "--job", "draft_chapter")
    assert result.exit_code == 0 and "did you mean 'moby'" in result.stderr


def test_pick_corrupt_book_exits_3_other_books_fine(cli, home):
    cli("book", "default", "set", "good", "writer", "gpt4o")
    (home / "books" / "bad.toml").write_text("override = \n")
    result = cli("pick", "--book", "bad", "--job", "draft_chapter")
    assert result.exit_code == 3 and "bad.toml:1" in result.stderr
    assert (
        cli("pick", "--book", "good", "--job", "draft_chapter", "--assume-available").stdout
        == "openai/gpt-4o\n"
    )
    listed = cli("book", "list", "--json")
    assert listed.exit_code == 3 and [b["book"] for b in json.loads(listed.stdout)] == ["good"]


def test_book_show_and_list_json(cli):
    cli("book", "default", "set", "moby", "editor", "gpt4o")
    data = json.loads(cli("book", "show", "moby", "--assume-available", "--json").stdout)
    assert (
        data["book"] == "moby"
        and data["override"] is None
        and data["defaults"] == {"editor": "openai/gpt-4o"}
    )
    assert data["effective"]["editor"] == "openai/gpt-4o" and data["effective"]["writer"]
    assert json.loads(cli("book", "list", "--json").stdout) == [
        {"book": "moby", "override": None, "defaults": {"editor": "openai/gpt-4o"}}
    ]
    log = json.loads(cli("audit", "--json").stdout)
    assert log[-1]["target"] == "book:moby" and log[-1]["command"] == "book default set"


def test_job_list_json(cli):
    data = json.loads(cli("job", "list", "--json").stdout)
    assert {j["name"] for j in data} >= {
        "draft_chapter",
        "copyedit",
        "tag_scenes",
        "plan_outline",
        "review_chapter",
        "explicit_scene",
    }
    assert set(data[0]) >= {"name", "group", "tier", "capabilities", "min_context"}


def test_completion_scripts_have_not_drifted(cli):
    from llmctl.cli.completion_cmd import FILE_NAMES, script

    for shell, name in FILE_NAMES.items():
        assert (ROOT / "completions" / name).read_text() == script(shell), (
            f"completions/{name} is stale: run `llmctl completion --write completions`"
        )
        assert cli("completion", shell).stdout == script(shell)
    assert cli("completion", "tcsh").exit_code == 2


def _bash_complete(words: list[str], home: Path) -> list[str]:
    script = ROOT / "completions" / "llmctl.bash"
    exe_dir = str(Path(llmctl_exe()[0]).parent)
    line = " ".join(f'"{w}"' for w in words)
    code = (
        f'source "{script}"\nCOMP_WORDS=({line})\nCOMP_CWORD={len(words) - 1}\n'
        f'_llmctl_completion llmctl\nprintf "%s\\n" "${{COMPREPLY[@]}}"\n'
    )
    env = dict(os.environ, LLMCTL_HOME=str(home), PATH=exe_dir + os.pathsep + os.environ["PATH"])
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return [line for line in out.stdout.splitlines() if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_job_names_llms_and_books(home, cli):
    assert _bash_complete(["llmctl", "pick", "--job", ""], home) == [
        "copyedit",
        "draft_chapter",
        "explicit_scene",
        "plan_outline",
        "review_chapter",
        "summarize",
        "tag_scenes",
    ]
    assert "gpt4o" in _bash_complete(["llmctl", "pick", "--llm", "gpt4"], home)
    cli("book", "default", "set", "moby", "writer", "gpt4o")
    assert _bash_complete(["llmctl", "book", "show", "m"], home) == ["moby"]
    assert _bash_complete(["llmctl", "list", "--tier", "e"], home) == ["economy"]


def test_nothing_fits_still_explains(cli):
    result = cli("pick", "--job", "review_chapter", "--json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert (
        data["llm"] is None and data["chain"] == [] and data["error"].startswith("no LLM fits group reviewer")
    )
    assert [t["rule"] for t in data["trace"]][:3] == ["book_override", "job_llm", "book_default"]
    assert any(c["skipped"] == "OPENAI_API_KEY is not set" for c in data["candidates"])
    text = cli("pick", "--job", "review_chapter", "--explain")
    assert text.exit_code == 4 and "fallback chain: none; nothing fits" in text.stdout


def test_named_llm_not_valid_for_the_group_is_skipped_with_a_warning(cli):
    result = cli("pick", "--group", "writer", "--llm", "openai/text-embedding-3-small", "--assume-available")
    assert result.exit_code == 0 and result.stdout.strip() != "openai/text-embedding-3-small"
    assert "job llm openai/text-embedding-3-small skipped: not valid for group writer" in result.stderr


def test_scope_default_may_be_an_alias(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[defaults]\nglobal = "gpt4o"\n')
    data = json.loads(cli("pick", "--assume-available", "--json").stdout)
    assert (data["llm"], data["rule"]) == ("openai/gpt-4o", "scope_default")


def test_no_match_hint_fits_the_reason(cli):
    result = cli("pick", "--group", "writer", "--prop", "prompt_tokens=100000000", "--assume-available")
    assert result.exit_code == 4 and "--assume-available" not in result.stderr
    assert "context" in result.stderr


def test_explain_names_the_jobs_file_for_patched_fields(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "jobs.toml").write_text('[jobs.copyedit]\ntier = "economy"\n')
    data = json.loads(cli("pick", "--job", "copyedit", "--assume-available", "--json").stdout)
    assert data["sources"]["tier"] == "job copyedit (jobs file)"
    assert data["sources"]["group"] == "job copyedit (bundled jobs)"
    assert "bundled jobs (patched: tier)" in cli("job", "list").stdout


def test_unknown_strategy_in_config_is_a_file_error(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('strategy = "fast"\n')
    result = cli("pick", "--group", "writer")
    assert (
        result.exit_code == 3
        and "config.toml:1" in result.stderr
        and "did you mean 'fastest'" in result.stderr
    )


def test_empty_scope_and_deprecated_book_default(cli):
    result = cli("pick", "--scope", "")
    assert result.exit_code == 2 and "invalid scope" in result.stderr
    result = cli("book", "default", "set", "moby", "writer", "haiku3")
    assert result.exit_code == 0 and "anthropic/claude-3-haiku is deprecated" in result.stderr
    assert "replacement is anthropic/claude-haiku-4.5" in result.stderr


def test_book_show_effective_choices(cli):
    cli("book", "default", "set", "moby", "editor", "gpt4o")
    data = json.loads(cli("book", "show", "moby", "--assume-available", "--json").stdout)
    best_writer = json.loads(cli("pick", "--group", "writer", "--assume-available", "--json").stdout)["llm"]
    assert data["effective"]["editor"] == "openai/gpt-4o"
    assert data["effective"]["writer"] == best_writer
    assert "override" not in data["effective"]
