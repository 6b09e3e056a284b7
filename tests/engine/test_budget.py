"""Budgets that hold across processes, and --max-cost."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3

import pytest

from conftest import entry
from fakeserver import Reply, openai_chat
from llmctl.catalog.registry import DictRegistry
from llmctl.engine.budget import Ledger, period_end, period_start
from llmctl.engine.router import Router
from llmctl.engine.usage import UsageStore
from llmctl.prefs.config import Budget
from llmctl.providers.wire import ChatRequest, Message

REQ = ChatRequest([Message("user", "hello")])

LLM = DictRegistry([entry("openai/a")]).get_by_id("openai/a")


def _reserve_in_a_process(path, results):
    ledger = Ledger(UsageStore(path), {"overall": Budget(5.0)})
    reservation, why = ledger.reserve(LLM, 1.0, None, None)
    results.put(reservation is not None)


def test_reservations_never_spend_past_a_limit_across_processes(tmp_path):
    path = tmp_path / "usage.sqlite"
    UsageStore(path).check()
    results = multiprocessing.get_context("fork").Queue()
    procs = [
        multiprocessing.get_context("fork").Process(target=_reserve_in_a_process, args=(path, results))
        for _ in range(12)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    granted = [results.get(timeout=5) for _ in procs]
    assert granted.count(True) == 5  # $1 each against $5: five, never six


def test_spent_counts_recorded_costs_of_the_period_and_reservations_expire(tmp_path):
    path = tmp_path / "usage.sqlite"
    store = UsageStore(path)
    store.check()
    now = [1_764_590_400.0]  # 2025-12-01T12:00:00Z
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO attempts (time, llm, provider, outcome, cost, book) VALUES "
        "('2025-12-01T08:00:00.000+00:00', 'openai/a', 'openai', 'ok', 3.5, 'moby'),"
        "('2025-11-30T08:00:00.000+00:00', 'openai/a', 'openai', 'ok', 100.0, 'moby')"
    )
    conn.commit()
    ledger = Ledger(
        store, {"overall": Budget(10.0, "month"), "book:moby": Budget(4.0, "day")}, clock=lambda: now[0]
    )
    reservation, why = ledger.reserve(LLM, 1.0, "moby", None)
    assert reservation is None and why == "over budget: book moby $3.50 of $4.00 today"
    reservation, why = ledger.reserve(LLM, 0.4, "moby", None)
    assert why is None
    state = {s["target"]: s for s in ledger.state()}
    assert state["book:moby"] == {
        "target": "book:moby",
        "limit": 4.0,
        "period": "day",
        "spent": 3.5,
        "reserved": 0.4,
        "remaining": pytest.approx(0.1),
        "resets_at": "2025-12-02T00:00:00+00:00",
    }
    now[0] += 601  # a killed process's reservation expires after 10 minutes
    assert {s["target"]: s["reserved"] for s in ledger.state()}["book:moby"] == 0
    assert ledger.reserve(LLM, 0.0, "moby", None) == (None, None)  # free: always runs


def test_a_budget_check_reads_only_its_period_through_the_time_index(tmp_path):
    store = UsageStore(tmp_path / "usage.sqlite")
    store.check()
    sent: list[str] = []
    store._connect().set_trace_callback(sent.append)
    Ledger(store, {"book:moby": Budget(5.0, "month")}).reserve(LLM, 1.0, "moby", None)
    (spent_sql,) = [sql for sql in sent if "SUM(cost)" in sql]
    conn = sqlite3.connect(store.path)
    plan = " ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + spent_sql))
    assert "COVERING INDEX attempts_time (time>?)" in plan


def test_periods_are_utc_calendar_periods():
    import datetime as dt

    when = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)  # a Thursday
    assert period_start("week", when).isoformat() == "2026-11-30T00:00:00+00:00"
    assert period_end("month", when).isoformat() == "2027-01-01T00:00:00+00:00"
    assert period_start("total", when) is None and period_end("total", when) is None


pytestmark = pytest.mark.team(
    lambda url: [
        entry(
            "openai/dear",
            quality_score=9,
            input_cost_per_mtok=100.0,
            output_cost_per_mtok=1000.0,
            max_output_tokens=1000,
            api_base=f"{url}/dear/v1",
        ),
        entry(
            "openai/cheap",
            quality_score=8,
            input_cost_per_mtok=0.1,
            output_cost_per_mtok=0.2,
            max_output_tokens=1000,
            api_base=f"{url}/cheap/v1",
        ),
        entry(
            "ollama/free",
            provider="ollama",
            quality_score=1,
            input_cost_per_mtok=0.0,
            output_cost_per_mtok=0.0,
            api_base=f"{url}/free",
        ),
    ],
    keys={"OPENAI_API_KEY": "sk-budget-secret"},
)


def test_budget_commands_and_a_prompt_kept_under_budget(cli, team, server):
    assert cli("budget", "set", "0.5").exit_code == 0
    assert cli("budget", "set", "2", "--book", "moby", "--period", "week").exit_code == 0
    assert '"book:moby"' in (team / "config.toml").read_text()
    shown = {b["target"]: b for b in json.loads(cli("budget", "show", "--json").stdout)}
    assert shown["overall"]["limit"] == 0.5 and shown["book:moby"]["period"] == "week"
    server.defaults["/cheap/v1/chat/completions"] = openai_chat("cheap answer", 10, 5)
    result = cli("prompt", "hi", "--group", "writer", "--allow-upgrade", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["llm"] == "openai/cheap"
    assert data["attempts"][0]["outcome"] == "skipped" and data["attempts"][0]["error"].startswith(
        "over budget: overall $0 of $0.50"
    )
    assert not any(r["path"].startswith("/dear/") for r in server.requests)
    spent = {b["target"]: b for b in json.loads(cli("budget", "show", "--json").stdout)}["overall"]["spent"]
    assert spent == pytest.approx((10 * 0.1 + 5 * 0.2) / 1e6)
    explained = cli("pick", "--group", "writer", "--explain").stdout
    assert "budgets:" in explained and "book:moby" in explained
    assert [r["command"] for r in json.loads(cli("audit", "--json").stdout)] == ["budget set", "budget set"]
    assert cli("budget", "clear", "--book", "moby").exit_code == 0
    assert [b["target"] for b in json.loads(cli("budget", "show", "--json").stdout)] == ["overall"]
    assert cli("budget", "set", "-1").exit_code == 2
    assert cli("budget", "set", "1", "--period", "year").exit_code == 2
    assert cli("budget", "set", "1", "--book", "../x").exit_code == 2


def test_every_llm_over_budget_exits_4_but_free_llms_always_run(cli, team, server):
    assert cli("budget", "set", "0").exit_code == 0
    result = cli("prompt", "hi", "--group", "writer", "--llm", "openai/cheap", "--no-fallback")
    assert result.exit_code == 4 and "over budget: overall $0 of $0 " in result.stderr
    assert server.requests == []
    server.defaults["/free/api/chat"] = __import__("fakeserver").Reply(
        body={"message": {"content": "free answer"}, "done": True, "prompt_eval_count": 1, "eval_count": 2}
    )
    result = cli("prompt", "hi", "--llm", "ollama/free", "--group", "writer", "--no-stream")
    assert result.exit_code == 0 and result.stdout == "free answer\n"


def test_max_cost_skips_llms_whose_worst_case_is_dearer(cli, team, server):
    server.defaults["/cheap/v1/chat/completions"] = openai_chat("cheap answer")
    result = cli("prompt", "hi", "--group", "writer", "--allow-upgrade", "--max-cost", "0.01", "--json")
    data = json.loads(result.stdout)
    assert data["llm"] == "openai/cheap" and "over --max-cost $0.01" in data["attempts"][0]["error"]
    result = cli("prompt", "hi", "--llm", "openai/dear", "--no-fallback", "--max-cost", "0.01")
    assert result.exit_code == 4 and "over --max-cost" in result.stderr


def test_compare_reports_an_llm_over_budget_on_its_own_line(cli, team, server):
    server.defaults["/free/api/chat"] = Reply(
        body={"message": {"content": "free answer"}, "done": True, "prompt_eval_count": 1, "eval_count": 2}
    )
    assert cli("budget", "set", "0").exit_code == 0
    result = cli("compare", "hi", "--llm", "openai/dear", "--llm", "ollama/free", "--json")
    answers = {a["llm"]: a for a in json.loads(result.stdout)}
    assert result.exit_code == 1  # one of them did not answer
    assert "over budget: overall $0 of $0 " in answers["openai/dear"]["error"]
    assert answers["ollama/free"]["text"] == "free answer"


@pytest.mark.parametrize(
    "amount, message", [("-1", "0 or more"), ("nan", "0 or more"), ("ten", "Invalid value for 'USD'")]
)
def test_bad_budget_amounts_are_refused(cli, team, amount, message):
    result = cli("budget", "set", "--", amount) if amount.startswith("-") else cli("budget", "set", amount)
    assert result.exit_code == 2 and message in result.stderr
    assert not (team / "config.toml").exists()


def test_a_budget_for_a_book_without_a_file_yet_is_kept(cli, team):
    """Books may be new: a budget can come before the book's preferences file."""
    assert cli("budget", "set", "3", "--book", "not-written-yet").exit_code == 0
    assert [b["target"] for b in json.loads(cli("budget", "show", "--json").stdout)] == [
        "book:not-written-yet"
    ]
    assert cli("budget", "set", "3", "--scope", "ci\n").exit_code == 2


def test_a_zero_budget_lets_only_free_llms_run(cli, team):
    assert cli("budget", "set", "0").exit_code == 0
    assert json.loads(cli("budget", "show", "--json").stdout)[0]["remaining"] == 0


def _interrupting_sleep(seconds):
    raise KeyboardInterrupt


async def _interrupting_asleep(seconds):
    raise asyncio.CancelledError


@pytest.mark.parametrize("call", ["chat", "embed", "achat", "aembed"])
def test_an_interruption_while_waiting_to_retry_releases_the_reservation(tmp_path, server, call):
    """Ctrl-C (or a cancelled task) during a Retry-After wait leaves nothing reserved."""
    path = "/v1/embeddings" if "embed" in call else "/v1/chat/completions"
    server.add(path, Reply(503, {"error": {"message": "busy"}}, headers={"retry-after": "1"}))
    (dear,) = [
        DictRegistry([s]).get_by_id(s["id"])
        for s in [entry("openai/a", input_cost_per_mtok=100.0, api_base=f"{server.url}/v1")]
    ]
    ledger = Ledger(UsageStore(tmp_path / "usage.sqlite"), {"overall": Budget(5.0)})
    router = Router.of(
        env={"OPENAI_API_KEY": "sk-x"},
        sleep=_interrupting_sleep,
        asleep=_interrupting_asleep,
        ledger=ledger,
        timeout=2.0,
        rng=lambda: 0.5,
    )
    with pytest.raises((KeyboardInterrupt, asyncio.CancelledError)):
        if call == "chat":
            router.chat([dear], REQ)
        elif call == "embed":
            router.embed([dear], ["some text"])
        elif call == "achat":
            asyncio.run(router.achat([dear], REQ))
        else:
            asyncio.run(router.aembed([dear], ["some text"]))
    assert len(server.requests) == 1  # one try, then the wait was cut short
    assert ledger.state()[0]["reserved"] == 0


def test_streamed_pieces_renew_the_reservation_through_the_router(tmp_path, server):
    import itertools

    from fakeserver import openai_stream

    class Counting(Ledger):
        renewals = 0

        def extend(self, reservation):
            Counting.renewals += 1
            super().extend(reservation)

    server.add("/v1/chat/completions", openai_stream(["a", "b", "c"]))
    (dear,) = [
        DictRegistry([s]).get_by_id(s["id"])
        for s in [entry("openai/a", input_cost_per_mtok=100.0, api_base=f"{server.url}/v1")]
    ]
    ticks = itertools.count(1_764_590_400, 100)  # every reading of the clock: 100 s later
    ledger = Counting(
        UsageStore(tmp_path / "usage.sqlite"), {"overall": Budget(5.0)}, clock=lambda: next(ticks)
    )
    router = Router.of(env={"OPENAI_API_KEY": "sk-x"}, ledger=ledger, timeout=2.0)
    seen = []
    assert router.chat([dear], REQ, on_text=seen.append).text == "abc"
    assert seen == ["a", "b", "c"] and Counting.renewals == 3
    assert ledger.state()[0]["reserved"] == 0
