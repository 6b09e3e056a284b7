"""Spend controls against a local server (started here, on 127.0.0.1), measured in one run.

    python benchmarks/bench_spend.py [--processes 8] [--allowed 3] [--attempts 100000]

Prints:
- K `llmctl prompt` processes at once against a budget that allows exactly M calls: how
  many calls the server saw (target: at most M);
- K processes at once against `requests_per_minute = N`: calls the server saw in the window
  (target: at most N);
- what budget reservation and rate-limit checks add per request in process (target < 2 ms);
- `llmctl usage --by day` over 100,000 recorded attempts against `llmctl list` as whole
  processes (target within 1.5x).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_env, compare, llmctl_cmd, report  # noqa: E402

from fakeserver import FakeServer, Reply, openai_chat  # noqa: E402

KEY = "bench-key"


def catalog(work: Path, url: str) -> Path:
    entry = {
        "id": "local/paid",
        "provider": "openai",
        "api_base": f"{url}/v1",
        "valid_groups": ["writer"],
        "input_cost_per_mtok": 1000.0,
        "output_cost_per_mtok": 1000.0,
        "max_output_tokens": 1000,
    }
    path = work / "catalog.json"
    path.write_text(json.dumps({"llms": [entry]}))
    return path


def run_at_once(env: dict[str, str], count: int) -> list[int]:
    cmd = llmctl_cmd() + [
        "prompt",
        "hi",
        "--llm",
        "local/paid",
        "--no-fallback",
        "--no-stream",
        "--retries",
        "0",
    ]

    def one(_: int) -> int:
        return subprocess.run(cmd, env=env, capture_output=True, check=False).returncode

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def budget_race(server: FakeServer, work: Path, processes: int, allowed: int) -> None:
    home = work / "budget-home"
    home.mkdir()
    # One call's worst case: 1 token in + 1,000 out at $1,000/M = $1.001; a budget of M calls.
    (home / "config.toml").write_text(
        f'[budgets.overall]\nlimit = {allowed * 1.001 + 0.0005}\nperiod = "day"\n'
    )
    server.requests.clear()
    server.defaults["/v1/chat/completions"] = Reply(delay=0.3, body=openai_chat("ok", 1, 1).body)
    env = bench_env(LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(catalog(work, server.url)), OPENAI_API_KEY=KEY)
    codes = run_at_once(env, processes)
    print(
        f"budget race: {processes} processes at once, a budget for {allowed} calls: the server saw "
        f"{len(server.requests)}; exits {sorted(codes)}"
    )


def rate_race(server: FakeServer, work: Path, processes: int, per_minute: int) -> None:
    home = work / "rate-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f"rate_limit_wait = 0\n\n[providers.openai]\nrequests_per_minute = {per_minute}\n"
    )
    server.requests.clear()
    server.defaults["/v1/chat/completions"] = openai_chat("ok", 1, 1)
    env = bench_env(LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(catalog(work, server.url)), OPENAI_API_KEY=KEY)
    started = time.monotonic()
    codes = run_at_once(env, processes)
    print(
        f"rate limit race: {processes} processes at once, {per_minute} requests/min: the server saw "
        f"{len(server.requests)} in {time.monotonic() - started:.1f} s; exits {sorted(codes)}"
    )


def check_overhead(server: FakeServer, work: Path, n: int) -> None:
    from llmctl.catalog.load import load_catalog
    from llmctl.client import LLMClient
    from llmctl.paths import Home

    server.defaults["/v1/chat/completions"] = openai_chat("ok", 1, 1)
    cat = catalog(work, server.url)
    timings = {}
    for label, config in (
        ("no budget, no rate limit", ""),
        (
            "budget and rate limit",
            "[budgets.overall]\nlimit = 1e9\n\n[providers.openai]\nrequests_per_minute = 100000000\n",
        ),
    ):
        home = work / f"overhead-{len(timings)}"
        home.mkdir()
        (home / "config.toml").write_text(config)
        os.environ.update(LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(cat), OPENAI_API_KEY=KEY)
        catalog_ = load_catalog(Home.resolve(home))
        with LLMClient(
            catalog_.get("local/paid"), catalog=catalog_, home=Home.resolve(home), max_tokens=5
        ) as client:
            for _ in range(20):
                client.complete("hi")
            samples = []
            for _ in range(n):
                start = time.perf_counter()
                client.complete("hi")
                samples.append(time.perf_counter() - start)
        timings[label] = statistics.median(samples) * 1000
    base, checked = timings.values()
    print(
        f"per request: {base:.3f} ms without, {checked:.3f} ms with a budget and a rate limit: "
        f"+{checked - base:.3f} ms"
    )


def usage_speed(work: Path, attempts: int, runs: int) -> None:
    home = work / "usage-home"
    home.mkdir()
    from llmctl.engine.usage import UsageStore

    UsageStore(home / "usage.sqlite").check()
    conn = sqlite3.connect(home / "usage.sqlite")
    rng = random.Random(3)
    now = time.time()
    rows = []
    for n in range(attempts):
        when = time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime(now - rng.uniform(0, 25 * 86400)))
        rows.append(
            (
                when,
                f"book-{n % 50}",
                "copyedit",
                f"acme/model-{n % 40}",
                "openai",
                "ok",
                200.0,
                100,
                50,
                0.001,
            )
        )
    conn.executemany(
        "INSERT INTO attempts (time, book, job, llm, provider, outcome, latency_ms, "
        "input_tokens, output_tokens, cost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    env = bench_env(LLMCTL_HOME=str(home))
    cases = {
        "llmctl list --group writer --json": (llmctl_cmd() + ["list", "--group", "writer", "--json"], env),
        f"llmctl usage --by day --json ({attempts:,} rows)": (
            llmctl_cmd() + ["usage", "--by", "day", "--json"],
            env,
        ),
    }
    report(compare(cases, runs), "llmctl list --group writer --json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--allowed", type=int, default=3)
    parser.add_argument("--per-minute", type=int, default=4)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmctl-spend-bench-"))
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with FakeServer() as server:
        budget_race(server, work, args.processes, args.allowed)
        rate_race(server, work, args.processes, args.per_minute)
        check_overhead(server, work, args.requests)
    usage_speed(work, args.attempts, args.runs)


if __name__ == "__main__":
    main()
