"""Catalog sources: imports of real files, and `catalog diff` of two 2,600-entry catalogs.

    python benchmarks/bench_sources.py [--runs 20] [--samples ../shared/samples] [--litellm PATH]

Prints, for each import (the files in --samples, and LiteLLM's whole map with --litellm),
the time of `llmctl catalog import FILE` as a process into a fresh home and its summary
(added, updated, kept newer, skipped and corrected by rule); then `catalog diff A B --json`
of two generated 2,600-entry catalogs (5% of prices changed, 50 removed, 50 added) as a
whole process against `llmctl list --json` of A as a whole process, both measured in the
same run (medians, ratios, peak memory).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_env, compare, llmctl_cmd, report

HERE = Path(__file__).resolve().parent


def generated(count: int, *, shift: int = 0) -> dict:
    """An llmctl catalog of `count` entries; `shift` changes prices of every 20th entry and
    moves the id range by `shift` (entries removed at the start, added at the end)."""
    providers = ["openai", "anthropic", "groq", "mistral", "deepseek", "together", "fireworks", "xai"]
    llms = []
    for i in range(shift, count + shift):
        price = (1 + i % 50) / 10 * (1.1 if shift and i % 20 == 0 else 1.0)
        llms.append(
            {
                "id": f"{providers[i % 8]}/model-{i}",
                "provider": providers[i % 8],
                "valid_groups": ["writer", "editor"] if i % 2 else ["tagger"],
                "input_cost_per_mtok": round(price, 4),
                "output_cost_per_mtok": round(price * 4, 4),
                "context_length": 8192 * (1 + i % 16),
                "quality_score": round(5 + (i % 50) / 10, 1),
                "capabilities": ["streaming", "tools"],
            }
        )
    return {"llms": llms}


def timed_import(path: Path, work: Path, *extra: str) -> None:
    home = work / f"home-{path.stem}"
    start = time.perf_counter()
    done = subprocess.run(
        [*llmctl_cmd(), "catalog", "import", str(path), "--group", "writer", "--json", *extra],
        env=bench_env(LLMCTL_HOME=str(home)),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    s = json.loads(done.stdout)
    print(
        f"import {path.name} ({s['format']}, as of {s['as_of']}): {seconds:.2f} s; read {s['read']}, "
        f"{s['added']} added, {s['updated']} updated, {s['unchanged']} unchanged, "
        f"{s['kept_newer']} fields kept newer"
    )
    print(f"  skipped: {json.dumps(s['skipped'], sort_keys=True)}")
    print(f"  corrected: {json.dumps(s['fixed'], sort_keys=True)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--samples", type=Path, default=HERE.parents[1] / "shared" / "samples")
    parser.add_argument("--litellm", type=Path, help="LiteLLM's whole model_prices_and_context_window.json")
    parser.add_argument("--litellm-as-of", default="2026-03-15", help="the date of that LiteLLM file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmctl-sources-"))
    for name in (
        "litellm_excerpt.json",
        "openrouter_models.json",
        "modelsdev_api_excerpt.json",
        "modelsdev_models.json",
    ):
        if (args.samples / name).is_file():
            timed_import(args.samples / name, work)
    if args.litellm:
        timed_import(args.litellm, work, "--as-of", args.litellm_as_of)
    old, new = work / "old.json", work / "new.json"
    old.write_text(json.dumps(generated(2600)))
    new.write_text(json.dumps(generated(2600, shift=50)))
    home = work / "diff-home"
    diffed = subprocess.run(
        [*llmctl_cmd(), "catalog", "diff", str(old), str(new), "--json"],
        env=bench_env(LLMCTL_HOME=str(home)),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(diffed.stdout)
    print(
        f"diff of two 2,600-entry catalogs: {len(result['added'])} added, {len(result['removed'])} removed, "
        f"{len(result['changed'])} changed fields"
    )
    cases = {
        "list --json (2,600 entries)": (
            [*llmctl_cmd(), "list", "--json"],
            bench_env(LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(old)),
        ),
        "catalog diff OLD NEW --json": (
            [*llmctl_cmd(), "catalog", "diff", str(old), str(new), "--json"],
            bench_env(LLMCTL_HOME=str(home)),
        ),
    }
    report(compare(cases, args.runs), "list --json (2,600 entries)")


if __name__ == "__main__":
    main()
