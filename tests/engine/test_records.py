"""The outcome words: an enum, serialised as the words scripts and the usage store read."""

from __future__ import annotations

import json
import sqlite3

from llmctl.engine.records import Attempt, Outcome


def test_outcomes_serialise_to_their_words():
    words = {"ok", "error", "skipped", "cache_hit", "interrupted", "planned"}
    assert {o.value for o in Outcome} == words
    attempt = Attempt("acme/a", "acme", Outcome.CACHE_HIT)
    assert json.loads(json.dumps(attempt.to_dict()))["outcome"] == "cache_hit"
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (outcome TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (Outcome.INTERRUPTED,))
    assert db.execute("SELECT outcome, typeof(outcome) FROM t").fetchone() == ("interrupted", "text")
