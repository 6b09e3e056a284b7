"""`llmctl serve` against calling the upstream directly, both measured in the same run.

    python benchmarks/bench_serve.py [--requests 1000] [--concurrency 32] [--latency 0.02]

Starts a local aiohttp upstream (its own process, as in bench_engine) and `llmctl serve`
as a real process over a catalog of LLMs on it, then prints:
- start-up: from launching `llmctl serve` until it answers `GET /v1/models`;
- overhead per request at concurrency 1 (an upstream that answers at once): median
  latency through the server minus median latency direct (target under 2 ms);
- N requests at concurrency C to an upstream answering in 20 ms, direct and through the
  server: mean latency per request (the difference is the overhead per request, target
  under 2 ms) and the wall time of the run; then 10*C requests to one answering in 200 ms;
- the same N requests streamed (`stream: true`): time to the first chunk and in total;
- the server's CPU time per request (user + system), and its peak memory (VmHWM).
The client is aiohttp in this process for both paths, so only the server differs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import BODY, KEY, catalog_for, start_server  # noqa: E402
from common import bench_env, llmctl_cmd  # noqa: E402


def start_serve(work: Path, catalog: Path, *options: str) -> tuple[subprocess.Popen, str, float]:
    """`llmctl serve --port 0` as a process; returns it, its URL and the seconds until it answered."""
    import httpx

    env = bench_env(LLMCTL_HOME=str(work / "home"), LLMCTL_CATALOG=str(catalog), OPENAI_API_KEY=KEY)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*llmctl_cmd(), "serve", "--port", "0", *options], env=env, stderr=subprocess.PIPE, text=True
    )
    banner = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", banner)
    if found is None:
        raise SystemExit(f"llmctl serve did not start: {banner}{proc.stderr.read()}")
    url = found.group()
    import threading

    # Drain the access log (one line a request): a full pipe would stall the server.
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    while True:
        try:
            if httpx.get(url + "/v1/models", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.005)
    return proc, url, time.perf_counter() - started


async def timed_requests(url: str, body: dict, n: int, c: int, stream: bool = False) -> dict[str, float]:
    """N POSTs at concurrency C; mean and median latency (ms), mean time to the first
    chunk when streamed, and the wall time (s)."""
    import aiohttp

    gate = asyncio.Semaphore(c)
    latencies: list[float] = []
    firsts: list[float] = []
    body = {**body, "stream": True} if stream else body
    connector = aiohttp.TCPConnector(limit=c)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with gate:
                start = time.perf_counter()
                async with session.post(url, json=body, headers={"authorization": f"Bearer {KEY}"}) as r:
                    if r.status != 200:
                        raise SystemExit(f"{url} answered {r.status}: {await r.text()}")
                    if stream:
                        async for _line in r.content:
                            if not firsts or len(firsts) < len(latencies) + 1:
                                firsts.append(time.perf_counter() - start)
                                break
                        await r.read()
                    else:
                        await r.json()
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(one() for _ in range(min(c, 32))))  # warm the pools
        latencies.clear()
        firsts.clear()
        wall = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        wall = time.perf_counter() - wall
    return {
        "mean_ms": statistics.fmean(latencies) * 1000,
        "median_ms": statistics.median(latencies) * 1000,
        "first_ms": statistics.fmean(firsts) * 1000 if firsts else 0.0,
        "wall_s": wall,
    }


def tree(pid: int) -> list[int]:
    """The process and its descendants (`--workers` runs the server in child processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = [pid], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        todo += children
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far."""
    total = 0.0
    for member in tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def peak_mib(pid: int) -> float:
    """The peak resident memory of a process and its descendants, summed."""
    total = 0
    for member in tree(pid):
        status = Path(f"/proc/{member}/status").read_text()
        total += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--quiet", action="store_true", help="run the server without its access log")
    parser.add_argument("--workers", type=int, default=1, help="llmctl serve --workers N")
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        upstream, up_url = start_server(work, args.latency)
        (work / "slower").mkdir()
        slower, slower_url = start_server(work / "slower", 0.2)  # nearer a real LLM's pace
        catalog = catalog_for(work, up_url)
        data = json.loads(catalog.read_text())
        data["llms"].append({**data["llms"][1], "id": "local/slower", "api_base": f"{slower_url}/slow/v1"})
        catalog.write_text(json.dumps(data))
        options = [*(["--quiet"] if args.quiet else []), "--workers", str(args.workers)]
        serve, url, startup = start_serve(work, catalog, *options)
        try:
            print(f"start-up: llmctl serve answered GET /v1/models after {startup * 1000:.0f} ms")
            gateway = url + "/v1/chat/completions"
            for label, model, upstream_url, conc, count in (
                ("concurrency 1, upstream answering at once", "local/fast", f"{up_url}/fast", 1, min(n, 300)),
                (
                    f"concurrency {c}, upstream answering in {args.latency * 1000:.0f} ms",
                    "local/slow",
                    f"{up_url}/slow",
                    c,
                    n,
                ),
                (
                    f"concurrency {c}, upstream answering in 200 ms",
                    "local/slower",
                    f"{slower_url}/slow",
                    c,
                    10 * c,
                ),
            ):
                direct = asyncio.run(timed_requests(f"{upstream_url}/v1/chat/completions", BODY, count, conc))
                cpu = cpu_seconds(serve.pid)
                served = asyncio.run(timed_requests(gateway, {**BODY, "model": model}, count, conc))
                cpu = (cpu_seconds(serve.pid) - cpu) / (count + min(conc, 32)) * 1000
                print(
                    f"{label}, {count} requests: direct mean {direct['mean_ms']:.2f} ms (median "
                    f"{direct['median_ms']:.2f}), through serve mean {served['mean_ms']:.2f} ms (median "
                    f"{served['median_ms']:.2f}): overhead {served['mean_ms'] - direct['mean_ms']:+.2f} ms "
                    f"per request (median {served['median_ms'] - direct['median_ms']:+.2f}); wall "
                    f"{direct['wall_s']:.2f} s vs {served['wall_s']:.2f} s "
                    f"({served['wall_s'] / direct['wall_s']:.2f}x); server CPU {cpu:.2f} ms per request"
                )
            streamed = asyncio.run(
                timed_requests(gateway, {**BODY, "model": "local/slow"}, n, c, stream=True)
            )
            print(
                f"streamed through serve, {n} at {c}: first chunk after {streamed['first_ms']:.2f} ms, "
                f"mean {streamed['mean_ms']:.2f} ms, wall {streamed['wall_s']:.2f} s"
            )
            print(f"server peak memory: {peak_mib(serve.pid):.1f} MiB")
            rows = subprocess.run(
                [*llmctl_cmd(), "usage", "--json"],
                env=bench_env(LLMCTL_HOME=str(work / "home"), LLMCTL_CATALOG=str(catalog)),
                capture_output=True,
                text=True,
                check=True,
            )
            total = json.loads(rows.stdout)["total"]
            print(f"usage store: {total['requests']} requests recorded ({total['ok']} ok)")
        finally:
            serve.terminate()
            serve.wait(30)
            for process in (upstream, slower):
                process.terminate()
                process.wait(10)
    os._exit(0)


if __name__ == "__main__":
    main()
