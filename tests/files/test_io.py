"""Reading llmctl's files: line numbers of TOML keys and tables."""

from __future__ import annotations

from llmctl.files.io import line_in_table


def test_line_in_table():
    text = "[jobs.a]\ngroup = 'x'\n\n[jobs.b]\ntier = 'y'\ngroup = 'z'\n"
    assert line_in_table(text, "jobs.b", "group") == 6
    assert line_in_table(text, "jobs.b", None) == 4
    assert line_in_table(text, "jobs.a", "tier") == 1  # not in that table: the header
