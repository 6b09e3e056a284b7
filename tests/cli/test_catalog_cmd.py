"""catalog validate|import|export|init|path and default show|set|clear through CliRunner."""

from __future__ import annotations

import json
import tomllib

from conftest import DATA, entry, sample, write_json


def test_validate_default_sources_ok(cli):
    result = cli("catalog", "validate")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok  ") and "llms.json" in result.stdout


def test_validate_files_reports_every_problem_and_exits_3(cli, tmp_path):
    good = write_json(tmp_path / "good.json", [entry("a/b")])
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"llms": [entry("a/b", priority=1.5), entry("a/c", input_cost_per_mtok=-1), entry("a/c")]},
            indent=2,
        )
    )
    result = cli("catalog", "validate", str(good), str(bad))
    assert result.exit_code == 3
    assert f"ok  {good}" in result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith("llmctl: error:")]
    assert len(problems) == 3
    assert "'a/b', field 'priority'" in problems[0] and "'a/c', field 'input_cost_per_mtok'" in problems[1]
    assert "duplicate id" in problems[2]
    assert all(f"{bad}:" in p for p in problems)


def test_validate_json_report(cli, tmp_path):
    bad = write_json(tmp_path / "bad.json", {"llms": []})
    data = json.loads(cli("catalog", "validate", str(bad), "--json").stdout)
    assert data == [
        {"path": str(bad), "ok": False, "entries": 0, "problems": [f"{bad}: the catalog holds no entries"]}
    ]


def test_validate_overlay_mode_accepts_patches(cli, tmp_path):
    patch = tmp_path / "patch.toml"
    patch.write_text('[[llms]]\nid = "openai/gpt-4o"\npriority = 1\n')
    assert cli("catalog", "validate", str(patch)).exit_code == 3  # a patch is not a complete catalog
    assert cli("catalog", "validate", "--overlay", str(patch)).exit_code == 0


def test_validate_missing_file(cli, tmp_path):
    result = cli("catalog", "validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 3 and "no such file" in result.stderr


def test_import_litellm_then_list(cli, home):
    result = cli("catalog", "import", str(DATA / "litellm_prices.json"), "--group", "writer", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["format"] == "litellm" and summary["skipped"]["sample_spec"] == 1
    assert summary["added"] + summary["updated"] + summary["unchanged"] == summary["read"]
    log = json.loads(cli("audit", "--limit", "1000", "--json").stdout)
    assert len(log) == summary["added"] + summary["updated"]  # one audit line per changed entry
    added = [r["target"] for r in log if r["before"] is None]
    shown = json.loads(cli("show", added[0], "--json").stdout)
    assert shown["valid_groups"] == ["writer"] and shown["enabled"] is True and shown["tier_derived"] is True


def test_import_openrouter_dry_run_writes_nothing(cli, home):
    result = cli("catalog", "import", str(DATA / "openrouter_models.json"), "--dry-run")
    assert result.exit_code == 0 and result.stdout.startswith("would import")
    assert not (home / "catalog.toml").exists()


def test_import_openrouter_whole_file(cli, home):
    result = cli(
        "catalog",
        "import",
        str(sample("openrouter_models.json")),
        "--format",
        "openrouter",
        "--group",
        "tagger",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["read"] > 390 and summary["skipped"]["router pseudo-model"] == 6
    tagger = json.loads(cli("list", "--group", "tagger", "--json").stdout)
    assert len(tagger) > 300
    assert cli("catalog", "validate").exit_code == 0


def test_import_wrong_format_and_unknown_group(cli, home):
    result = cli("catalog", "import", str(DATA / "litellm_prices.json"), "--format", "openrouter")
    assert result.exit_code == 3 and "looks like a LiteLLM price file" in result.stderr
    result = cli("catalog", "import", str(DATA / "litellm_prices.json"), "--group", "poet")
    assert result.exit_code == 2 and "unknown group 'poet'" in result.stderr
    assert not (home / "catalog.toml").exists()


def test_export_round_trips_through_validate(cli, tmp_path):
    cli("edit", "gpt4o", "--priority", "2")
    for fmt in ("json", "toml", "yaml"):
        result = cli("catalog", "export", "--format", fmt)
        assert result.exit_code == 0
        path = tmp_path / f"exported.{fmt}"
        path.write_text(result.stdout)
        assert cli("catalog", "validate", str(path)).exit_code == 0
        exported = json.loads(cli("--catalog", str(path), "list", "--all", "--json").stdout)
        original = json.loads(cli("list", "--all", "--json").stdout)
        assert [(e["id"], e["priority"], e["tier"]) for e in exported] == [
            (e["id"], e["priority"], e["tier"]) for e in original
        ]
    assert cli("catalog", "export", "--format", "xml").exit_code == 2


def test_init_from_env_sets_tier_mapping_for_keys_present(cli, home, monkeypatch):
    result = cli("catalog", "init", "--from-env", "--json")
    assert json.loads(result.stdout)["tiers"] == []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    result = cli("catalog", "init", "--from-env", "--json")
    assert result.exit_code == 0, result.stderr
    tiers = {(t["provider"], t["tier"]): t["llm"] for t in json.loads(result.stdout)["tiers"]}
    assert tiers[("openai", "economy")] == "openai/gpt-3.5-turbo"
    assert tiers[("openai", "premium")] == "openai/gpt-4o"
    assert tiers[("anthropic", "premium")] == "anthropic/claude-opus-4.8"  # Claude 3 Opus is retired
    assert ("groq", "economy") not in tiers
    shown = json.loads(cli("show", "anthropic/claude-opus-4.8", "--json").stdout)
    assert shown["tier"] == "premium"  # a replacement keeps its own tier
    assert cli("catalog", "init").exit_code == 2


def test_init_from_env_leaves_what_the_user_disabled(cli, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    assert cli("disable", "gpt4o").exit_code == 0
    tiers = json.loads(cli("catalog", "init", "--from-env", "--json").stdout)["tiers"]
    premium = next(t for t in tiers if t["tier"] == "premium")
    assert premium["note"] == "disabled in your catalog: left as it is"
    assert json.loads(cli("show", "gpt4o", "--json").stdout)["enabled"] is False


def test_path_lists_home_files(cli, home):
    data = json.loads(cli("catalog", "path", "--json").stdout)
    assert data["user_catalog"] == str(home / "catalog.toml")
    assert data["audit"] == str(home / "audit.jsonl") and data["base_catalog"].endswith("llms.json")


def test_default_set_show_clear_one_per_scope(cli, home):
    assert cli("default", "show", "--json").stdout.strip() == '{\n  "scope": "global",\n  "llm": null\n}'
    assert cli("default", "set", "gpt4o").stdout == "openai/gpt-4o\n"
    assert cli("default", "set", "haiku3").exit_code == 0  # replaces the previous default
    assert json.loads(cli("default", "show", "--json").stdout) == {
        "scope": "global",
        "llm": "anthropic/claude-3-haiku",
    }
    assert cli("default", "set", "gpt35", "--scope", "ci").exit_code == 0
    config = tomllib.loads((home / "config.toml").read_text())
    assert config["defaults"] == {"global": "anthropic/claude-3-haiku", "ci": "openai/gpt-3.5-turbo"}
    assert cli("default", "clear").exit_code == 0
    assert json.loads(cli("default", "show", "--json").stdout)["llm"] is None
    assert cli("default", "show", "--scope", "ci").stdout == "openai/gpt-3.5-turbo\n"
    log = json.loads(cli("audit", "--json").stdout)
    assert [(r["target"], r["before"], r["after"]) for r in log][-1] == (
        "default:global",
        "anthropic/claude-3-haiku",
        None,
    )


def test_default_bad_input(cli, home):
    assert cli("default", "set", "nope").exit_code == 2
    assert cli("default", "set", "anthropic/claude-3-opus").exit_code == 2  # disabled (retired)
    assert cli("default", "set", "gpt4o", "--scope", "../x").exit_code == 2
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("defaults = [\n")
    result = cli("default", "set", "gpt4o")
    assert result.exit_code == 3 and "config.toml" in result.stderr
    assert (home / "config.toml").read_text() == "defaults = [\n"


def test_config_unknown_key_suggests(cli, home):
    home.mkdir(parents=True)
    (home / "config.toml").write_text("max_attempt = 3\n")
    result = cli("list")
    assert (
        result.exit_code == 3
        and "did you mean 'max_attempts'" in result.stderr
        and "config.toml:1" in result.stderr
    )


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("llmctl ")
    assert cli("--help").exit_code == 0


def test_import_llmctl_format_keeps_groups_and_enabled(cli, tmp_path):
    team = tmp_path / "team.toml"
    team.write_text(
        '[[llms]]\nid = "team/a"\nprovider = "openai"\nvalid_groups = ["editor"]\nenabled = false\n\n'
        '[[llms]]\nid = "team/b"\nprovider = "openai"\n'
    )
    result = cli("catalog", "import", str(team), "--group", "tagger", "--json")
    assert result.exit_code == 0, result.stderr
    a = json.loads(cli("show", "team/a", "--json").stdout)
    b = json.loads(cli("show", "team/b", "--json").stdout)
    assert (a["valid_groups"], a["enabled"]) == (["editor"], False)
    assert (b["valid_groups"], b["enabled"]) == (["tagger"], True)


def test_reimport_with_reordered_capabilities_changes_nothing(cli, tmp_path):
    cli("catalog", "import", str(DATA / "litellm_prices.json"))
    data = json.loads((DATA / "litellm_prices.json").read_text())
    again = tmp_path / "again.json"
    again.write_text(json.dumps(dict(reversed(list(data.items())))))
    summary = json.loads(cli("catalog", "import", str(again), "--json").stdout)
    assert summary["added"] == 0 and summary["updated"] == 0


def test_import_never_reprices_a_model_served_by_another_provider(cli):
    before = json.loads(cli("show", "deepseek/deepseek-v4-pro", "--json").stdout)
    summary = json.loads(cli("catalog", "import", str(DATA / "openrouter_models.json"), "--json").stdout)
    after = json.loads(cli("show", "deepseek/deepseek-v4-pro", "--json").stdout)
    assert (after["provider"], after["input_cost_per_mtok"]) == ("deepseek", before["input_cost_per_mtok"])
    assert summary["skipped"]["served by another provider"] >= 1


def test_import_matches_a_known_model_served_under_another_id(cli, tmp_path):
    data = {
        "groq/llama-3.3-70b-versatile": {
            "litellm_provider": "groq",
            "mode": "chat",
            "input_cost_per_token": 6e-07,
            "output_cost_per_token": 8e-07,
        }
    }
    path = tmp_path / "l.json"
    path.write_text(json.dumps(data))
    summary = json.loads(cli("catalog", "import", str(path), "--json").stdout)
    assert summary["added"] == 0 and summary["updated"] == 1
    assert cli("show", "groq/llama-3.3-70b-versatile").exit_code == 2  # no duplicate entry
    assert (
        json.loads(cli("show", "meta-llama/llama-3.3-70b-versatile", "--json").stdout)["input_cost_per_mtok"]
        == 0.6
    )


def test_validate_reports_an_entry_whose_provider_is_unknown(cli, home, monkeypatch):
    from conftest import entry, write_json

    catalog = write_json(
        home.parent / "team.json",
        {"llms": [entry("openai/a"), entry("opnai/b", provider="opnai", api_base="https://x.example/v1")]},
    )
    monkeypatch.setenv("LLMCTL_CATALOG", str(catalog))
    result = cli("catalog", "validate")
    assert result.exit_code == 3
    assert "team.json" in result.stdout + result.stderr
    assert "entry 'opnai/b', field 'provider': unknown provider 'opnai'; did you mean 'openai'?" in (
        result.stdout + result.stderr
    )
    shown = json.loads(cli("show", "opnai/b", "--json").stdout)
    assert shown["key_env"] is None and shown["available"] is False  # no OPNAI_API_KEY made up
    assert "unknown provider 'opnai'" in shown["unavailable"]
    result = cli("prompt", "hi", "--llm", "opnai/b")
    assert result.exit_code == 4 and "unknown provider 'opnai'" in result.stderr
    assert "OPNAI_API_KEY" not in result.stderr
