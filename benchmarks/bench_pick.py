"""Time `llmctl pick` on a generated 2,600-model catalog with 1,000 books.

    python benchmarks/bench_pick.py [--runs 30] [--picks 200000]

Prints, measured in the same run:
- `llmctl pick --book B --job J` as a whole process against a no-op Typer app of two
  commands (ratio; target within 1.3x) and its peak memory (target under 60 MiB);
- one tab completion (`--job <TAB>`) as a process;
- in-process picks per second with the catalog and books loaded (target 50,000/s),
  and through the public API that reads the book file each time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import NOOP, bench_env, compare, llmctl_cmd, report  # noqa: E402

PROVIDERS = ["openai", "anthropic", "openrouter", "groq", "mistral", "deepseek", "xai", "gemini", "ollama"]
GROUPS = ["writer", "editor", "explicit", "tagger", "thinker", "reviewer", "override"]
TIERS = ["economy", "standard", "premium"]
KEYS = {"OPENAI_API_KEY": "bench", "ANTHROPIC_API_KEY": "bench", "OPENROUTER_API_KEY": "bench"}


def generate(work: Path, models: int, books: int, seed: int = 7) -> tuple[Path, Path, list[str]]:
    rng = random.Random(seed)
    entries = []
    for i in range(models):
        provider = PROVIDERS[i % len(PROVIDERS)]
        groups = sorted(rng.sample(GROUPS, rng.randint(1, 4)))
        entries.append(
            {
                "id": f"{provider}/model-{i:04d}",
                "provider": provider,
                "valid_groups": groups,
                "tier": "local" if provider == "ollama" else rng.choice(TIERS),
                "quality_score": round(rng.uniform(3, 9.5), 1),
                "input_cost_per_mtok": 0.0 if provider == "ollama" else round(rng.uniform(0.05, 15), 3),
                "output_cost_per_mtok": 0.0 if provider == "ollama" else round(rng.uniform(0.1, 75), 3),
                "context_length": rng.choice([8192, 32768, 131072, 200000, 1000000]),
                "max_output_tokens": 8192,
                "capabilities": ["streaming", "tools"],
                "priority": rng.randint(1, 100),
                "enabled": rng.random() > 0.05,
            }
        )
    catalog = work / "catalog.json"
    catalog.write_text(json.dumps({"llms": entries}))
    home = work / "home"
    (home / "books").mkdir(parents=True)
    names = []
    for b in range(books):
        name = f"book-{b:04d}"
        names.append(name)
        lines = []
        if b % 10 == 0:
            overrides = [e["id"] for e in entries[:200] if "override" in e["valid_groups"]]
            lines.append(f'override = "{rng.choice(overrides)}"')
        lines.append("[defaults]")
        for group in rng.sample(GROUPS[:-1], 3):
            choice = rng.choice([e["id"] for e in entries[:300] if group in e["valid_groups"]])
            lines.append(f'{group} = "{choice}"')
        (home / "books" / f"{name}.toml").write_text("\n".join(lines) + "\n")
    return catalog, home, names


def in_process(catalog_path: Path, home: Path, names: list[str], picks: int) -> None:
    os.environ.update(KEYS)
    from llmctl.api import decide
    from llmctl.catalog.load import load_catalog
    from llmctl.paths import Home
    from llmctl.prefs.books import load_book
    from llmctl.prefs.config import load_config
    from llmctl.prefs.jobs import load_jobs
    from llmctl.selection.decision import Request
    from llmctl.selection.picker import Picker
    from llmctl.selection.request import Selection

    h = Home.resolve(home)
    catalog = load_catalog(h, catalog_path)
    jobs = list(load_jobs(h, load_config(h)).values())
    books = [load_book(h, n) for n in names]
    picker = Picker(catalog)
    rng = random.Random(1)
    work = [(rng.choice(books), rng.choice(jobs)) for _ in range(1000)]
    requests = [
        Request(
            group=j.group,
            tier=j.tier,
            capabilities=tuple(j.capabilities),
            min_context=j.min_context,
            job=j,
            book=b,
        )
        for b, j in work
    ]
    for req in requests:  # warm the ranked pools
        picker.decide(req)
    start = time.perf_counter()
    for n in range(picks):
        picker.decide(requests[n % 1000])
    elapsed = time.perf_counter() - start
    print(f"in-process Picker.decide: {picks / elapsed:,.0f} picks/s ({elapsed / picks * 1e6:.1f} us each)")
    count = max(picks // 50, 1000)
    start = time.perf_counter()
    for n in range(count):
        b, j = work[n % 1000]
        decide(Selection(book=b.name, job=j.name), catalog=catalog, home=h)
    elapsed = time.perf_counter() - start
    print(f"in-process api.decide (reads the book file): {count / elapsed:,.0f} picks/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--picks", type=int, default=200_000)
    parser.add_argument("--models", type=int, default=2600)
    parser.add_argument("--books", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llmctl-pick-bench-"))
    catalog, home, names = generate(work, args.models, args.books)
    env = bench_env(LLMCTL_HOME=str(home), LLMCTL_CATALOG=str(catalog), **KEYS)
    llmctl = llmctl_cmd()
    complete_env = dict(
        env, _LLMCTL_COMPLETE="complete_bash", COMP_WORDS="llmctl pick --job ", COMP_CWORD="3"
    )
    cases = {
        "no-op Typer app (2 commands)": (NOOP, bench_env()),
        "pick --book B --job J": (llmctl + ["pick", "--book", names[500], "--job", "draft_chapter"], env),
        "pick --book B --job J --explain": (
            llmctl + ["pick", "--book", names[500], "--job", "draft_chapter", "--explain"],
            env,
        ),
        "tab completion: pick --job <TAB>": (llmctl, complete_env),
    }
    print(f"catalog: {args.models} models, {args.books} books in {work}")
    report(compare(cases, args.runs), "no-op Typer app (2 commands)")
    in_process(catalog, home, names, args.picks)


if __name__ == "__main__":
    main()
