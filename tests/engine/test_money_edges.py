"""Money holds at the edges: attempts cut short are paid for, reservations bound what any
script of prompt can cost and outlive no running attempt, reported counts are checked,
token windows count answers, time limits are total, and text that is not Unicode is
never sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time

import pytest

from conftest import entry
from fakeserver import Reply, openai_chat, openai_stream
from llmctl.catalog.costs import usd
from llmctl.catalog.registry import DictRegistry
from llmctl.engine import budget, spend
from llmctl.engine.budget import Ledger
from llmctl.engine.ratelimit import RateLimiter
from llmctl.engine.router import Router
from llmctl.engine.usage import UsageStore
from llmctl.errors import (
    AllFailedError,
    LlmctlError,
    LlmctlWarning,
    OverBudget,
    StreamInterrupted,
    TextNotUnicode,
    UsageError,
)
from llmctl.prefs.config import Budget
from llmctl.providers.table import Provider
from llmctl.providers.wire import ChatRequest, Message

ENV = {"OPENAI_API_KEY": "sk-edges-secret"}
REQ = ChatRequest([Message("user", "tell me a story about a lighthouse keeper")])
PATH = "/v1/chat/completions"


def llm(server, **prices):
    spec = entry(
        "openai/a",
        api_base=f"{server.url}/v1",
        **{"input_cost_per_mtok": 100.0, "output_cost_per_mtok": 1000.0, **prices},
    )
    return DictRegistry([spec]).get_by_id("openai/a")


def rows(store):
    return store.query("SELECT outcome, input_tokens, output_tokens, cost, tokens_estimated FROM attempts")


def spent(ledger):
    return ledger.state()[0]["spent"]


@pytest.fixture
def store(tmp_path):
    store = UsageStore(tmp_path / "usage.sqlite")
    store.check()
    yield store
    store.close()


def router_for(store, ledger=None, **kw):
    return Router.of(env=ENV, record=store.record, ledger=ledger, **kw)


# --- 1. an attempt cut short is paid for -----------------------------------------------------


@pytest.mark.parametrize("mode", ["chat", "achat"])
def test_a_stream_that_breaks_after_the_whole_text_is_recorded_at_its_estimated_cost(server, store, mode):
    # every piece of text arrives, then the connection drops before the stream's end
    server.add(PATH, openai_stream(["Once upon ", "a time, the end."], drop_after=2))
    ledger = Ledger(store, {"overall": Budget(50.0)})
    router = router_for(store, ledger, timeout=5.0)
    seen = []
    with pytest.raises(StreamInterrupted):
        if mode == "chat":
            router.chat([llm(server)], REQ, on_text=seen.append)
        else:
            asyncio.run(router.achat([llm(server)], REQ, on_text=seen.append))
    assert "".join(seen) == "Once upon a time, the end."
    (row,) = rows(store)
    assert row["outcome"] == "error" and row["tokens_estimated"] == 1
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0 and row["cost"] > 0
    assert spent(ledger) == pytest.approx(row["cost"])  # its budget is charged


def test_ctrl_c_mid_stream_records_the_prompt_and_the_text_received(server, store):
    server.add(PATH, openai_stream(["first part, ", "second part"], chunk_delay=0.05))
    ledger = Ledger(store, {"overall": Budget(50.0)})
    got = []

    def on_text(text):
        got.append(text)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        router_for(store, ledger, timeout=5.0).chat([llm(server)], REQ, on_text=on_text)
    (row,) = rows(store)
    assert row["outcome"] == "interrupted" and row["tokens_estimated"] == 1
    assert row["input_tokens"] == len(REQ.messages[0].content) // 4 and row["output_tokens"] == 3
    assert row["cost"] == pytest.approx((row["input_tokens"] * 100 + 3 * 1000) / 1e6)
    assert spent(ledger) == pytest.approx(row["cost"])
    assert ledger.state()[0]["reserved"] == 0


@pytest.mark.parametrize("streamed", [True, False])
def test_a_cancelled_task_a_client_leaving_serve_pays_for_its_attempt(server, store, streamed):
    pieces = [f"piece {n} " for n in range(40)]
    server.add(PATH, openai_stream(pieces, chunk_delay=0.05) if streamed else Reply(delay=2.0, body={}))
    ledger = Ledger(store, {"overall": Budget(50.0)})
    router = router_for(store, ledger, timeout=10.0)
    seen = []

    async def leave():
        task = asyncio.create_task(
            router.achat([llm(server)], REQ, on_text=seen.append if streamed else None)
        )
        await asyncio.sleep(0.4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(leave())
    (row,) = rows(store)
    assert row["outcome"] == "interrupted" and row["cost"] > 0
    assert (row["output_tokens"] > 0) == streamed and bool(seen) == streamed
    assert spent(ledger) == pytest.approx(row["cost"]) and ledger.state()[0]["reserved"] == 0


def test_clients_leaving_cannot_run_past_a_budget(server, store):
    """The reported fault: clients that leave mid-answer ran paid generations against a
    budget that never filled. Each now charges its estimate, so the budget fills."""
    entry_ = llm(server, input_cost_per_mtok=10_000.0, output_cost_per_mtok=0.0)
    server.defaults[PATH] = openai_stream([f"piece {n} " for n in range(40)], chunk_delay=0.05)
    # each reservation holds the prompt's bound ($0.75); each attempt cut short costs $0.10
    ledger = Ledger(store, {"overall": Budget(1.0)})
    router = router_for(store, ledger, timeout=10.0)
    req = ChatRequest(REQ.messages, max_tokens=1)

    async def one_leaves():
        task = asyncio.create_task(router.achat([entry_], req, on_text=lambda t: None))
        await asyncio.sleep(0.2)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, LlmctlError):  # over budget: not sent
            await task

    async def twenty():
        for _ in range(20):
            await one_leaves()

    asyncio.run(twenty())
    sent = [r for r in rows(store) if r["outcome"] == "interrupted"]
    assert 1 <= len(sent) <= 3 and all(r["cost"] > 0 for r in sent)  # all 20 went out, for $0
    assert len(server.requests) == len(sent)
    assert spent(ledger) <= 1.0


# --- 2. reservations bound the prompt whatever its script -----------------------------------


def test_cjk_prompts_at_once_never_spend_past_a_limit(server, store):
    """40 CJK characters are 10 tokens at chars/4, but a provider bills about 40: the
    reservation takes their UTF-8 bytes, so tasks (or processes) at once stay within."""
    server.defaults[PATH] = Reply(
        delay=0.3, body=openai_chat("答え", prompt_tokens=40, completion_tokens=1).body
    )
    dear = llm(server, input_cost_per_mtok=1000.0, output_cost_per_mtok=0.0)
    ledger = Ledger(store, {"overall": Budget(0.30)})
    router = router_for(store, ledger, timeout=5.0)
    req = ChatRequest([Message("user", "灯台守の物語を書いてください。" * 3 + "静かな海の夜")], max_tokens=1)
    assert len(req.messages[0].content) >= 40

    async def many():
        return await asyncio.gather(*(router.achat([dear], req) for _ in range(12)), return_exceptions=True)

    asyncio.run(many())
    paid = sum(r["cost"] or 0 for r in rows(store))
    assert 0 < paid <= 0.30  # 12 x $0.04 = $0.48 went out when 10 tokens were reserved each


def test_the_bound_is_the_utf8_bytes_of_every_message():
    from llmctl.engine.counts import token_bound

    assert token_bound(["abc"]) >= 3 and token_bound(["日本"]) >= 6 and token_bound(["🙂"]) >= 4
    assert token_bound(["a" * 1000]) >= 1000 > 1000 // 4


# --- 3. a reservation lives as long as its attempt ------------------------------------------


@pytest.mark.parametrize("mode", ["chat", "achat"])
def test_a_long_non_streamed_attempt_keeps_its_reservation(server, store, monkeypatch, mode):
    monkeypatch.setattr(budget, "RESERVATION_TTL", 0.4)
    monkeypatch.setattr(spend, "RENEW_EVERY", 0.1)
    server.add(PATH, Reply(delay=1.2, body=openai_chat("late answer").body))
    ledger = Ledger(store, {"overall": Budget(50.0)})
    router = router_for(store, ledger, timeout=5.0)
    results = []

    def send():
        if mode == "chat":
            results.append(router.chat([llm(server)], REQ))
        else:
            results.append(asyncio.run(router.achat([llm(server)], REQ)))

    worker = threading.Thread(target=send)
    worker.start()
    time.sleep(0.9)  # more than twice the reservation's life
    other = Ledger(UsageStore(store.path), {"overall": Budget(50.0)})  # another process looking
    held = other.state()[0]["reserved"]
    worker.join(10)
    assert results and results[0].text == "late answer"
    assert held > 0  # still held while the answer was being written
    assert other.state()[0]["reserved"] == 0  # and given way to the recorded cost after


# --- 4. reported counts are checked ----------------------------------------------------------


@pytest.mark.parametrize("bad", [-1_000_000, "12", 10**12, 3.5, None, [], True])
@pytest.mark.parametrize("streamed", [False, True])
def test_token_counts_that_cannot_be_right_are_estimated_with_a_warning(server, store, bad, streamed):
    usage = {"prompt_tokens": bad, "completion_tokens": bad}
    if streamed:
        chunk = {"choices": [{"index": 0, "delta": {"content": "an answer"}}]}
        server.add(
            PATH,
            Reply(
                headers={"content-type": "text/event-stream"},
                chunks=[
                    f"data: {json.dumps(chunk)}\n\n",
                    f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n",
                    "data: [DONE]\n\n",
                ],
            ),
        )
    else:
        body = openai_chat("an answer").body
        server.add(PATH, Reply(body={**body, "usage": usage}))
    ledger = Ledger(store, {"overall": Budget(5.0)})
    router = router_for(store, ledger, timeout=5.0)
    on_text = (lambda t: None) if streamed else None
    if bad is None:  # not reported at all: estimated, as always, and no warning needed
        result = router.chat([llm(server)], REQ, on_text=on_text)
    else:
        with pytest.warns(LlmctlWarning, match="token counts that cannot be right"):
            result = router.chat([llm(server)], REQ, on_text=on_text)
    assert result.text == "an answer" and result.tokens_estimated
    assert result.usage.input_tokens == len(REQ.messages[0].content) // 4
    assert result.usage.output_tokens == len("an answer") // 4
    (row,) = rows(store)
    assert row["cost"] > 0 and row["tokens_estimated"] == 1
    assert spent(ledger) == pytest.approx(row["cost"])


def test_a_negative_count_never_reopens_a_budget(server, store):
    body = openai_chat("x").body
    server.defaults[PATH] = Reply(body={**body, "usage": {"prompt_tokens": -(10**8), "completion_tokens": 1}})
    ledger = Ledger(store, {"overall": Budget(0.05)})
    router = router_for(store, ledger, timeout=5.0)
    req = ChatRequest(REQ.messages, max_tokens=10)
    answered = 0
    with pytest.warns(LlmctlWarning):
        for _ in range(30):
            try:
                router.chat([llm(server)], req)
                answered += 1
            except OverBudget:
                break
    assert all(r["cost"] >= 0 for r in rows(store))
    assert spent(ledger) <= 0.05 and answered < 30


# --- 5. token windows count the answer -------------------------------------------------------


def test_tokens_per_minute_counts_the_answers_tokens(server, store, tmp_path):
    server.defaults[PATH] = openai_chat("a long answer", prompt_tokens=5, completion_tokens=95)
    limiter = RateLimiter(tmp_path / "rl.sqlite", {"openai": Provider(tokens_per_minute=100)})
    router = Router.of(env=ENV, limiter=limiter, max_wait=0.0, timeout=5.0)
    req = ChatRequest([Message("user", "hi")])
    assert router.chat([llm(server)], req).text == "a long answer"
    with pytest.raises(AllFailedError) as failed:
        router.chat([llm(server)], req)  # 100 tokens in the window already: no room
    assert "rate limit: openai 100 tokens/min" in failed.value.attempts[0].error
    assert len(server.requests) == 1


# --- 7. time limits are total ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["chat", "achat"])
def test_an_endless_stream_stops_at_the_time_limit(server, store, mode):
    server.add(PATH, openai_stream([f"more {n} " for n in range(400)], chunk_delay=0.02))
    router = router_for(store, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(StreamInterrupted, match="timed out"):
        if mode == "chat":
            router.chat([llm(server)], REQ, on_text=lambda t: None)
        else:
            asyncio.run(router.achat([llm(server)], REQ, on_text=lambda t: None))
    assert time.monotonic() - started < 2.5
    (row,) = rows(store)
    assert row["cost"] > 0  # what was received is paid for


@pytest.mark.parametrize("mode", ["chat", "achat"])
def test_a_trickle_of_bytes_stops_at_the_time_limit(server, store, mode):
    # never a line's end: each read is quick, the whole never comes
    server.add(PATH, Reply(chunks=[" "] * 400, chunk_delay=0.02))
    router = router_for(store, timeout=1.0, retries=0)
    started = time.monotonic()
    with pytest.raises(AllFailedError, match="timed out"):
        if mode == "chat":
            router.chat([llm(server)], REQ)
        else:
            asyncio.run(router.achat([llm(server)], REQ))
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("seconds", [float("inf"), float("nan"), 86_401.0, 0.0, -1.0, "10"])
def test_a_time_limit_that_is_not_one_is_refused(seconds):
    with pytest.raises(UsageError, match="time limit"):
        Router.of(timeout=seconds)
    with pytest.raises(UsageError, match="retries"):
        Router.of(retries=10**9)


# --- 8. text that is not Unicode is never sent ----------------------------------------------


@pytest.mark.parametrize("mode", ["chat", "achat", "embed"])
def test_text_with_a_lone_surrogate_is_refused_before_sending(server, store, mode):
    text = "caf\udce9 au lait"
    router = router_for(store, timeout=2.0)
    with pytest.raises(TextNotUnicode) as refused:
        if mode == "chat":
            router.chat([llm(server)], ChatRequest([Message("user", text)]))
        elif mode == "achat":
            asyncio.run(router.achat([llm(server)], ChatRequest([Message("user", text)])))
        else:
            router.embed([llm(server)], ["fine", text])
    assert isinstance(refused.value, ValueError) and refused.value.exit_code == 2
    assert server.requests == [] and rows(store) == []


# --- 10. amounts are readable ----------------------------------------------------------------


def test_small_amounts_keep_two_significant_digits():
    assert [usd(v) for v in (0.0005, 0.001, 0.0123, 4.98, 5, 0, None)] == [
        "0.00050",
        "0.0010",
        "0.0123",
        "4.98",
        "5.00",
        "0",
        "?",
    ]


def test_a_small_budget_reads_its_figures(store):
    ledger = Ledger(store, {"overall": Budget(0.001)})
    dear = DictRegistry([entry("openai/a")]).get_by_id("openai/a")
    ledger.reserve(dear, 0.0005, None, None)
    assert ledger.reserve(dear, 0.0006, None, None) == (
        None,
        "over budget: overall $0.00050 of $0.0010 this month",
    )


def test_an_anthropic_stream_with_a_count_that_is_text_is_no_traceback(server, store):
    start = {"type": "message_start", "message": {"usage": {"input_tokens": "7"}}}
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 2, "input_tokens": 9},
    }
    text = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}}
    server.add(
        "/v1/messages",
        Reply(
            headers={"content-type": "text/event-stream"},
            chunks=[
                f"event: message_start\ndata: {json.dumps(start)}\n\n",
                f"event: content_block_delta\ndata: {json.dumps(text)}\n\n",
                f"event: message_delta\ndata: {json.dumps(delta)}\n\n",
                'event: message_stop\ndata: {"type":"message_stop"}\n\n',
            ],
        ),
    )
    claude = DictRegistry([entry("anthropic/c", provider="anthropic", api_base=server.url)]).get_by_id(
        "anthropic/c"
    )
    router = Router.of(env={"ANTHROPIC_API_KEY": "sk-ant-edges"}, record=store.record, timeout=5.0)
    result = router.chat([claude], REQ, on_text=lambda t: None)
    assert result.text == "Hi" and (result.usage.input_tokens, result.usage.output_tokens) == (9, 2)
    assert rows(store)[0]["cost"] > 0
