"""`catalog diff OLD NEW`: files in any importable format, `bundled` and `merged`."""

from __future__ import annotations

import json

from conftest import entry, sample, write_json


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
        'deprecated = true\ndeprecation_date = "2089-01-01"\n\n'
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
            {"id": "acme/a", "field": "deprecation_date", "old": None, "new": "2089-01-01"},
        ],  # acme/b says the same with its defaults written out: no change
        "retirements": [{"id": "acme/a", "date": "2089-01-01", "replacement": None, "passed": False}],
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


def test_a_source_file_is_matched_and_compared_as_an_import_would(cli, tmp_path):
    listing = write_json(
        tmp_path / "or.json",
        {
            "data": [
                {  # the bundled entry at OpenRouter: a new price, another name and description
                    "id": "anthropic/claude-opus-5",
                    "name": "Anthropic: Claude Opus Five",
                    "description": "words",
                    "pricing": {"prompt": "0.000006", "completion": "0.000025"},
                    "context_length": 1000000,
                },
                {  # served by OpenAI in the catalog: OpenRouter's figures are not OpenAI's
                    "id": "openai/gpt-4o",
                    "pricing": {"prompt": "0.000009", "completion": "0.00001"},
                },
                {"id": "acme/brand-new", "pricing": {"prompt": "0", "completion": "0"}},
            ]
        },
    )
    result = json.loads(cli("catalog", "diff", "bundled", str(listing), "--json").stdout)
    assert result["changed"] == [
        {"id": "anthropic/claude-opus-5", "field": "input_cost_per_mtok", "old": 5.0, "new": 6.0}
    ]  # no name, description, groups or priority; capabilities it does not state are kept
    assert result["added"] == ["acme/brand-new"]
    # removed: the catalog's other OpenRouter entries, never those of other providers
    assert "anthropic/claude-3-haiku" in result["removed"] and "openai/gpt-4o" not in result["removed"]
    reverse = json.loads(cli("catalog", "diff", str(listing), "bundled", "--json").stdout)
    assert reverse["removed"] == ["acme/brand-new"]
    assert reverse["changed"][0] | {"old": 6.0, "new": 5.0} == reverse["changed"][0]


def test_the_bundled_catalog_against_its_own_source_has_no_changes(cli):
    """OpenRouter's list of 2026-08-19 is where the bundled figures come from: matched as an
    import matches, nothing differs (it was 53 "removed" and 182 "changes")."""
    result = json.loads(
        cli("catalog", "diff", "bundled", str(sample("openrouter_models.json")), "--json").stdout
    )
    assert (result["removed"], result["changed"], result["retirements"]) == ([], [], [])


def test_diff_against_litellm_lists_the_retirements_it_sets(cli):
    result = cli("catalog", "diff", "bundled", str(sample("litellm_1.110.2_models.json")), "--json")
    retirements = {r["id"]: r for r in json.loads(result.stdout)["retirements"]}
    assert retirements["google/gemini-2.5-pro"]["date"] == "2026-12-01"
    assert retirements["anthropic/claude-sonnet-4.5"]["date"] == "2026-11-30"
    assert retirements["openai/gpt-5"]["date"] == "2026-12-11"
    changed = json.loads(result.stdout)["changed"]
    gpt5 = {c["field"]: c["new"] for c in changed if c["id"] == "openai/gpt-5"}
    assert gpt5["max_input_tokens"] == 272000 and "context_length" not in gpt5  # 400k is kept
    text = cli("catalog", "diff", "bundled", str(sample("litellm_1.110.2_models.json"))).stdout
    assert "openai/gpt-5: retires on 2026-12-11" in text or "openai/gpt-5: retired on 2026-12-11" in text


def test_a_file_that_does_not_parse_is_named_and_exits_3(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"llms": [')
    result = cli("catalog", "diff", str(bad), "merged")
    assert result.exit_code == 3 and f"{bad}:1: invalid JSON" in result.stderr
    missing = cli("catalog", "diff", "bundled", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 3 and "no such file" in missing.stderr
