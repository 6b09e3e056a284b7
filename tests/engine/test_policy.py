"""The sending policy on its own: told what happened, it says send, wait, move on or give up."""

from __future__ import annotations

import pytest

from conftest import entry
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.budget import Ledger
from llmctl.engine.options import bundled
from llmctl.engine.policy import ChainRun, Send, Wait
from llmctl.engine.records import Attempt
from llmctl.engine.usage import UsageStore
from llmctl.errors import (
    AllFailedError,
    AuthFailed,
    ConnectFailed,
    ContextTooLong,
    KeyMissing,
    NoMatchError,
    RateLimited,
    ServerFailed,
    StreamInterrupted,
    StreamUnreadable,
)
from llmctl.prefs.config import Budget
from llmctl.providers.resolve import Endpoint
from llmctl.providers.wire import ChatResult, Usage
from llmctl.selection.decision import COOLDOWN, NO_KEY, Skip


def chain(*specs):
    return [DictRegistry([s]).get_by_id(s["id"]) for s in specs]


def resolver(urls):
    def resolve(e):
        if urls.get(e.id) is None:
            raise KeyMissing("OPENAI_API_KEY is not set")
        return Endpoint(e.provider, "openai_compat", urls[e.id], None)

    return resolve


A, B, C = chain(
    entry("x/a", context_length=8000), entry("x/b", context_length=8000), entry("x/c", context_length=32000)
)
OK = ChatResult("fine", Usage(10, 2))


def run_of(*entries, urls=None, **kw):
    urls = urls or {e.id: f"http://{e.id.split('/')[1]}.test/v1" for e in entries}
    own = {name: kw.pop(name) for name in list(kw) if name in ChainRun.__dataclass_fields__}
    return ChainRun(list(entries), resolver(urls), *bundled(rng=lambda: 0.5, **kw), **own)


def test_first_llm_answers():
    run = run_of(A, B)
    step = run.next()
    assert isinstance(step, Send) and step.entry is A and step.tries == 1
    run.succeeded(OK, latency_ms=12.0)
    assert run.next() is None
    result = run.outcome()
    assert result.llm is A and result.text == "fine" and [a.outcome for a in result.attempts] == ["ok"]


def test_server_errors_are_retried_with_growing_jittered_waits_then_move_on():
    run = run_of(A, B, retries=2)
    steps = []
    for _ in range(3):
        send = run.next()
        assert send.entry is A
        run.failed(ServerFailed("503", status=503), latency_ms=1.0)
        steps.append(run.next())
    # after tries 1 and 2: waits of 0.25 and 0.5 s (times 0.75 for the jitter); after try 3: B
    assert [round(s.seconds, 4) for s in steps[:2]] == [0.1875, 0.375]
    assert isinstance(steps[2], Send) and steps[2].entry is B
    run.succeeded(OK, latency_ms=1.0)
    attempts = run.outcome().attempts
    assert (attempts[0].tries, attempts[0].status, attempts[0].failure) == (3, 503, ServerFailed)


def test_retry_after_is_honoured_up_to_30_seconds():
    run = run_of(A, B)
    run.next()
    run.failed(RateLimited("429", status=429, retry_after=7.0), latency_ms=1.0)
    assert run.next() == Wait(7.0)
    assert run.next().entry is A
    run.failed(RateLimited("429", status=429, retry_after=120.0), latency_ms=1.0)
    assert run.next().entry is B  # too long a wait: move on


def test_refused_endpoint_is_not_retried_and_its_other_llms_are_skipped():
    urls = {"x/a": "http://same.test/v1", "x/b": "http://same.test/v1", "x/c": "http://other.test/v1"}
    run = run_of(A, B, C, urls=urls)
    run.next()
    run.failed(ConnectFailed("refused"), latency_ms=1.0)
    step = run.next()
    assert isinstance(step, Send) and step.entry is C  # no wait, B skipped
    run.succeeded(OK, latency_ms=1.0)
    attempts = run.outcome().attempts
    assert attempts[0].tries == 1
    assert attempts[1].outcome == "skipped" and "could not be reached" in attempts[1].error


def test_auth_and_bad_requests_move_on_at_once():
    run = run_of(A, B)
    run.next()
    run.failed(AuthFailed("401", status=401), latency_ms=1.0)
    assert run.next().entry is B


def test_context_length_error_skips_llms_no_larger():
    run = run_of(A, B, C)
    run.next()
    run.failed(ContextTooLong("too long", status=400), latency_ms=1.0)
    step = run.next()
    assert step.entry is C
    assert run.attempts[1].outcome == "skipped" and "not larger than 8000" in run.attempts[1].error


def test_a_stream_protocol_error_is_not_retried():
    run = run_of(A, B)
    run.next()
    run.failed(StreamUnreadable("not JSON", hint="try --no-stream"), latency_ms=1.0)
    assert run.next().entry is B


def test_failure_after_the_first_byte_is_never_stitched():
    run = run_of(A, B)
    run.next()
    run.failed(ServerFailed("broke"), latency_ms=1.0, streamed=True)
    assert run.next() is None
    with pytest.raises(StreamInterrupted):
        run.outcome()


def test_unconfigured_llms_are_skipped_and_everything_is_reported():
    skipped = Attempt.passed_over("x/z", "openai", Skip(NO_KEY, "Z_KEY is not set"))
    run = run_of(A, B, urls={"x/a": None, "x/b": "http://b.test/v1"}, passed_over=[skipped])
    run.next()
    run.failed(AuthFailed("401", status=401), latency_ms=1.0)
    assert run.next() is None
    with pytest.raises(AllFailedError) as info:
        run.outcome()
    lines = info.value.more
    assert lines[0] == "x/z (openai): Z_KEY is not set (skipped, nothing sent)"
    assert lines[1] == "x/a (openai): OPENAI_API_KEY is not set"
    assert lines[2] == "x/b (openai): 401"
    assert "(1 tried, 2 skipped)" in info.value.message


class Memory:
    """A cooldown memory that records what it was told."""

    def __init__(self, cooling=()):
        self.cooling = set(cooling)
        self.failures = []
        self.successes = []

    def reason(self, e):
        return Skip("cooldown", "in cooldown for 10s more") if e.id in self.cooling else None

    def failed(self, e, error, *, hold=None):
        self.failures.append((e.id, type(error)))

    def succeeded(self, e):
        self.successes.append(e.id)


def test_cooldown_is_told_once_per_failed_run_and_skips_what_cools():
    memory = Memory(cooling={"x/b"})
    run = run_of(A, B, C, cooldown=memory, retries=2)
    for _ in range(3):
        assert run.next().entry is A
        run.failed(ServerFailed("503", status=503), latency_ms=1.0)
        if (wait := run.next()) is not None and isinstance(wait, Wait):
            continue
    send = run.next() if run._current is None else run._current
    assert send.entry is C and run.attempts[1].error == "in cooldown for 10s more"
    run.succeeded(OK, latency_ms=1.0)
    assert memory.failures == [("x/a", ServerFailed)] and memory.successes == ["x/c"]


def test_every_try_is_recorded_with_prices():
    rows = []
    run = run_of(A, record=rows.append, retries=1, book="moby", job="copyedit")
    run.next()
    run.failed(ServerFailed("503", status=503), latency_ms=3.0)
    run.next()
    run.next()
    run.succeeded(OK, latency_ms=4.0)
    assert [(r.outcome, r.status, r.book, r.job) for r in rows] == [
        ("error", 503, "moby", "copyedit"),
        ("ok", 200, "moby", "copyedit"),
    ]


PRICED = chain(entry("x/p", input_cost_per_mtok=1000.0, output_cost_per_mtok=1000.0))[0]


def test_only_spending_rules_standing_in_the_way_make_the_request_unfit():
    """Exit 4 (NoMatchError) when a budget or --max-cost is all that stopped the chain; an
    LLM held back by cooldown (now or when picked) makes it a failure like any other."""
    alone = run_of(PRICED, max_cost=0.0001, max_tokens=1000)
    assert alone.next() is None
    with pytest.raises(NoMatchError, match="over --max-cost"):
        alone.outcome()
    cooling = run_of(A, PRICED, max_cost=0.0001, max_tokens=1000, cooldown=Memory(cooling={"x/a"}))
    assert cooling.next() is None
    with pytest.raises(AllFailedError, match=r"0 tried, 2 skipped"):
        cooling.outcome()
    picked = run_of(
        PRICED,
        max_cost=0.0001,
        max_tokens=1000,
        passed_over=[Attempt.passed_over("x/a", "x", Skip(COOLDOWN, "in cooldown for 9s more"))],
    )
    assert picked.next() is None
    with pytest.raises(AllFailedError):
        picked.outcome()


def test_an_unknown_price_is_not_taken_for_free_under_a_limit(tmp_path):
    (unpriced,) = chain(entry("x/u", input_cost_per_mtok=None, output_cost_per_mtok=None))
    capped = run_of(unpriced, B, max_cost=1.0)
    assert capped.next().entry is B
    assert capped.attempts[0].error == "its price is unknown, so --max-cost cannot be kept"
    ledger = Ledger(UsageStore(tmp_path / "usage.sqlite"), {"overall": Budget(5.0)})
    budgeted = run_of(unpriced, B, ledger=ledger)
    assert budgeted.next().entry is B
    assert budgeted.attempts[0].error == "its price is unknown, so the budget cannot be kept"
    (local,) = chain(
        entry("ollama/mine", provider="ollama", input_cost_per_mtok=None, output_cost_per_mtok=None)
    )
    assert run_of(local, max_cost=1.0).next().entry is local  # runs on this machine: free
    free_run = run_of(unpriced)  # no limit: an unknown price does not stop anything
    assert free_run.next().entry is unpriced


class OneSlot:
    """A rate limiter with room for one request, then none for a minute."""

    def __init__(self):
        self.used = 0

    def take(self, e, tokens, count=True):
        self.used += 1
        return (0.0, None, [1]) if self.used == 1 else (60.0, "rate limit: x 1 requests/min", [])


def test_an_llm_given_up_for_a_rate_limit_after_failing_counts_its_failure_once():
    memory = Memory()
    run = run_of(A, B, cooldown=memory, limiter=OneSlot(), max_wait=1.0, retries=2)
    assert run.next().entry is A
    run.failed(ServerFailed("503", status=503), latency_ms=1.0)
    assert isinstance(run.next(), Wait)
    assert run.next() is None  # no slot for the retry: A is given up, and B has no slot either
    assert memory.failures == [("x/a", ServerFailed)]
    assert [(a.outcome, a.error) for a in run.attempts] == [
        ("error", "rate limit: x 1 requests/min"),
        ("skipped", "rate limit: x 1 requests/min"),
    ]
    with pytest.raises(AllFailedError):
        run.outcome()


class BrokenLedger:
    """Grants a reservation, then cannot release it (the store went away)."""

    def clock(self):
        return 0.0

    def applicable(self, book, scope):
        return [("overall", None)]

    def reserve(self, e, amount, book, scope, hold=True):
        return 7, None

    def release(self, reservation):
        raise OSError("disk gone")


def test_abandoning_a_run_never_hides_the_error_that_stopped_it():
    run = run_of(PRICED, ledger=BrokenLedger())
    assert run.next().entry is PRICED
    run.abandon()  # called while another error is being raised: it must not raise its own
    assert run.next() is None


def test_a_long_streaming_attempt_keeps_its_reservation_past_ten_minutes(tmp_path):
    now = [1_764_590_400.0]
    ledger = Ledger(UsageStore(tmp_path / "usage.sqlite"), {"overall": Budget(5.0)}, clock=lambda: now[0])
    run = run_of(PRICED, ledger=ledger, max_tokens=1000)
    assert run.next().entry is PRICED
    worst = ledger.state()[0]["reserved"]
    assert worst > 0
    for _ in range(30):  # fifteen minutes of answer, a piece every 30 s
        now[0] += 30
        run.still_sending()
    assert ledger.state()[0]["reserved"] == pytest.approx(worst)
    run.succeeded(OK, latency_ms=900_000.0)
    assert ledger.state()[0]["reserved"] == 0


def test_every_skip_while_sending_says_its_kind_as_the_picker_does(tmp_path):
    from llmctl.selection.decision import BUDGET, COOLDOWN, DEAD_ENDPOINT, MAX_COST, NO_KEY

    urls = {"x/a": "http://same.test/v1", "x/b": "http://same.test/v1", "x/c": "http://c.test/v1"}
    run = run_of(A, B, C, urls=urls, cooldown=Memory(cooling={"x/c"}))
    run.next()
    run.failed(ConnectFailed("refused"), latency_ms=1.0)
    assert run.next() is None
    kinds = [(a.llm, a.skip.kind if a.skip else None) for a in run.attempts]
    assert kinds == [("x/a", None), ("x/b", DEAD_ENDPOINT), ("x/c", COOLDOWN)]
    assert all(a.runtime and not a.spend for a in run.attempts[1:])
    capped = run_of(PRICED, max_cost=0.0001, max_tokens=1000)
    assert capped.next() is None and capped.attempts[0].skip.kind == MAX_COST and capped.attempts[0].spend
    keyless = run_of(A, urls={"x/a": None})
    assert (
        keyless.next() is None and keyless.attempts[0].skip.kind == NO_KEY and not keyless.attempts[0].runtime
    )
    ledger = Ledger(UsageStore(tmp_path / "usage.sqlite"), {"overall": Budget(0.000001)})
    broke = run_of(PRICED, ledger=ledger, max_tokens=1000)
    assert broke.next() is None and broke.attempts[0].skip.kind == BUDGET and broke.attempts[0].spend
