"""The audit log: one line per change, read back with damaged lines named."""

from __future__ import annotations

from llmctl.prefs import audit


def test_audit_records_and_reads(h):
    audit.record(
        h,
        "edit",
        [audit.Change("a/b", *audit.diff({"priority": 1, "name": "x"}, {"priority": 2, "name": "x"}))],
    )
    (entry,), problems = audit.read(h)
    assert problems == []
    assert (entry["command"], entry["target"], entry["before"], entry["after"]) == (
        "edit",
        "a/b",
        {"priority": 1},
        {"priority": 2},
    )


def test_damaged_lines_are_named_and_the_rest_is_kept(h):
    audit.record(h, "edit", [audit.Change("a/b", {"priority": 1}, {"priority": 2})])
    with open(h.audit_file, "a") as handle:
        handle.write("{not json\n[1, 2]\n")
    audit.record(h, "edit", [audit.Change("a/c", None, {"id": "a/c"})])
    records, problems = audit.read(h)
    assert [r["target"] for r in records] == ["a/b", "a/c"]
    assert problems == [
        f"{h.audit_file}:2: damaged line left out (invalid JSON: Expecting property name enclosed in double quotes)",
        f"{h.audit_file}:3: damaged line left out (not a JSON object)",
    ]


def test_a_partial_last_line_does_not_swallow_the_next_record(h):
    h.audit_file.parent.mkdir(parents=True, exist_ok=True)
    h.audit_file.write_text('{"time": "x", "command": "edit", "tar')  # a write cut short
    audit.record(h, "disable", [audit.Change("a/b", {"enabled": True}, {"enabled": False})])
    records, problems = audit.read(h)
    assert [r["command"] for r in records] == ["disable"] and len(problems) == 1


def test_no_change_is_made_without_its_audit_record(cli, home):
    (home / "audit.jsonl").mkdir(parents=True)
    result = cli("edit", "gpt4o", "--priority", "42")
    assert result.exit_code == 3 and "audit.jsonl: is a directory" in result.stderr
    assert not (home / "catalog.toml").exists()
    assert cli("book", "default", "set", "moby", "editor", "gpt4o").exit_code == 3
    assert not (home / "books" / "moby.toml").exists()
    assert cli("default", "set", "gpt4o").exit_code == 3
    assert not (home / "config.toml").exists()
    assert cli("audit").exit_code == 3
