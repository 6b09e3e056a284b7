"""Helpers for the benchmarks: time whole processes, interleaved, with their peak memory."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOOP = [sys.executable, str(HERE / "noop_app.py"), "first", "--name", "x"]


def llmctl_cmd() -> list[str]:
    """The installed console script, as a user runs it."""
    exe = shutil.which("llmctl", path=str(Path(sys.executable).parent)) or shutil.which("llmctl")
    return [exe] if exe else [sys.executable, "-m", "llmctl"]


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run `cmd`; return (seconds, peak RSS in KiB). Fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()}")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for timed processes: as on a user's machine, Python may cache
    bytecode (PYTHONDONTWRITEBYTECODE would recompile llmctl's modules on every run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def compare(cases: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, dict[str, float]]:
    """Run every case `runs` times, interleaved so drift hits all alike; return medians."""
    for cmd, env in cases.values():  # warm caches and the OS page cache
        run_once(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    peaks: dict[str, int] = {name: 0 for name in cases}
    for _ in range(runs):
        for name, (cmd, env) in cases.items():
            seconds, peak = run_once(cmd, env)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    return {
        name: {
            "median_ms": statistics.median(t) * 1000,
            "min_ms": min(t) * 1000,
            "peak_mib": peaks[name] / 1024,
        }
        for name, t in times.items()
    }


def report(results: dict[str, dict[str, float]], baseline: str) -> None:
    base = results[baseline]["median_ms"]
    print(f"{'case':<44} {'median ms':>10} {'min ms':>8} {'ratio':>7} {'peak MiB':>9}")
    for name, r in results.items():
        print(
            f"{name:<44} {r['median_ms']:>10.1f} {r['min_ms']:>8.1f} "
            f"{r['median_ms'] / base:>6.2f}x {r['peak_mib']:>9.1f}"
        )
