"""Time `llmctl list --group writer --json` as a whole process against a no-op Typer app.

    python benchmarks/bench_catalog.py [--runs 30] [--litellm PATH]

Cases: the bundled catalog, and a home holding a LiteLLM import (the whole
`model_prices_and_context_window.json` when --litellm is given, else a generated
file of 2,600 entries in that format). Prints medians, ratios against the no-op
app measured in the same run, and peak memory. Also checks that the command did
not import httpx.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import NOOP, bench_env, compare, llmctl_cmd, report


def synthetic_litellm(count: int) -> dict:
    providers = ["openai", "anthropic", "groq", "mistral", "deepseek", "together_ai", "fireworks_ai", "xai"]
    data = {}
    for i in range(count):
        provider = providers[i % len(providers)]
        data[f"{provider}/model-{i}"] = {
            "litellm_provider": provider,
            "mode": "chat",
            "max_input_tokens": 8192 * (1 + i % 16),
            "max_output_tokens": 4096,
            "input_cost_per_token": (1 + i % 50) * 1e-7,
            "output_cost_per_token": (1 + i % 70) * 4e-7,
            "supports_function_calling": bool(i % 2),
            "supports_vision": bool(i % 3 == 0),
        }
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--litellm", type=Path)
    args = parser.parse_args()
    llmctl = llmctl_cmd()
    work = Path(tempfile.mkdtemp(prefix="llmctl-bench-"))
    bundled_home, import_home = work / "bundled", work / "imported"
    source = args.litellm
    if source is None:
        source = work / "litellm.json"
        source.write_text(json.dumps(synthetic_litellm(2600)))
    env = bench_env(LLMCTL_HOME=str(import_home))
    out = subprocess.run(
        llmctl + ["catalog", "import", str(source), "--group", "writer", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    entries = subprocess.run(
        llmctl + ["list", "--all", "--json"], env=env, capture_output=True, text=True, check=True
    )
    total = len(json.loads(entries.stdout))
    cmd = llmctl + ["list", "--group", "writer", "--json"]
    cases = {
        "no-op Typer app (2 commands)": (NOOP, bench_env()),
        "list --group writer --json (bundled)": (cmd, bench_env(LLMCTL_HOME=str(bundled_home))),
        f"list --group writer --json ({total} entries)": (cmd, env),
    }
    print(
        f"import: {summary['added']} added, {summary['updated']} updated from {source.name}; "
        f"skipped {summary['skipped']}"
    )
    results = compare(cases, args.runs)
    report(results, "no-op Typer app (2 commands)")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.argv=['llmctl','list','--group','writer','--json'];"
            "import llmctl.cli as c\ntry: c.main()\nexcept SystemExit: pass\n"
            "print('httpx imported' if 'httpx' in sys.modules else 'httpx not imported', file=sys.stderr)",
        ],
        env=bench_env(LLMCTL_HOME=str(bundled_home)),
        capture_output=True,
        text=True,
    )
    print(probe.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
