"""The sending engine against a local aiohttp server (started here, on 127.0.0.1, in its own
process), every figure against a baseline measured in the same run.

    python benchmarks/bench_engine.py [--requests 1000] [--concurrency 32] [--latency 0.02]

Prints:
- per-request overhead of `LLMClient.complete` / `acomplete` over a reused bare httpx
  client (sync) and a reused bare httpx AsyncClient (async), to a server that answers at
  once (target under 1 ms);
- N requests at concurrency C to a server answering in 20 ms: aiohttp itself, httpx's own
  async pool, and `LLMClient.abatch` (target within 1.5x aiohttp);
- `llmctl batch` of N lines as a whole process against an aiohttp script doing the same
  requests as a whole process (target within 2x);
- failover from a refused primary: what it adds on the first run and on the next (target
  under 50 ms, then nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_env, llmctl_cmd  # noqa: E402

KEY = "bench-key"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}

SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from aiohttp import web
    ANSWER = json.dumps({"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 5, "completion_tokens": 1}, "model": "m"})
    STREAM = "".join("data: " + json.dumps(c) + "\\n\\n" for c in (
        {"choices": [{"index": 0, "delta": {"content": "o"}}]},
        {"choices": [{"index": 0, "delta": {"content": "k"}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}})) + "data: [DONE]\\n\\n"
    LATENCY = float(sys.argv[2])
    def answer(raw):
        if b'"stream"' in raw:  # an SSE answer for streamed requests
            return web.Response(text=STREAM, content_type="text/event-stream")
        return web.Response(text=ANSWER, content_type="application/json")
    async def slow(request):
        raw = await request.read()
        await asyncio.sleep(LATENCY)
        return answer(raw)
    async def fast(request):
        return answer(await request.read())
    app = web.Application()
    app.router.add_post("/slow/v1/chat/completions", slow)
    app.router.add_post("/fast/v1/chat/completions", fast)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None, backlog=1024)
    """
)

AIOHTTP_CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys
    import aiohttp
    url, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
    async def main():
        gate = asyncio.Semaphore(c)
        async with aiohttp.ClientSession() as session:
            async def one(i):
                async with gate:
                    async with session.post(url, json=body, headers={"authorization": "Bearer k"}) as r:
                        data = await r.json()
                        text = data["choices"][0]["message"]["content"]
                        sys.stdout.write(json.dumps({"id": str(i), "text": text}) + "\\n")
            await asyncio.gather(*(one(i) for i in range(n)))
    asyncio.run(main())
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work: Path, latency: float) -> tuple[subprocess.Popen, str]:
    script = work / "server.py"
    script.write_text(SERVER)
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(latency)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}"


def catalog_for(work: Path, url: str) -> Path:
    entries = [
        {
            "id": "local/fast",
            "provider": "openai",
            "api_base": f"{url}/fast/v1",
            "valid_groups": ["writer"],
            "input_cost_per_mtok": 1.0,
            "output_cost_per_mtok": 2.0,
            "quality_score": 5,
        },
        {
            "id": "local/slow",
            "provider": "openai",
            "api_base": f"{url}/slow/v1",
            "valid_groups": ["writer"],
            "input_cost_per_mtok": 1.0,
            "output_cost_per_mtok": 2.0,
            "quality_score": 9,
        },
        {
            "id": "local/dead",
            "provider": "openai",
            "api_base": f"http://127.0.0.1:{free_port()}/v1",
            "valid_groups": ["writer"],
            "input_cost_per_mtok": 1.0,
            "output_cost_per_mtok": 2.0,
        },
    ]
    path = work / "catalog.json"
    path.write_text(json.dumps({"llms": entries}))
    return path


def interleaved(fns, n: int) -> list[float]:
    """Median ms of each function, run in turns so that drift hits all of them alike."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(30):
        for fn in fns:
            fn()
    for _ in range(n):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[i].append(time.perf_counter() - start)
    return [statistics.median(s) * 1000 for s in samples]


def overhead(url: str, catalog, n: int) -> None:
    import httpx

    from llmctl.client import LLMClient

    fast = f"{url}/fast/v1/chat/completions"
    headers = {"authorization": f"Bearer {KEY}"}
    with httpx.Client() as bare, LLMClient(catalog.get("local/fast"), catalog=catalog) as client:

        def raw() -> None:
            bare.post(fast, json=BODY, headers=headers).json()["choices"][0]["message"]["content"]

        base, ours = interleaved([raw, lambda: client.complete("hello")], n)
    print(
        f"sync:  bare httpx.Client {base:.3f} ms, LLMClient.complete {ours:.3f} ms: "
        f"overhead {ours - base:+.3f} ms"
    )

    async def run() -> tuple[float, float]:
        async with (
            httpx.AsyncClient() as bare,
            LLMClient(catalog.get("local/fast"), catalog=catalog) as client,
        ):
            samples: list[list[float]] = [[], []]

            async def raw() -> None:
                (await bare.post(fast, json=BODY, headers=headers)).json()

            for round_ in range(n + 30):
                for i, fn in enumerate((raw, lambda: client.acomplete("hello"))):
                    start = time.perf_counter()
                    await fn()
                    if round_ >= 30:
                        samples[i].append(time.perf_counter() - start)
            return statistics.median(samples[0]) * 1000, statistics.median(samples[1]) * 1000

    base, ours = asyncio.run(run())
    print(
        f"async: bare httpx.AsyncClient {base:.3f} ms, LLMClient.acomplete {ours:.3f} ms: "
        f"overhead {ours - base:+.3f} ms"
    )


def many(url: str, catalog, n: int, c: int) -> None:
    import aiohttp
    import httpx

    from llmctl.client import LLMClient

    slow = f"{url}/slow/v1/chat/completions"

    async def with_aiohttp() -> float:
        gate = asyncio.Semaphore(c)
        async with aiohttp.ClientSession() as session:

            async def one() -> None:
                async with gate, session.post(slow, json=BODY) as r:
                    await r.json()

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return time.perf_counter() - start

    async def with_httpx() -> float:
        gate = asyncio.Semaphore(c)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=c)) as client:

            async def one() -> None:
                async with gate:
                    (await client.post(slow, json=BODY)).json()

            start = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return time.perf_counter() - start

    async def with_abatch() -> float:
        async with LLMClient(catalog.get("local/slow"), catalog=catalog) as client:
            await client.abatch([{"prompt": "warm"}] * c, concurrency=c)
            start = time.perf_counter()
            out = await client.abatch([{"prompt": f"q{i}"} for i in range(n)], concurrency=c)
            elapsed = time.perf_counter() - start
        assert all(o["error"] is None for o in out), out[0]
        return elapsed

    base = asyncio.run(with_aiohttp())
    own = asyncio.run(with_httpx())
    ours = asyncio.run(with_abatch())
    print(
        f"{n} requests at concurrency {c}: aiohttp {base:.3f} s; "
        f"httpx own pool {own:.3f} s ({own / base:.2f}x); "
        f"LLMClient.abatch {ours:.3f} s ({ours / base:.2f}x)"
    )


def batch_process(url: str, catalog_path: Path, work: Path, n: int, c: int) -> None:
    lines = work / "in.jsonl"
    lines.write_text("".join(json.dumps({"id": str(i), "prompt": f"q{i}"}) + "\n" for i in range(n)))
    script = work / "aiohttp_batch.py"
    script.write_text(AIOHTTP_CLIENT)
    env = bench_env(LLMCTL_HOME=str(work / "home"), LLMCTL_CATALOG=str(catalog_path), OPENAI_API_KEY=KEY)
    ours = llmctl_cmd() + [
        "batch",
        str(lines),
        "-o",
        str(work / "out.jsonl"),
        "--llm",
        "local/slow",
        "--concurrency",
        str(c),
        "--json",
    ]
    theirs = [sys.executable, str(script), f"{url}/slow/v1/chat/completions", str(n), str(c)]
    times: dict[str, list[float]] = {"aiohttp script": [], "llmctl batch": []}
    for _ in range(3):
        for label, cmd in (("aiohttp script", theirs), ("llmctl batch", ours)):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            times[label].append(time.perf_counter() - start)
    base, mine = statistics.median(times["aiohttp script"]), statistics.median(times["llmctl batch"])
    print(
        f"batch of {n} lines as a process: aiohttp script {base:.3f} s, "
        f"llmctl batch {mine:.3f} s ({mine / base:.2f}x)"
    )


def failover(catalog, work: Path) -> None:
    import httpx

    from llmctl.engine.cooldown import Cooldown
    from llmctl.engine.router import Router
    from llmctl.providers.wire import ChatRequest, Message

    req = ChatRequest([Message("user", "hello")])
    dead, good = catalog.get("local/dead"), catalog.get("local/fast")
    with httpx.Client() as client:
        plain = Router.of(client=client, env={"OPENAI_API_KEY": KEY})
        direct = statistics.median(_time(lambda: plain.chat([good], req)) for _ in range(30))
        firsts, nexts = [], []
        for n in range(10):
            cooldown = Cooldown(work / f"cool{n}.json", work / f"cool{n}.lock", {})
            router = Router.of(client=client, env={"OPENAI_API_KEY": KEY}, cooldown=cooldown)
            firsts.append(_time(lambda: router.chat([dead, good], req)))  # noqa: B023
            nexts.append(_time(lambda: router.chat([dead, good], req)))  # noqa: B023 - the endpoint cools down
    first, after = statistics.median(firsts), statistics.median(nexts)
    print(
        f"refused primary: direct {direct:.2f} ms; first run {first:.2f} ms (+{first - direct:.2f} ms); "
        f"next run {after:.2f} ms (+{after - direct:.2f} ms, the endpoint is cooling down)"
    )


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--overhead-requests", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmctl-engine-bench-"))
    os.environ.update(LLMCTL_HOME=str(work / "home"), OPENAI_API_KEY=KEY)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    server, url = start_server(work, args.latency)
    try:
        from llmctl.catalog.load import load_catalog

        path = catalog_for(work, url)
        os.environ["LLMCTL_CATALOG"] = str(path)
        catalog = load_catalog()
        overhead(url, catalog, args.overhead_requests)
        many(url, catalog, args.requests, args.concurrency)
        batch_process(url, path, work, args.requests, args.concurrency)
        failover(catalog, work)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
