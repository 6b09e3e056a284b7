"""The dependency rule: nothing below cli/ prints through rich or imports typer; no httpx at module level."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "llmctl"


def imported_modules(path: Path, full: bool = False) -> set[str]:
    """Every module the file imports (top-level package names, or full dotted names)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name if full else alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module if full else node.module.split(".")[0])
    return names


def test_core_never_imports_typer_or_rich():
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts:
            continue
        assert not imported_modules(path) & {"typer", "rich", "click"}, path


def test_core_never_imports_the_cli():
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts or path.name == "__main__.py":
            continue
        assert not any(m.startswith("llmctl.cli") for m in imported_modules(path, full=True)), path


def test_httpx_only_inside_providers_and_router():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "providers" or rel.name == "router.py":
            continue
        assert "httpx" not in imported_modules(path), path
