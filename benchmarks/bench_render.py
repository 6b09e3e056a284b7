"""Time rendering a job's template, per call, against `str.format` in the same run.

    python benchmarks/bench_render.py [--calls 20000] [--rounds 7]

Prints, measured in paired rounds (baseline, placeholder, Jinja, render_job, baseline, ...):
- `str.format` of a three-field template (the baseline);
- a placeholder-only template (`{{ name }}` alone: filled in without Jinja2);
- a Jinja template (`{% if %}` and `{{ input }}`: Jinja2's sandbox, compiled once);
- `render_job`: a whole job from a loaded jobs.toml (variables resolved, a file variable
  read, system and user messages made, the template hash computed);
and, as whole processes, the first Jinja render (import and compile) against `python -c pass`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmctl.compose import templates
from llmctl.compose.render import render_job
from llmctl.paths import Home
from llmctl.prefs.config import load_config
from llmctl.prefs.jobs import load_jobs

VALUES = {
    "n": "12",
    "pov": "Ishmael",
    "style": "Spare. Dry.\n",
    "mood": "grim",
    "input": "Call me Ishmael. " * 20,
}
FORMAT = "Chapter {n}, told by {pov}.\nStyle: {style}\n"
PLACEHOLDER = "Chapter {{ n }}, told by {{ pov }}.\nStyle: {{ style }}\n"
JINJA = "Tag the scenes.\n{% if mood %}Mood: {{ mood }}\n{% endif %}Text:\n{{ input }}\n"

JOBS = """
[jobs.draft]
group = "writer"
system = "You write novels."
prompt = \"\"\"
Chapter {{ n }}, told by {{ pov }}.
Style: {{ style }}
\"\"\"
params = { temperature = 0.7 }
[jobs.draft.vars.pov]
required = true
[jobs.draft.vars.n]
default = "1"
[jobs.draft.vars.style]
file = true
default = "style.md"
"""


def per_call_us(func, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls * 1e6


def in_process(calls: int, rounds: int) -> None:
    home_dir = Path(tempfile.mkdtemp(prefix="llmctl-render-bench-"))
    (home_dir / "jobs.toml").write_text(JOBS)
    (home_dir / "style.md").write_text("Spare. Dry.\n")
    home = Home.resolve(home_dir)
    job = load_jobs(home, load_config(home))["draft"]
    cases = {
        "str.format (baseline)": lambda: FORMAT.format(**VALUES),
        "placeholder-only template": lambda: templates.render(PLACEHOLDER, VALUES),
        "Jinja template": lambda: templates.render(JINJA, VALUES),
        "render_job (whole job, a file variable)": lambda: render_job(
            job, home=home, given={"pov": "Ishmael"}, input="Call me Ishmael."
        ),
    }
    assert templates.render(PLACEHOLDER, VALUES) == FORMAT.format(**VALUES)
    for func in cases.values():  # compile, import, warm
        func()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):  # paired: every case once per round, so drift hits all alike
        for name, func in cases.items():
            n = calls if "render_job" not in name else max(calls // 10, 100)
            times[name].append(per_call_us(func, n))
    base = statistics.median(times["str.format (baseline)"])
    print(f"{'case (per call)':<44} {'median us':>10} {'min us':>8} {'ratio':>8}")
    for name, t in times.items():
        median = statistics.median(t)
        print(f"{name:<44} {median:>10.2f} {min(t):>8.2f} {median / base:>7.1f}x")


def first_render(runs: int) -> None:
    """The cost of the first Jinja render in a process: importing Jinja2 and compiling."""
    code = f"from llmctl.compose import templates; templates.render({JINJA!r}, {VALUES!r})"
    cases = {
        "python -c 'import llmctl.compose.templates'": "import llmctl.compose.templates",
        "first Jinja render (import + compile)": code,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, snippet in cases.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", snippet], check=True)
            times[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["python -c 'import llmctl.compose.templates'"]
    for name, median in medians.items():
        print(f"{name:<44} {median:>10.1f} ms {median - base:>+8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--process-runs", type=int, default=10)
    args = parser.parse_args()
    in_process(args.calls, args.rounds)
    first_render(args.process_runs)


if __name__ == "__main__":
    main()
