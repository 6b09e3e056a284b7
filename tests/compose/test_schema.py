"""Schemas: valid JSON Schema or not; an answer parsed and checked against one."""

from __future__ import annotations

import pytest

from compose.homes import TAGS_SCHEMA, write
from llmctl.compose.schema import parse_answer, read_schema_file, schema_option, schema_problem
from llmctl.errors import FileError, InvalidOutput, UsageError


def test_a_valid_schema_has_no_problem():
    assert schema_problem(TAGS_SCHEMA) is None
    assert schema_problem({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}) is None


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "objekt"}, "at $.type"),
        ({"type": "object", "required": "tags"}, "at $.required"),
        ([1, 2], "a schema is a JSON object"),
    ],
)
def test_a_schema_that_is_not_json_schema_says_where(schema, says):
    assert says in schema_problem(schema)


def test_schema_files_of_the_home_are_exit_3_and_of_the_command_line_exit_2(tmp_path):
    bad = write(tmp_path / "bad.json", '{"type": 3}')
    with pytest.raises(FileError) as caught:
        read_schema_file(bad)
    assert caught.value.exit_code == 3
    for path in (bad, tmp_path / "missing.json", write(tmp_path / "broken.json", "{")):
        with pytest.raises(UsageError, match="--json-schema") as caught:
            schema_option(path)
        assert caught.value.exit_code == 2
    assert schema_option(write(tmp_path / "ok.json", '{"type": "object"}')) == {"type": "object"}


def test_an_answer_is_parsed_and_checked():
    assert parse_answer('{"tags": ["a"]}', TAGS_SCHEMA) == {"tags": ["a"]}
    assert parse_answer('```json\n{"tags": []}\n```\n', TAGS_SCHEMA) == {"tags": []}
    assert parse_answer("[1]") == [1]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ('{"tags": [3]}', "$.tags[0]: 3 is not of type 'string'"),
        ("{}", "$: 'tags' is a required property"),
        ("Sure! Here are the tags", "not JSON"),
    ],
)
def test_an_answer_that_breaks_the_schema_is_invalid_output(answer, problem):
    with pytest.raises(InvalidOutput) as caught:
        parse_answer(answer, TAGS_SCHEMA)
    assert problem in caught.value.problem
    assert caught.value.answer == answer
    assert caught.value.kind == "invalid_output"
