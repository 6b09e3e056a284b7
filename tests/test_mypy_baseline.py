"""The mypy baseline check (.ci/mypy_baseline.py): line numbers do not matter, counts do."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "mypy_baseline.py"
_spec = importlib.util.spec_from_file_location("mypy_baseline", SCRIPT)
assert _spec and _spec.loader
baseline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baseline)

OUTPUT = """\
src/llmctl/api.py:58: error: Item "None" of "LLM | None" has no attribute "id"  [union-attr]
src/llmctl/api.py:116: error: Argument 1 to "_sendable" has incompatible type "LLM | None"; expected "LLM"  [arg-type]
src/llmctl/api.py:116: note: See https://mypy.readthedocs.io/en/stable/
src/llmctl/api.py:147: error: Argument 1 to "_sendable" has incompatible type "LLM | None"; expected "LLM"  [arg-type]
Found 3 errors in 1 file (checked 98 source files)
"""


def test_baseline_lines_drop_line_numbers_and_notes():
    assert baseline.baseline_lines(OUTPUT) == [
        'src/llmctl/api.py: arg-type: Argument 1 to "_sendable" has incompatible type "LLM | None"; expected "LLM"',
        'src/llmctl/api.py: arg-type: Argument 1 to "_sendable" has incompatible type "LLM | None"; expected "LLM"',
        'src/llmctl/api.py: union-attr: Item "None" of "LLM | None" has no attribute "id"',
    ]


def test_an_error_that_moved_is_not_new_but_one_more_of_a_kind_is():
    known = baseline.baseline_lines(OUTPUT)
    moved = OUTPUT.replace(":58:", ":70:").replace(":147:", ":300:")
    assert baseline.compare(baseline.baseline_lines(moved), known) == ([], [])
    extra = (
        OUTPUT
        + 'src/llmctl/api.py:400: error: Item "None" of "LLM | None" has no attribute "id"  [union-attr]\n'
    )
    new, fixed = baseline.compare(baseline.baseline_lines(extra), known)
    assert (
        new == ['src/llmctl/api.py: union-attr: Item "None" of "LLM | None" has no attribute "id"']
        and fixed == []
    )


def test_a_fixed_error_must_leave_the_baseline():
    known = baseline.baseline_lines(OUTPUT)
    fewer = "\n".join(line for line in OUTPUT.splitlines() if ":147:" not in line)
    new, fixed = baseline.compare(baseline.baseline_lines(fewer), known)
    assert new == [] and fixed == [
        'src/llmctl/api.py: arg-type: Argument 1 to "_sendable" has incompatible type "LLM | None"; expected "LLM"'
    ]
