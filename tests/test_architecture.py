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
        assert not any(
            m == "llmctl.cli" or m.startswith("llmctl.cli.") for m in imported_modules(path, full=True)
        ), path


def module_level_imports(path: Path) -> set[str]:
    """Top-level packages imported when the module itself is imported (not inside functions
    or `if TYPE_CHECKING:`)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_httpx_imported_at_module_level_only_by_providers_and_router():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if (rel.parts[0] == "providers" and rel.name != "__init__.py") or rel.name == "router.py":
            continue
        assert "httpx" not in module_level_imports(path), path


def test_modules_that_import_httpx_are_not_imported_by_network_free_modules():
    heavy = {
        "llmctl.router",
        "llmctl.providers.base",
        "llmctl.providers.openai_compat",
        "llmctl.providers.anthropic",
        "llmctl.providers.ollama",
        "llmctl.sending",
        "llmctl.client",
    }
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        module = "llmctl." + ".".join(rel.with_suffix("").parts)
        if module in heavy or rel.parts[0] == "providers":
            continue
        imported = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        assert not imported & heavy, (path, imported & heavy)
