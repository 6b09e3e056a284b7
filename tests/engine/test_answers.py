"""The answer's JSON shapes, built by one function: each surface's keys, in its order."""

from __future__ import annotations

from conftest import entry
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.answers import BATCH, COMPARE, PROMPT, PROMPT_FAILED, answer_json
from llmctl.engine.records import Attempt, Outcome, Result
from llmctl.providers.wire import Usage

LLM_A = DictRegistry([entry("acme/a")]).get_by_id("acme/a")
RESULT = Result("hi", LLM_A, [Attempt("acme/a", "openai", Outcome.OK, 200, tries=1)], Usage(3, 1), 0.5, 12.34)


def test_each_surface_shows_its_keys_in_its_order():
    prompt = answer_json(PROMPT, RESULT)
    assert list(prompt) == [
        "text",
        "llm",
        "provider",
        "attempts",
        "usage",
        "cost",
        "latency_ms",
        "ttft_ms",
        "cached",
    ]
    assert prompt["usage"] == {"input_tokens": 3, "output_tokens": 1, "estimated": False}
    assert prompt["latency_ms"] == 12.3 and prompt["attempts"][0]["outcome"] == "ok"
    line = answer_json(BATCH, RESULT, item_id="7")
    assert list(line) == [
        "id",
        "text",
        "llm",
        "provider",
        "attempts",
        "usage",
        "cost",
        "latency_ms",
        "cached",
        "error",
    ]
    assert (
        line["id"] == "7"
        and line["error"] is None
        and line["usage"] == {"input_tokens": 3, "output_tokens": 1}
    )
    assert list(answer_json(COMPARE, RESULT)) == [
        "llm",
        "provider",
        "text",
        "error",
        "usage",
        "cost",
        "latency_ms",
    ]


def test_a_failure_has_the_same_keys_with_nothing_answered():
    tried = [Attempt("acme/a", "openai", Outcome.ERROR, 503, error="down", tries=3)]
    failed = answer_json(PROMPT_FAILED, error="every LLM failed", attempts=tried)
    assert failed == {
        "text": None,
        "llm": None,
        "provider": None,
        "error": "every LLM failed",
        "attempts": [a.to_dict() for a in tried],
        "usage": None,
        "cost": None,
    }
    compared = answer_json(COMPARE, entry=LLM_A, error="down", latency_ms=0.0)
    assert (compared["llm"], compared["text"], compared["latency_ms"]) == ("acme/a", None, 0.0)
