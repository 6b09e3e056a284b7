"""`llmctl deployment list|add|edit|remove` through CliRunner."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import tomllib

import pytest

from llmctl.engine.usage import AttemptRecord, UsageStore
from llmctl.paths import Home

LIST_KEYS = {"llm", "id", "provider", "weight", "order", "key_set", "cooling_until", "requests_1h", "p50_ms"}


def written(home) -> dict:
    """The user catalog's entries by id, as the file holds them."""
    return {e["id"]: e for e in tomllib.loads((home / "catalog.toml").read_text())["llms"]}


def audit(cli) -> list[dict]:
    return json.loads(cli("audit", "--json").stdout)


def shown(cli, llm: str) -> dict:
    result = cli("show", llm, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def listed(cli, *args: str) -> list[dict]:
    result = cli("deployment", "list", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def assert_valid(cli) -> None:
    result = cli("catalog", "validate")
    assert result.exit_code == 0, result.stdout + result.stderr


# --- add -----------------------------------------------------------------------------------------


def test_add_writes_the_implicit_deployment_out_first_then_the_new_one(cli, home):
    result = cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter", "--weight", "0.5")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "added openai/gpt-4o@or\n"
    assert written(home)["openai/gpt-4o"] == {
        "id": "openai/gpt-4o",
        "deployments": [
            {"id": "openai", "provider": "openai"},
            {"id": "or", "provider": "openrouter", "weight": 0.5},
        ],
    }
    data = shown(cli, "openai/gpt-4o")
    assert data["provider"] == "openai" and data["model"] == "gpt-4o"
    assert [(d["id"], d["model"], d["weight"]) for d in data["deployments"]] == [
        ("openai", "gpt-4o", 1.0),
        ("or", "openai/gpt-4o", 0.5),
    ]
    assert_valid(cli)


def test_add_is_one_audit_line_holding_the_changed_fields(cli):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    (line,) = audit(cli)
    assert (line["command"], line["target"]) == ("deployment", "openai/gpt-4o")
    assert line["before"] == {"deployments": None}
    assert line["after"] == {
        "deployments": [{"id": "openai", "provider": "openai"}, {"id": "or", "provider": "openrouter"}]
    }


def test_add_with_every_field_round_trips_through_show_json(cli, home):
    result = cli(
        "deployment", "add", "openai/gpt-4o", "--id", "azure-eu", "--provider", "azure",
        "--model", "gpt4o-eu", "--api-key-env", "AZURE_EU_KEY", "--api-base", "https://eu.example.com/v1",
        "--weight", "2", "--order", "2", "--input-cost", "3", "--output-cost", "12", "--disabled",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (_, azure) = shown(cli, "gpt4o")["deployments"]
    assert {k: azure[k] for k in ("id", "provider", "model", "api_base", "auth", "weight", "order")} == {
        "id": "azure-eu",
        "provider": "azure",
        "model": "gpt4o-eu",
        "api_base": "https://eu.example.com/v1",
        "auth": {"api_key_env": "AZURE_EU_KEY"},
        "weight": 2.0,
        "order": 2,
    }
    assert (azure["enabled"], azure["input_cost_per_mtok"], azure["output_cost_per_mtok"]) == (
        False,
        3.0,
        12.0,
    )
    assert_valid(cli)


def test_add_to_an_entry_with_deployments_appends(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    assert cli("deployment", "add", "gpt4o", "--id", "groq", "--provider", "groq").exit_code == 0
    ids = [d["id"] for d in written(home)["openai/gpt-4o"]["deployments"]]
    assert ids == ["openai", "or", "groq"]
    assert len(audit(cli)) == 2


def test_add_to_a_users_own_entry_keeps_its_model_and_key_on_the_first_deployment(cli, home):
    assert (
        cli("add", "acme/z", "--provider", "openai", "--model", "z-1", "--api-key-env", "ACME_KEY").exit_code
        == 0
    )
    assert cli("deployment", "add", "acme/z", "--id", "or", "--provider", "openrouter").exit_code == 0
    first, second = written(home)["acme/z"]["deployments"]
    assert first == {
        "id": "openai",
        "provider": "openai",
        "model": "z-1",
        "auth": {"api_key_env": "ACME_KEY"},
    }
    assert second == {"id": "or", "provider": "openrouter"}
    data = shown(cli, "acme/z")
    assert (data["provider"], data["model"], data["deployments"][1]["model"]) == ("openai", "z-1", "acme/z")
    assert_valid(cli)


# --- edit ----------------------------------------------------------------------------------------


def test_edit_changes_the_named_fields_only(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter", "--api-key-env", "OR_ONE")
    result = cli("deployment", "edit", "gpt4o", "or", "--weight", "3", "--order", "2", "--disabled")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "edited openai/gpt-4o@or\n"
    second = written(home)["openai/gpt-4o"]["deployments"][1]
    assert second == {
        "id": "or",
        "provider": "openrouter",
        "auth": {"api_key_env": "OR_ONE"},
        "weight": 3.0,
        "order": 2,
        "enabled": False,
    }
    line = audit(cli)[-1]
    assert line["command"] == "deployment" and list(line["before"]) == ["deployments"]
    assert line["before"]["deployments"][1] == {
        "id": "or",
        "provider": "openrouter",
        "auth": {"api_key_env": "OR_ONE"},
    }
    assert cli("deployment", "edit", "gpt4o", "or", "--enabled").exit_code == 0
    assert "enabled" not in written(home)["openai/gpt-4o"]["deployments"][1]  # the default is not written
    assert_valid(cli)


def test_edit_of_the_implicit_deployment_writes_it_out(cli, home):
    assert cli("deployment", "edit", "gpt4o", "openai", "--api-key-env", "WORK_OPENAI_KEY").exit_code == 0
    entry = written(home)["openai/gpt-4o"]
    assert entry["deployments"] == [
        {"id": "openai", "provider": "openai", "auth": {"api_key_env": "WORK_OPENAI_KEY"}}
    ]
    # The entry's own key follows its first deployment: what sends by it reaches the same key.
    assert entry["auth"] == {"api_key_env": "WORK_OPENAI_KEY"}
    assert shown(cli, "gpt4o")["auth"] == {"api_key_env": "WORK_OPENAI_KEY"}
    assert_valid(cli)


def test_edit_that_changes_nothing_writes_nothing(cli, home):
    result = cli("deployment", "edit", "gpt4o", "openai", "--weight", "1")
    assert result.exit_code == 0 and "nothing changed" in result.stderr
    assert not (home / "catalog.toml").exists() and audit(cli) == []


def test_edit_of_the_first_deployments_provider_changes_the_entrys(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    assert (
        cli("deployment", "edit", "gpt4o", "openai", "--provider", "azure", "--model", "my-gpt").exit_code
        == 0
    )
    data = shown(cli, "gpt4o")
    assert (data["provider"], data["model"]) == ("azure", "my-gpt")
    assert_valid(cli)


# --- remove --------------------------------------------------------------------------------------


def test_remove_a_second_deployment(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    result = cli("deployment", "remove", "gpt4o", "or")
    assert result.exit_code == 0 and result.stdout == "removed openai/gpt-4o@or\n"
    assert written(home)["openai/gpt-4o"]["deployments"] == [{"id": "openai", "provider": "openai"}]
    assert [line["command"] for line in audit(cli)] == ["deployment", "deployment"]


def test_removing_the_first_deployment_moves_the_entrys_provider_and_model(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    result = cli("deployment", "remove", "gpt4o", "openai")
    assert result.exit_code == 0, result.stderr
    assert "provider is now openrouter" in result.stderr
    entry = written(home)["openai/gpt-4o"]
    assert entry["deployments"] == [{"id": "or", "provider": "openrouter"}]
    # The bundled entry writes model "gpt-4o": the patch makes it the OpenRouter name.
    assert entry["model"] == "openai/gpt-4o"
    data = shown(cli, "gpt4o")
    assert (data["provider"], data["model"]) == ("openrouter", "openai/gpt-4o")
    line = audit(cli)[-1]
    assert line["before"]["provider"] == "openai" and line["after"]["provider"] == "openrouter"
    assert_valid(cli)


def test_removing_the_first_of_a_users_entry_rewrites_its_provider(cli, home):
    cli("add", "acme/z", "--provider", "openai", "--api-key-env", "ACME_KEY")
    cli("deployment", "add", "acme/z", "--id", "groq", "--provider", "groq")
    assert cli("deployment", "remove", "acme/z", "openai").exit_code == 0
    entry = written(home)["acme/z"]
    assert entry["provider"] == "groq" and "auth" not in entry
    assert (shown(cli, "acme/z")["provider"], shown(cli, "acme/z")["auth"]) == ("groq", {})
    assert_valid(cli)


def test_removing_the_last_deployment_is_refused_and_says_why(cli, home):
    result = cli("deployment", "remove", "gpt4o", "openai")
    assert result.exit_code == 2
    assert "only deployment of openai/gpt-4o" in result.stderr and "at least one" in result.stderr
    assert "llmctl disable openai/gpt-4o" in result.stderr
    assert not (home / "catalog.toml").exists() and audit(cli) == []


# --- bad input -----------------------------------------------------------------------------------


BAD = [
    (["add", "gpt4o", "--id", "openai", "--provider", "openai"], "already has a deployment 'openai'"),
    (["add", "gpt4o", "--id", "x", "--provider", "openai", "--weight", "-1"], "weight"),
    (["add", "gpt4o", "--id", "x", "--provider", "openai", "--weight", "inf"], "finite"),
    (["add", "gpt4o", "--id", "x", "--provider", "openai", "--weight", "nan"], "finite"),
    (["add", "gpt4o", "--id", "x", "--provider", "openai", "--order", "0"], "order"),
    (["add", "gpt4o", "--id", "x", "--provider", "opnai"], "did you mean 'openai'"),
    (
        ["add", "gpt4o", "--id", "x", "--provider", "openai", "--api-key-env", "sk-abc123"],
        "environment variable",
    ),
    (["add", "gpt4o", "--id", "a/b", "--provider", "openai"], "letters, digits"),
    (["add", "gpt4o", "--id", "eu west", "--provider", "openai"], "letters, digits"),
    (["add", "gpt4o", "--id", "x", "--provider", "openai", "--input-cost", "-2"], "input_cost_per_mtok"),
    (["add", "gpt4o", "--id", "x", "--provider", "openai", "--api-base", "ftp://x"], "api_base"),
    (["add", "gpt-4oo", "--id", "x", "--provider", "openai"], "did you mean"),
    (["edit", "gpt4o", "opnai", "--weight", "2"], "did you mean 'openai'"),
    (["edit", "gpt4o", "openai", "--order", "0"], "order"),
    (["edit", "gpt4o", "openai"], "nothing to change"),
    (["edit", "gpt4o", "openai", "--provider", "nope"], "unknown provider"),
    (["remove", "gpt4o", "openaii"], "did you mean 'openai'"),
    (["remove", "nope/nope", "openai"], "unknown LLM"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_and_writes_nothing(cli, home, args, says):
    result = cli("deployment", *args)
    assert result.exit_code == 2, result.stdout
    assert says in result.stderr and result.stderr.startswith("llmctl: error: ")
    assert "Traceback" not in result.stderr
    assert not (home / "catalog.toml").exists()
    assert audit(cli) == []


def test_bad_input_leaves_an_existing_catalog_byte_for_byte(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    before = (home / "catalog.toml").read_bytes()
    for args in (
        ["add", "gpt4o", "--id", "or", "--provider", "groq"],
        ["edit", "gpt4o", "or", "--weight", "-3"],
    ):
        assert cli("deployment", *args).exit_code == 2
    assert (home / "catalog.toml").read_bytes() == before and len(audit(cli)) == 1


def test_a_key_passed_as_an_env_name_or_id_is_refused_and_never_echoed(cli, home):
    key = "sk-proj-" + "Ab3" * 12
    for args in (
        ["add", "gpt4o", "--id", "x", "--provider", "openai", "--api-key-env", key],
        ["add", "gpt4o", "--id", key, "--provider", "openai"],
        ["edit", "gpt4o", "openai", "--model", key],
    ):
        result = cli("deployment", *args)
        assert result.exit_code == 2
        assert key not in result.stdout + result.stderr
    assert not (home / "catalog.toml").exists() and audit(cli) == []


def test_a_user_catalog_that_does_not_parse_is_exit_3_and_never_overwritten(cli, home):
    home.mkdir(parents=True)
    bad = '[[llms]]\nid = "openai/gpt-4o"\npriority = = 3\n'
    (home / "catalog.toml").write_text(bad)
    for args in (
        ("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter"),
        ("deployment", "remove", "gpt4o", "openai"),
        ("deployment", "list"),
    ):
        result = cli(*args)
        assert result.exit_code == 3
        assert f"{home / 'catalog.toml'}:3" in result.stderr
    assert (home / "catalog.toml").read_text() == bad


# --- the file written ----------------------------------------------------------------------------


def test_a_symlinked_catalog_file_stays_a_link(cli, home, tmp_path):
    home.mkdir(parents=True)
    target = tmp_path / "dotfiles" / "catalog.json"
    target.parent.mkdir()
    target.write_text('{"llms": [{"id": "openai/gpt-4o", "priority": 3}]}\n')
    (home / "catalog.json").symlink_to(target)
    assert cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter").exit_code == 0
    assert (home / "catalog.json").is_symlink()
    (entry,) = json.loads(target.read_text())["llms"]
    assert entry["priority"] == 3 and [d["id"] for d in entry["deployments"]] == ["openai", "or"]
    assert [d["id"] for d in shown(cli, "gpt4o")["deployments"]] == ["openai", "or"]
    assert_valid(cli)


def test_comments_of_the_users_catalog_survive(cli, home):
    home.mkdir(parents=True)
    (home / "catalog.toml").write_text('# mine\n[[llms]]\nid = "openai/gpt-4o"\npriority = 3  # keep\n')
    assert cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter").exit_code == 0
    assert cli("deployment", "remove", "gpt4o", "openai").exit_code == 0
    text = (home / "catalog.toml").read_text()
    assert "# mine" in text and "# keep" in text
    assert [d["id"] for d in written(home)["openai/gpt-4o"]["deployments"]] == ["or"]
    assert shown(cli, "gpt4o")["provider"] == "openrouter"
    assert_valid(cli)


# --- list ----------------------------------------------------------------------------------------


def test_list_of_one_llm_has_the_contract_keys(cli):
    cli(
        "deployment",
        "add",
        "gpt4o",
        "--id",
        "or",
        "--provider",
        "openrouter",
        "--weight",
        "0",
        "--order",
        "2",
    )
    rows = listed(cli, "gpt4o")
    assert [(r["llm"], r["id"], r["provider"], r["weight"], r["order"]) for r in rows] == [
        ("openai/gpt-4o", "openai", "openai", 1.0, 1),
        ("openai/gpt-4o", "or", "openrouter", 0.0, 2),
    ]
    for row in rows:
        assert set(row) >= LIST_KEYS
        assert (row["key_set"], row["cooling_until"], row["requests_1h"], row["p50_ms"]) == (
            False,
            None,
            0,
            None,
        )


def test_list_says_which_keys_are_set(cli, monkeypatch):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-123")
    rows = {r["id"]: r for r in listed(cli, "gpt4o")}
    assert (rows["openai"]["key_set"], rows["or"]["key_set"]) == (False, True)
    assert rows["openai"]["unusable"] == "OPENAI_API_KEY is not set" and rows["or"]["unusable"] is None
    table = cli("deployment", "list", "gpt4o").stdout
    assert "OPENROUTER_API_KEY set" in table and "OPENAI_API_KEY unset" in table
    assert "sk-or-test-123" not in table


def test_list_without_an_llm_shows_every_listed_llms_deployments_implicit_ones_too(cli):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    rows = listed(cli)
    llms = {e["id"] for e in json.loads(cli("list", "--json").stdout)}
    assert {r["llm"] for r in rows} == llms
    assert [r["id"] for r in rows if r["llm"] == "openai/gpt-4o"] == ["openai", "or"]
    ollama = next(r for r in rows if r["llm"].startswith("ollama/"))
    assert ollama["implicit"] and ollama["key_set"]  # a local server needs no key
    hidden = {r["llm"] for r in listed(cli, "--all")} - llms
    assert "anthropic/claude-3-opus" in hidden  # deprecated: shown with --all only
    text = cli("deployment", "list").stdout
    assert text.splitlines()[0].split()[:3] == ["LLM", "DEPLOYMENT", "PROVIDER"]


def test_list_shows_the_latest_cooldown_of_the_deployment_its_llm_endpoint_or_key(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    state = home / "state" / "cooldown.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    state.write_text(
        json.dumps(
            {
                "deployment:openai/gpt-4o@or": {"failures": 1, "until": now + 100},
                "endpoint:https://openrouter.ai/api/v1": {"failures": 1, "until": now + 300},
                "key:OPENAI_API_KEY": {"failures": 1, "until": now + 50},
                "llm:openai/gpt-4o-mini": {"failures": 3, "until": now + 60},
                "deployment:anthropic/claude-sonnet-4.5@anthropic": {
                    "failures": 1,
                    "until": now - 10,
                },  # over
            }
        )
    )
    rows = {(r["llm"], r["id"]): r["cooling_until"] for r in listed(cli)}
    assert rows[("openai/gpt-4o", "or")] == iso(now + 300)  # the endpoint's ends last
    assert rows[("openai/gpt-4o", "openai")] == iso(now + 50)  # its key
    assert rows[("openai/gpt-4o-mini", "openai")] == iso(now + 60)
    assert rows[("openai/gpt-4.1", "openai")] == iso(now + 50)  # a key cools every deployment using it
    assert rows[("anthropic/claude-sonnet-4.5", "anthropic")] is None


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _store(home) -> UsageStore:
    return UsageStore.for_home(Home.resolve(str(home)))


def test_list_counts_the_last_hours_requests_and_their_median_latency(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    store = _store(home)
    for latency in (100, 300, 200):
        store.record(AttemptRecord("openai/gpt-4o", "openrouter", "ok", latency_ms=latency))
    store.record(AttemptRecord("openai/gpt-4o", "openrouter", "error", status=503, latency_ms=5))
    store.record(AttemptRecord("openai/gpt-4o", "openai", "ok", latency_ms=900))
    store.record(AttemptRecord("openai/gpt-4o", "openai", "cache_hit"))  # nothing sent
    store.record(AttemptRecord("openai/gpt-4o", "openai", "ok", latency_ms=10))
    store.close()
    with sqlite3.connect(home / "usage.sqlite") as conn:  # two hours ago: outside the window
        conn.execute("UPDATE attempts SET time = '2000-01-01T00:00:00.000+00:00' WHERE latency_ms = 10")
    rows = {r["id"]: r for r in listed(cli, "gpt4o")}
    assert (rows["or"]["requests_1h"], rows["or"]["p50_ms"]) == (4, 200.0)
    assert (rows["openai"]["requests_1h"], rows["openai"]["p50_ms"]) == (1, 900.0)


def test_list_reads_the_deployment_a_row_names_when_the_store_records_it(cli, home):
    cli("deployment", "add", "gpt4o", "--id", "or-a", "--provider", "openrouter")
    cli("deployment", "add", "gpt4o", "--id", "or-b", "--provider", "openrouter")
    store = _store(home)
    store.record(AttemptRecord("openai/gpt-4o", "openrouter", "ok", latency_ms=50))
    store.close()
    rows = {r["id"]: r["requests_1h"] for r in listed(cli, "gpt4o")}
    assert rows == {"openai": 0, "or-a": 1, "or-b": 0}  # a row naming none: the first on the provider
    with sqlite3.connect(home / "usage.sqlite") as conn:
        conn.execute("UPDATE attempts SET deployment = 'or-b'")
    rows = {r["id"]: r["requests_1h"] for r in listed(cli, "gpt4o")}
    assert rows == {"openai": 0, "or-a": 0, "or-b": 1}


def test_list_of_an_unknown_llm_suggests(cli):
    result = cli("deployment", "list", "gpt-4oo")
    assert result.exit_code == 2 and "did you mean" in result.stderr


def test_deployment_commands_load_no_http_client(home):
    import subprocess
    import sys

    code = (
        "import sys\nfrom llmctl.cli import app\n"
        "for args in (['deployment', 'add', 'gpt4o', '--id', 'or', '--provider', 'openrouter'],"
        " ['deployment', 'list', '--json'], ['deployment', 'remove', 'gpt4o', 'or']):\n"
        "    try:\n        app(args)\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
        "print('httpx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_the_shell_completes_an_llms_deployment_ids(cli):
    from typer.testing import CliRunner

    from llmctl.cli import app

    cli("deployment", "add", "gpt4o", "--id", "or", "--provider", "openrouter")
    env = {
        "_LLMCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "llmctl deployment edit gpt4o o",
        "COMP_CWORD": "4",
    }
    result = CliRunner().invoke(app, [], prog_name="llmctl", env=env)
    assert result.stdout.split() == ["openai", "or"]
