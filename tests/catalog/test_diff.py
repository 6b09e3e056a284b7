"""`catalog diff OLD NEW`: files in any importable format, `bundled` and `merged`."""

from __future__ import annotations

import json

from conftest import entry, write_json


def test_diff_names_added_removed_and_each_changed_field(cli, tmp_path):
    old = write_json(
        tmp_path / "old.json",
        {
            "llms": [
                entry("acme/a", input_cost_per_mtok=2.0, context_length=100000),
                entry("acme/b"),
                entry("acme/gone"),
            ]
        },
    )
    new = tmp_path / "new.toml"
    new.write_text(
        '[[llms]]\nid = "acme/a"\nprovider = "openai"\nvalid_groups = ["writer"]\ninput_cost_per_mtok = 1.5\n'
        "output_cost_per_mtok = 2.0\nquality_score = 7\ncontext_length = 200000\n"
        'deprecated = true\ndeprecation_date = "2027-01-01"\n\n'
        '[[llms]]\nid = "acme/b"\nprovider = "openai"\nvalid_groups = ["writer"]\ninput_cost_per_mtok = 1.0\n'
        "output_cost_per_mtok = 2.0\nquality_score = 7\nenabled = true\npriority = 100\n\n"
        '[[llms]]\nid = "acme/new"\nprovider = "openai"\n'
    )
    result = cli("catalog", "diff", str(old), str(new), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "added": ["acme/new"],
        "removed": ["acme/gone"],
        "changed": [
            {"id": "acme/a", "field": "input_cost_per_mtok", "old": 2.0, "new": 1.5},
            {"id": "acme/a", "field": "context_length", "old": 100000, "new": 200000},
            {"id": "acme/a", "field": "deprecated", "old": False, "new": True},
            {"id": "acme/a", "field": "deprecation_date", "old": None, "new": "2027-01-01"},
        ],  # acme/b says the same with its defaults written out: no change
    }
    text = cli("catalog", "diff", str(old), str(new)).stdout
    assert "added (1): acme/new" in text and "removed (1): acme/gone" in text
    assert "acme/a: input_cost_per_mtok 2 -> 1.5 (-25.0%); context_length 100000 -> 200000" in text


def test_bundled_against_merged_shows_the_users_changes(cli):
    assert cli("catalog", "diff", "bundled", "merged").stdout == ""
    assert "no differences" in cli("catalog", "diff", "bundled", "merged").stderr
    cli("edit", "gpt4o", "--input-cost", "2")
    cli("disable", "haiku3")
    changes = json.loads(cli("catalog", "diff", "bundled", "merged", "--json").stdout)["changed"]
    assert [(c["id"], c["field"], c["new"]) for c in changes] == [
        ("anthropic/claude-3-haiku", "enabled", False),
        ("openai/gpt-4o", "input_cost_per_mtok", 2.0),
    ]


def test_a_foreign_file_is_compared_on_the_fields_it_gives(cli, tmp_path):
    listing = write_json(
        tmp_path / "or.json",
        {
            "data": [
                {
                    "id": "openai/gpt-4o",
                    "name": "OpenAI: GPT-4o",
                    "pricing": {"prompt": "0.000002", "completion": "0.00001"},
                    "context_length": 128000,
                }
            ]
        },
    )
    result = json.loads(cli("catalog", "diff", "bundled", str(listing), "--json").stdout)
    fields = {c["field"] for c in result["changed"] if c["id"] == "openai/gpt-4o"}
    assert "input_cost_per_mtok" in fields and "priority" not in fields and "quality_score" not in fields
    assert result["added"] == [] and len(result["removed"]) > 50


def test_a_file_that_does_not_parse_is_named_and_exits_3(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"llms": [')
    result = cli("catalog", "diff", str(bad), "merged")
    assert result.exit_code == 3 and f"{bad}:1: invalid JSON" in result.stderr
    missing = cli("catalog", "diff", "bundled", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 3 and "no such file" in missing.stderr
