"""`llmctl audit`: the change log as a table or JSON, damaged lines named and left out."""

from __future__ import annotations

import json


def test_no_log_yet_is_an_empty_table_and_an_empty_list(cli, home):
    shown = cli("audit")
    assert shown.exit_code == 0 and shown.stderr == "no changes recorded yet\n"
    assert json.loads(cli("audit", "--json").stdout) == []


def test_limit_shows_the_last_changes_newest_last(cli, home):
    for priority in (5, 6, 7):
        assert cli("edit", "gpt4o", "--priority", str(priority)).exit_code == 0
    records = json.loads(cli("audit", "-n", "2", "--json").stdout)
    assert [(r["command"], r["target"], r["after"]) for r in records] == [
        ("edit", "openai/gpt-4o", {"priority": 6}),
        ("edit", "openai/gpt-4o", {"priority": 7}),
    ]
    assert cli("audit", "-n", "0").exit_code == 2


def test_the_audit_cli_warns_about_damage_and_shows_the_rest(cli, home):
    cli("edit", "gpt4o", "--priority", "5")
    with open(home / "audit.jsonl", "a") as handle:
        handle.write("garbage\n")
    result = cli("audit", "--json")
    assert result.exit_code == 0 and "damaged line left out" in result.stderr
    assert json.loads(result.stdout)[0]["target"] == "openai/gpt-4o"


def test_a_nested_line_and_a_line_not_utf8_are_named_and_the_rest_is_shown(cli, home):
    assert cli("edit", "gpt4o", "--priority", "5").exit_code == 0
    with open(home / "audit.jsonl", "ab") as handle:
        handle.write(b"[" * 100_000 + b"]" * 100_000 + b"\n")
        handle.write(b'{"time": "x", "command": "caf\xe9", "target": "a/b"}\n')
        handle.write(b'{"time": "x", "command": ' + b"[" * 5000 + b"]" * 5000 + b"}\n")
    assert cli("edit", "gpt4o", "--priority", "6").exit_code == 0
    result = cli("audit", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["after"] for r in json.loads(result.stdout)] == [{"priority": 5}, {"priority": 6}]
    log = home / "audit.jsonl"
    assert result.stderr.splitlines() == [
        f"llmctl: warning: {log}:2: damaged line left out (invalid JSON: nested too deeply)",
        f"llmctl: warning: {log}:3: damaged line left out (not UTF-8 text: invalid continuation byte at byte 30)",
        f"llmctl: warning: {log}:4: damaged line left out (invalid JSON: nested too deeply)",
    ]
    shown = cli("audit")
    assert shown.exit_code == 0 and shown.stdout.count("edit") == 2
