"""YAML catalog files: the same shape as JSON, read wherever a catalog file is read; what
YAML allows but a catalog must not (tabs, anchors, a key twice, a bare string) is refused
with the path and line."""

from __future__ import annotations

import pytest

from llmctl.catalog.files import read_catalog_file
from llmctl.errors import FileError
from llmctl.files.io import key_lines, load

GOOD = """\
# a team's catalog
llms:
  - id: acme/small
    provider: openai
    deprecated: true
    deprecation_date: 2026-01-31   # stays text, not a date
    valid_groups: [writer]
  - id: "acme/big"
    provider: openai
    quality_score: 9
    valid_groups: [writer]
"""


def test_a_yaml_catalog_reads_like_json(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    read = read_catalog_file(path)
    assert [e["id"] for e in read.entries] == ["acme/small", "acme/big"]
    assert read.entries[0]["deprecation_date"] == "2026-01-31"
    assert (read.line("acme/small"), read.line("acme/big")) == (3, 8)
    assert key_lines(GOOD, "provider") == {"openai": [4, 9]}
    assert key_lines(GOOD, "id") == {"acme/small": [3], "acme/big": [8]}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("llms:\n  - id: a/b\n\tprovider: openai\n", 3, "found character '\\t' that cannot start any token"),
        (
            "llms:\n  - &base\n    id: a/b\n  - *base\n",
            2,
            "anchor &base: anchors and aliases are not accepted",
        ),
        ("defaults: &d {provider: openai}\n", 1, "anchor &d"),
        ("llms:\n  - id: a/b\n    id: a/c\n", 3, "key 'id' is given twice"),
        ("? [a, b]\n: 1\n", 1, "a key must be a name"),
        ("llms: [\n", 2, "invalid YAML"),
        ("---\nllms: []\n---\nllms: []\n", 3, "expected a single document"),
    ],
)
def test_what_yaml_allows_but_a_catalog_must_not_is_refused_with_its_line(tmp_path, text, line, words):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(FileError) as caught:
        load(path)
    assert caught.value.line == line and words in caught.value.message and str(path) in caught.value.message


def test_a_yaml_document_that_is_not_a_catalog(tmp_path, cli):
    path = tmp_path / "words.yaml"
    path.write_text('"just a string"\n')
    result = cli("catalog", "validate", str(path))
    assert result.exit_code == 3 and "not a catalog" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("llms:\n  - id: a/b\n    provider: openai\n    quality_score: eleven\n")
    result = cli("catalog", "validate", str(bad))
    assert result.exit_code == 3 and f"{bad}:2: entry 'a/b', field 'quality_score'" in result.stderr


def test_a_yaml_base_catalog_is_picked_from(tmp_path, cli):
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    result = cli("--catalog", str(path), "pick", "--group", "writer", "--assume-available")
    assert result.exit_code == 0 and result.stdout == "acme/big\n"
