"""Router costs against a real local HTTP server (started here, on 127.0.0.1).

    python benchmarks/bench_router.py [--requests 500]

Prints, measured in the same run:
- time per request through `Router.chat` against a bare `httpx.Client` call to the same
  server (target: under 1 ms of overhead), with and without the cooldown file and the
  usage store;
- the time a refused primary adds before the backup answers (no retries, and default
  retries with backoff);
- `compare` of 4 LLMs against a server that answers in 200 ms, as one process
  (should take about one latency, not four).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from common import bench_env, llmctl_cmd  # noqa: E402

from fakeserver import FakeServer, Reply, openai_chat, refused_url  # noqa: E402
from llmctl.catalog.registry import DictRegistry  # noqa: E402
from llmctl.engine.cooldown import Cooldown  # noqa: E402
from llmctl.engine.router import Router  # noqa: E402
from llmctl.engine.usage import UsageStore  # noqa: E402
from llmctl.providers.wire import ChatRequest, Message  # noqa: E402

ENV = {"OPENAI_API_KEY": "bench-key"}
REQ = ChatRequest([Message("user", "hello")])


def entry(llm_id: str, base: str):
    return DictRegistry(
        [
            {
                "id": llm_id,
                "provider": "openai",
                "api_base": base,
                "valid_groups": ["writer"],
                "input_cost_per_mtok": 1.0,
                "output_cost_per_mtok": 2.0,
            }
        ]
    ).get_by_id(llm_id)


def per_request(fn, n: int) -> float:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def interleaved(fns, n: int) -> list[float]:
    """Median ms of each function, run in turns so that drift hits all of them alike."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(20):
        for fn in fns:
            fn()
    for _ in range(n):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[i].append(time.perf_counter() - start)
    return [statistics.median(s) * 1000 for s in samples]


def overhead(server: FakeServer, n: int, work: Path) -> None:
    reply = openai_chat("ok")
    server.defaults["/v1/chat/completions"] = reply
    url = f"{server.url}/v1/chat/completions"
    llm = entry("openai/bench", f"{server.url}/v1")
    with httpx.Client() as client:

        def bare() -> None:
            response = client.post(
                url,
                json={"model": "bench", "messages": [{"role": "user", "content": "hello"}]},
                headers={"authorization": "Bearer bench-key"},
            )
            response.raise_for_status()
            json.loads(response.text)["choices"][0]["message"]["content"]

        plain = Router.of(client=client, env=ENV)
        full = Router.of(
            client,
            env=ENV,
            cooldown=Cooldown(work / "cool.json", work / "cool.lock", {}),
            record=UsageStore(work / "usage.sqlite").record,
        )
        base_ms, core_ms, full_ms = interleaved(
            [bare, lambda: plain.chat([llm], REQ), lambda: full.chat([llm], REQ)], n
        )
    print(f"bare httpx request:                 {base_ms:7.3f} ms (median of {n})")
    print(f"Router.chat:                        {core_ms:7.3f} ms  overhead {core_ms - base_ms:+.3f} ms")
    print(f"Router.chat + cooldown + usage db:  {full_ms:7.3f} ms  overhead {full_ms - base_ms:+.3f} ms")


def fallback(server: FakeServer) -> None:
    server.defaults["/v1/chat/completions"] = openai_chat("ok")
    good = entry("openai/good", f"{server.url}/v1")
    dead = entry("openai/dead", refused_url() + "/v1")
    with httpx.Client() as client:
        for label, retries in (("no retries", 0), ("2 retries with backoff", 2)):
            router = Router.of(client=client, env=ENV, retries=retries)
            direct = per_request(lambda: router.chat([good], REQ), 20)  # noqa: B023
            via = per_request(lambda: router.chat([dead, good], REQ), 5 if retries else 20)  # noqa: B023
            print(
                f"refused primary, {label:<24} {via:8.1f} ms vs {direct:.1f} ms direct "
                f"(+{via - direct:.1f} ms)"
            )


def compare_four(server: FakeServer, work: Path) -> None:
    llms = []
    for n in range(4):
        path = f"/m{n}/v1/chat/completions"
        server.defaults[path] = Reply(delay=0.2, body=openai_chat(f"answer {n}").body)
        llms.append(
            {
                "id": f"local/m{n}",
                "provider": "openai",
                "api_base": f"{server.url}/m{n}/v1",
                "valid_groups": ["writer"],
                "input_cost_per_mtok": 1.0,
                "output_cost_per_mtok": 1.0,
            }
        )
    catalog = work / "compare.json"
    catalog.write_text(json.dumps({"llms": llms}))
    env = bench_env(LLMCTL_HOME=str(work / "home"), LLMCTL_CATALOG=str(catalog), **ENV)
    cmd = llmctl_cmd() + ["compare", "hi", "--json"] + sum((["--llm", e["id"]] for e in llms), [])
    one = llmctl_cmd() + ["prompt", "--llm", "local/m0", "--no-stream", "hi"]
    timings = {}
    for label, command in (("prompt to 1 LLM (200 ms)", one), ("compare 4 LLMs (200 ms each)", cmd)):
        subprocess.run(command, env=env, capture_output=True, check=True)
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=True)
            samples.append((time.perf_counter() - start) * 1000)
        timings[label] = statistics.median(samples)
        print(f"{label:<30} {timings[label]:7.1f} ms (process, median of 5)")
    ratio = timings["compare 4 LLMs (200 ms each)"] / timings["prompt to 1 LLM (200 ms)"]
    print(f"compare of 4 / prompt to 1: {ratio:.2f}x (1.00x = fully concurrent, 4x = one after another)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmctl-router-bench-"))
    os.environ.update(ENV)
    with FakeServer() as server:
        overhead(server, args.requests, work)
        fallback(server)
        compare_four(server, work)


if __name__ == "__main__":
    main()
