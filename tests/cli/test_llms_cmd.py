"""list, show, add, edit, remove, enable, disable through CliRunner."""

from __future__ import annotations

import json

from conftest import entry, write_json


def rows(out: str) -> list[str]:
    return [line.split()[0] for line in out.strip().splitlines()[1:]]


def test_list_group_prints_plain_table_when_piped(cli):
    result = cli("list", "--group", "writer")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "PROVIDER",
        "TIER",
        "QUALITY",
        "IN",
        "$/M",
        "OUT",
        "$/M",
        "CONTEXT",
        "GROUPS",
    ]
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal
    ids = rows(result.stdout)
    assert "openai/gpt-4o" in ids and "openai/text-embedding-3-small" not in ids


def test_list_json_has_the_contract_keys(cli):
    data = json.loads(cli("list", "--group", "writer", "--json").stdout)
    assert data and all("writer" in e["valid_groups"] for e in data)
    for key in (
        "id",
        "provider",
        "model",
        "valid_groups",
        "tier",
        "quality_score",
        "input_cost_per_mtok",
        "output_cost_per_mtok",
        "context_length",
        "capabilities",
        "enabled",
        "priority",
    ):
        assert key in data[0]
    scores = [e["quality_score"] for e in data]
    assert scores == sorted(scores, reverse=True)


def test_list_hides_deprecated_and_disabled_unless_all(cli):
    default = {e["id"] for e in json.loads(cli("list", "--json").stdout)}
    everything = {e["id"] for e in json.loads(cli("list", "--all", "--json").stdout)}
    assert "anthropic/claude-3-opus" not in default and "anthropic/claude-3-opus" in everything
    assert "anthropic/claude-3-haiku" not in default  # deprecated without a date: hidden from list


def test_list_filters_combine(cli):
    data = json.loads(
        cli(
            "list",
            "--tier",
            "economy",
            "--provider",
            "openai",
            "--capability",
            "vision",
            "--min-context",
            "100000",
            "--max-output-cost",
            "2",
            "--sort",
            "cost",
            "--json",
        ).stdout
    )
    assert data
    for e in data:
        assert e["tier"] == "economy" and e["provider"] == "openai" and "vision" in e["capabilities"]
        assert e["context_length"] >= 100000 and e["output_cost_per_mtok"] <= 2
    costs = [e["input_cost_per_mtok"] + e["output_cost_per_mtok"] for e in data]
    assert costs == sorted(costs)


def test_list_search_company_and_sorts(cli):
    data = json.loads(cli("list", "--company", "anthropic", "--search", "haiku", "--all", "--json").stdout)
    assert {e["id"] for e in data} == {"anthropic/claude-3-haiku", "anthropic/claude-haiku-4.5"}
    for sort, key, reverse in (
        ("context", "context_length", True),
        ("priority", "priority", False),
        ("speed", "seconds_per_output_mtok", False),
        ("id", "id", False),
    ):
        values = [e[key] for e in json.loads(cli("list", "--sort", sort, "--json").stdout)]
        known = [v for v in values if v is not None]
        assert values[: len(known)] == sorted(known, reverse=reverse), sort  # unknown values last


def test_list_available_uses_key_env_vars(cli, monkeypatch):
    ids = {e["id"] for e in json.loads(cli("list", "--available", "--json").stdout)}
    assert ids and all(i.startswith("ollama/") for i in ids)  # only local models need no key
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ids = {e["id"] for e in json.loads(cli("list", "--available", "--json").stdout)}
    assert "openai/gpt-4o" in ids and "anthropic/claude-sonnet-5" not in ids


def test_list_unknown_group_exits_2_with_suggestion(cli):
    result = cli("list", "--group", "writter")
    assert result.exit_code == 2
    assert result.stderr.startswith("llmctl: error: unknown group 'writter'; did you mean 'writer'")


def test_list_unknown_sort_and_capability(cli):
    assert cli("list", "--sort", "qualty").exit_code == 2
    assert cli("list", "--capability", "visoin").exit_code == 2
    assert cli("list", "--min-context", "-5").exit_code == 2


def test_show_json_and_text(cli):
    data = json.loads(cli("show", "haiku3", "--json").stdout)
    assert data["id"] == "anthropic/claude-3-haiku" and data["origin"] == "bundled catalog"
    assert data["available"] is False and data["key_env"] == "OPENROUTER_API_KEY"
    text = cli("show", "anthropic/claude-3-haiku").stdout
    assert "OPENROUTER_API_KEY is not set" in text and "deprecated, use anthropic/claude-haiku-4.5" in text


def test_show_unknown_id_suggests(cli):
    result = cli("show", "openai/gpt-4oo")
    assert result.exit_code == 2
    assert "did you mean 'openai/gpt-4o'" in result.stderr
    assert "Traceback" not in result.stderr


def test_edit_bundled_entry_patches_user_catalog(cli, home):
    result = cli(
        "edit",
        "gpt4o",
        "--priority",
        "5",
        "--group",
        "writer",
        "--group",
        "editor",
        "--param",
        "temperature=0.2",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "edited openai/gpt-4o\n"
    text = (home / "catalog.toml").read_text()
    assert 'id = "openai/gpt-4o"' in text and "priority = 5" in text
    assert "input_cost_per_mtok" not in text  # only the changed fields are written
    data = json.loads(cli("show", "openai/gpt-4o", "--json").stdout)
    assert data["priority"] == 5 and data["valid_groups"] == ["writer", "editor"]
    assert data["params"] == {"temperature": 0.2} and set(data["patched"]) == {
        "priority",
        "valid_groups",
        "params",
    }


def test_edit_bad_values_exit_2_and_write_nothing(cli, home):
    assert cli("edit", "gpt4o", "--group", "writr").exit_code == 2
    assert cli("edit", "gpt4o", "--input-cost", "-1").exit_code == 2
    assert cli("edit", "gpt4o", "--priority", "1.5").exit_code == 2
    assert cli("edit", "gpt4o", "--param", "novalue").exit_code == 2
    assert cli("edit", "gpt4o", "--api-key-env", "sk-abc123").exit_code == 2
    assert cli("edit", "gpt4o").exit_code == 2
    assert not (home / "catalog.toml").exists()


def test_edit_unknown_id(cli):
    result = cli("edit", "openai/gpt4o-min", "--priority", "1")
    assert result.exit_code == 2 and "did you mean" in result.stderr


def test_add_with_flags_then_list(cli):
    result = cli(
        "add",
        "acme/novel-1",
        "--provider",
        "openai",
        "--model",
        "novel-1",
        "--group",
        "writer",
        "--input-cost",
        "0.5",
        "--output-cost",
        "1.5",
        "--context",
        "32000",
        "--quality",
        "6",
        "--capability",
        "streaming",
        "--api-key-env",
        "ACME_KEY",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(cli("show", "acme/novel-1", "--json").stdout)
    assert data["tier"] == "economy" and data["tier_derived"] is True and data["origin"] == "user catalog"
    assert data["auth"] == {"api_key_env": "ACME_KEY"} and data["key_env"] == "ACME_KEY"


def test_add_existing_or_incomplete_is_refused(cli):
    assert cli("add", "openai/gpt-4o", "--provider", "openai").exit_code == 2
    result = cli("add", "acme/x")
    assert result.exit_code == 2 and "provider" in result.stderr


def test_add_from_file(cli, tmp_path):
    path = write_json(tmp_path / "new.json", {"llms": [entry("acme/a"), entry("acme/b", provider="groq")]})
    result = cli("add", "--from-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert [c["target"] for c in json.loads(result.stdout)] == ["acme/a", "acme/b"]


def test_add_from_bad_file_exits_3(cli, tmp_path):
    path = tmp_path / "new.json"
    path.write_text('{"llms": [ {"id": "x/y", } ]}')
    result = cli("add", "--from-file", str(path))
    assert result.exit_code == 3 and f"{path}:1" in result.stderr


def test_remove_user_entry_deletes_it(cli, home):
    cli("add", "acme/x", "--provider", "openai")
    assert cli("remove", "acme/x").exit_code == 0
    assert cli("show", "acme/x").exit_code == 2


def test_remove_bundled_entry_disables_it_and_explains(cli, home):
    bundled = (__import__("llmctl.paths").paths.bundled_catalog_path()).read_bytes()
    result = cli("remove", "openai/gpt-4o")
    assert result.exit_code == 0
    assert (
        "bundled catalog" in result.stderr
        and "disabled" in result.stderr
        and "llmctl enable" in result.stderr
    )
    assert json.loads(cli("show", "openai/gpt-4o", "--json").stdout)["enabled"] is False
    assert (__import__("llmctl.paths").paths.bundled_catalog_path()).read_bytes() == bundled


def test_enable_disable_several_and_audit(cli):
    assert cli("disable", "gpt4o", "gpt35").exit_code == 0
    for llm in ("openai/gpt-4o", "openai/gpt-3.5-turbo"):
        assert json.loads(cli("show", llm, "--json").stdout)["enabled"] is False
    assert cli("enable", "gpt4o").exit_code == 0
    log = json.loads(cli("audit", "--json").stdout)
    assert [(r["command"], r["target"]) for r in log] == [
        ("disable", "openai/gpt-4o"),
        ("disable", "openai/gpt-3.5-turbo"),
        ("enable", "openai/gpt-4o"),
    ]
    assert log[0]["before"] == {"enabled": True} and log[0]["after"] == {"enabled": False}
    assert set(log[0]) >= {"time", "command", "target", "before", "after"}


def test_disable_with_one_unknown_id_changes_nothing(cli, home):
    result = cli("disable", "gpt4o", "nope/nope")
    assert result.exit_code == 2
    assert not (home / "catalog.toml").exists()
    assert json.loads(cli("audit", "--json").stdout) == []


def test_corrupt_user_catalog_is_reported_and_never_overwritten(cli, home):
    home.mkdir(parents=True)
    bad = '[[llms]]\nid = "openai/gpt-4o"\npriority = = 3\n'
    (home / "catalog.toml").write_text(bad)
    for args in (("edit", "gpt4o", "--priority", "1"), ("disable", "gpt35"), ("list",)):
        result = cli(*args)
        assert result.exit_code == 3
        assert f"{home / 'catalog.toml'}:3" in result.stderr
    assert (home / "catalog.toml").read_text() == bad


def test_audit_limit_and_table(cli):
    for n in range(3):
        cli("edit", "gpt4o", "--priority", str(n + 1))
    assert len(json.loads(cli("audit", "--limit", "2", "--json").stdout)) == 2
    table = cli("audit").stdout
    assert table.splitlines()[0].split() == ["TIME", "COMMAND", "TARGET", "BEFORE", "AFTER"]


def test_stale_patch_is_ignored_with_a_warning_and_can_be_removed(cli, home):
    home.mkdir(parents=True)
    (home / "catalog.toml").write_text(
        '[[llms]]\nid = "openai/gone"\nenabled = false\n\n[[llms]]\nid = "openai/gpt-4o"\npriority = 7\n'
    )
    result = cli("list", "--json")
    assert (
        result.exit_code == 0
        and "openai/gone" in result.stderr
        and "llmctl remove openai/gone" in result.stderr
    )
    assert cli("remove", "openai/gone").exit_code == 0
    text = (home / "catalog.toml").read_text()
    assert "openai/gone" not in text and "priority = 7" in text
    assert "openai/gone" not in cli("list").stderr
    log = json.loads(cli("audit", "--json").stdout)
    assert log[-1]["target"] == "openai/gone" and log[-1]["after"] is None


def test_both_user_catalogs_is_an_error(cli, home):
    home.mkdir(parents=True)
    (home / "catalog.toml").write_text("")
    (home / "catalog.json").write_text('{"llms": []}')
    result = cli("list")
    assert result.exit_code == 3 and "both catalog.toml and catalog.json" in result.stderr


def test_secrets_in_params_or_env_names_are_refused(cli, home):
    assert (
        cli(
            "add", "acme/z", "--provider", "openai", "--param", 'headers={"Authorization": "Bearer sk-123"}'
        ).exit_code
        == 2
    )
    assert cli("add", "acme/z", "--provider", "openai", "--param", "extra=Bearer sk-123").exit_code == 2
    result = cli("add", "acme/z", "--provider", "openai", "--api-key-env", "gsk_abcDEF123")
    assert result.exit_code == 2 and "gsk_abcDEF123" not in result.stderr.split("must name")[0]
    assert not (home / "catalog.toml").exists() and not (home / "audit.jsonl").exists()


def test_ambiguous_bare_model_name(cli):
    cli("add", "azure/gpt-4o", "--provider", "azure")
    result = cli("show", "gpt-4o")
    assert (
        result.exit_code == 2
        and "ambiguous" in result.stderr
        and "azure/gpt-4o, openai/gpt-4o" in result.stderr
    )


def test_unset_unknown_field_and_unknown_provider(cli):
    result = cli("edit", "gpt4o", "--unset", "prioriy")
    assert result.exit_code == 2 and "did you mean 'priority'" in result.stderr
    result = cli("edit", "gpt4o", "--provider", "opnai")
    assert result.exit_code == 2 and "did you mean 'openai'" in result.stderr


def test_list_unknown_provider_and_hidden_count(cli):
    result = cli("list", "--provider", "opnai")
    assert result.exit_code == 2 and "did you mean 'openai'" in result.stderr
    result = cli("list", "--provider", "anthropic")
    assert "2 disabled or deprecated hidden" in result.stderr


def test_edit_unset_reverts_exactly_to_the_bundled_value(cli):
    bundled = json.loads(cli("show", "gpt4o", "--json").stdout)["priority"]
    cli("edit", "gpt4o", "--priority", "5")
    cli("edit", "gpt4o", "--unset", "priority")
    assert json.loads(cli("show", "gpt4o", "--json").stdout)["priority"] == bundled != 5


def test_edit_alias_adds_to_the_bundled_aliases(cli):
    assert cli("edit", "gpt4o", "--alias", "g4").exit_code == 0
    assert json.loads(cli("show", "g4", "--json").stdout)["aliases"] == ["gpt4o", "g4"]
    assert cli("show", "gpt4o").exit_code == 0


def test_same_size_rewrite_with_kept_mtime_is_seen(cli, home):
    import os

    cli("edit", "gpt4o", "--priority", "5")
    path = home / "catalog.toml"
    stat = path.stat()
    path.write_text(path.read_text().replace("priority = 5", "priority = 6"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # like `cp -p`: same size, same mtime
    assert json.loads(cli("show", "gpt4o", "--json").stdout)["priority"] == 6


def test_subcommand_help_offers_no_completion_installers(cli):
    for group in ("book", "job", "default", "catalog", "providers"):
        assert "--install-completion" not in cli(group, "--help").stdout


def test_config_api_key_env_counts_for_available_and_show(cli, home, monkeypatch):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('[providers.openai]\napi_key_env = "WORK_OPENAI_KEY"\n')
    monkeypatch.setenv("WORK_OPENAI_KEY", "sk-work")
    ids = {e["id"] for e in json.loads(cli("list", "--available", "--json").stdout)}
    assert "openai/gpt-4o" in ids
    shown = json.loads(cli("show", "gpt4o", "--json").stdout)
    assert shown["key_env"] == "WORK_OPENAI_KEY" and shown["available"] is True


def test_edits_keep_the_users_comments(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "catalog.toml").write_text(
        "# Our house catalog: ask Ann before changing prices.\n"
        '[[llms]]\nid = "openai/gpt-4o"  # the workhorse\npriority = 5\n\n'
        '# local experiments\n[[llms]]\nid = "acme/x"\nprovider = "openai"\n[llms.auth]\napi_key_env = "ACME_KEY"\n'
    )
    (home / "config.toml").write_text("# team settings\nmax_attempts = 3  # keep chains short\n")
    assert cli("edit", "gpt4o", "--priority", "7").exit_code == 0
    assert cli("disable", "acme/x").exit_code == 0
    assert cli("add", "acme/y", "--provider", "openai").exit_code == 0
    assert cli("default", "set", "gpt4o").exit_code == 0
    text = (home / "catalog.toml").read_text()
    assert "# Our house catalog: ask Ann before changing prices." in text and "# the workhorse" in text
    assert "priority = 7" in text and "# local experiments" in text
    assert json.loads(cli("show", "acme/x", "--json").stdout)["enabled"] is False
    assert json.loads(cli("show", "acme/y", "--json").stdout)["provider"] == "openai"
    config = (home / "config.toml").read_text()
    assert (
        "# team settings" in config
        and "# keep chains short" in config
        and 'global = "openai/gpt-4o"' in config
    )
    assert cli("remove", "acme/x").exit_code == 0
    assert "acme/x" not in (home / "catalog.toml").read_text()
    assert cli("book", "default", "set", "moby", "writer", "gpt4o").exit_code == 0
    book = home / "books" / "moby.toml"
    book.write_text("# Moby: keep it literary\n" + book.read_text())
    assert cli("book", "override", "set", "moby", "opus").exit_code == 0
    assert book.read_text().startswith("# Moby: keep it literary")


def test_a_provider_must_be_built_in_or_declared(cli, home):
    result = cli("add", "opnai/gpt-x", "--provider", "opnai", "--group", "writer")
    assert result.exit_code == 2 and "did you mean 'openai'" in result.stderr
    assert "[providers.opnai]" in result.stderr and "OPNAI_API_KEY" not in result.stderr
    assert not (home / "catalog.toml").exists()
    assert cli("edit", "gpt4o", "--router", "opnai").exit_code == 2
    (home / "config.toml").write_text('[providers.opnai]\nbase_url = "https://llm.example/v1"\n')
    assert cli("add", "opnai/gpt-x", "--provider", "opnai", "--group", "writer").exit_code == 0
    assert json.loads(cli("show", "opnai/gpt-x", "--json").stdout)["key_env"] == "OPNAI_API_KEY"
