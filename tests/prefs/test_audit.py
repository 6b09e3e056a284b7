"""The audit log: one line per change, read back with damaged lines named."""

from __future__ import annotations

import pytest

from llmctl.errors import FileError
from llmctl.paths import Home
from llmctl.prefs import audit


@pytest.fixture
def h(home):
    return Home.resolve(home)


def test_audit_records_and_reads(h):
    audit.record(
        h,
        "edit",
        [audit.Change("a/b", *audit.diff({"priority": 1, "name": "x"}, {"priority": 2, "name": "x"}))],
    )
    (entry,) = audit.read(h)
    assert (entry["command"], entry["target"], entry["before"], entry["after"]) == (
        "edit",
        "a/b",
        {"priority": 1},
        {"priority": 2},
    )
    with open(h.audit_file, "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(FileError) as info:
        audit.read(h)
    assert info.value.line == 2
