"""Run `mypy src` and hold it to the committed baseline (mypy-baseline.txt).

    python .ci/mypy_baseline.py            # exit 1 on an error the baseline does not list,
                                           # or on a listed error that is gone (shrink it)
    python .ci/mypy_baseline.py --update   # rewrite the baseline from today's errors; refuses
                                           # to add an error unless --allow-new

A baseline line is `FILE: CODE: MESSAGE`, one per error (the same line twice for two such
errors in a file). Line numbers are left out so that an edit elsewhere in a file does not
break the check; the count of each line is what is compared. The baseline may only shrink:
an error that is fixed must leave it (the check fails until it does), a new one fails.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
UPDATE = "python .ci/mypy_baseline.py --update"
# `src/llmctl/api.py:58: error: Item "None" of "LLM | None" has no attribute "id"  [union-attr]`
_ERROR = re.compile(r"^(?P<file>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)\s+\[(?P<code>[a-z0-9-]+)\]$")


def baseline_lines(mypy_output: str) -> list[str]:
    """The baseline lines (`FILE: CODE: MESSAGE`, sorted) of mypy's output; notes are left out."""
    found = []
    for line in mypy_output.splitlines():
        match = _ERROR.match(line.strip())
        if match:
            found.append(f"{match['file']}: {match['code']}: {match['message']}")
    return sorted(found)


def compare(current: list[str], baseline: list[str]) -> tuple[list[str], list[str]]:
    """(new, fixed): the errors beyond the baseline's count of their line, and the baseline
    lines no error matches any more."""
    now, then = Counter(current), Counter(baseline)
    return sorted((now - then).elements()), sorted((then - now).elements())


def run_mypy() -> str:
    """mypy's output for the configured files (pyproject.toml's [tool.mypy])."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode not in (0, 1) or done.stderr.strip():
        sys.exit(f"mypy did not run:\n{done.stderr or done.stdout}")
    return done.stdout


def read_baseline() -> list[str]:
    if not BASELINE.is_file():
        return []
    return [line for line in BASELINE.read_text().splitlines() if line and not line.startswith("#")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help="rewrite the baseline from today's errors")
    parser.add_argument("--allow-new", action="store_true", help="with --update: let the baseline grow")
    args = parser.parse_args(argv)
    current = baseline_lines(run_mypy())
    new, fixed = compare(current, read_baseline())
    if args.update:
        if new and not args.allow_new:
            print("\n".join(["mypy: errors the baseline does not list (fix them, or --allow-new):", *new]))
            return 1
        header = f"# mypy errors left to fix (FILE: CODE: MESSAGE); regenerate: {UPDATE}\n"
        BASELINE.write_text(header + "".join(line + "\n" for line in current))
        print(f"mypy baseline: {len(current)} errors ({len(fixed)} fewer, {len(new)} new)")
        return 0
    if new:
        print("\n".join(["mypy: errors the baseline does not list:", *new]))
    if fixed:
        print(
            "\n".join(
                ["mypy: fixed, so the baseline must shrink (python .ci/mypy_baseline.py --update):", *fixed]
            )
        )
    if new or fixed:
        return 1
    print(f"mypy: {len(current)} errors, all in the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
