"""Batch input is checked whole before anything is sent; resume reads what a run left."""

from __future__ import annotations

import json

import pytest

from llmctl.engine.batch import finished_ids, parse_batch
from llmctl.errors import UsageError


def test_lines_become_items_and_blank_lines_still_count():
    text = '{"id": "a", "prompt": "one"}\n\n{"id": "b", "messages": [{"role": "user", "content": "two"}], "job": "copyedit", "max_tokens": 50, "temperature": 0.2}\n'
    items = parse_batch(text, "in.jsonl", system="Be brief.")
    assert [(i.id, i.line) for i in items] == [("a", 1), ("b", 3)]
    assert [(m.role, m.content) for m in items[0].messages] == [("system", "Be brief."), ("user", "one")]
    assert (items[1].job, items[1].max_tokens, items[1].temperature) == ("copyedit", 50, 0.2)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("not json", "in.jsonl:3: not JSON"),
        ("[1, 2]", "in.jsonl:3: expected a JSON object"),
        ('{"prompt": "x"}', "in.jsonl:3: no `id`"),
        ('{"id": 7, "prompt": "x"}', "in.jsonl:3: `id` must be a non-empty string"),
        ('{"id": "a", "prompt": "again"}', "in.jsonl:3: id 'a' repeats line 1"),
        ('{"id": "c"}', "in.jsonl:3: has neither `prompt` nor `messages`"),
        ('{"id": "c", "prompt": "x", "messages": []}', "in.jsonl:3: has both `prompt` and `messages`"),
        ('{"id": "c", "promt": "x"}', "in.jsonl:3: unknown field 'promt'; did you mean 'prompt'?"),
        ('{"id": "c", "prompt": "  "}', "in.jsonl:3: `prompt` must be a non-empty string"),
        (
            '{"id": "c", "messages": [{"role": "robot", "content": "x"}]}',
            "in.jsonl:3: message 1: role is one of",
        ),
        (
            '{"id": "c", "prompt": "x", "max_tokens": 0}',
            "in.jsonl:3: `max_tokens` must be a positive whole number",
        ),
        (
            '{"id": "c", "prompt": "x", "temperature": 9}',
            "in.jsonl:3: `temperature` must be a number from 0 to 2",
        ),
        ('{"id": "c", "prompt": "x", "llm": 5}', "in.jsonl:3: `llm` must be a string"),
    ],
)
def test_every_bad_line_is_refused_with_file_and_line(line, problem):
    text = '{"id": "a", "prompt": "one"}\n\n' + line + "\n"
    with pytest.raises(UsageError) as info:
        parse_batch(text, "in.jsonl")
    assert info.value.message.startswith(problem)


def test_resume_keeps_answered_ids_and_cuts_a_partial_last_line(tmp_path):
    out = tmp_path / "out.jsonl"
    lines = [
        {"id": "a", "error": None},
        {"id": "b", "error": "every LLM failed"},
        {"id": "c", "error": "failed"},
        {"id": "c", "error": None},  # the last line for an id wins
    ]
    out.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"id": "d", "te')
    assert finished_ids(out) == {"a", "c"}
    assert out.read_text().endswith('"error": null}\n')  # the partial line is gone
    assert finished_ids(tmp_path / "missing.jsonl") == set()
