"""The layout's rules, read from the source: imports point down the floors, no module
cycle (imports inside functions count), the UI libraries stay in cli/, httpx stays in
engine/http.py, and commands that need no network load no HTTP client."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "llmctl"

# Each part's floor: a module may import its own floor and those below, never above.
FLOORS = {
    "llmctl": 0,  # the package's lazy __init__: version and public names
    "llmctl.errors": 0,
    "llmctl.paths": 0,
    "llmctl.files": 1,
    "llmctl.providers": 2,
    "llmctl.catalog": 3,
    "llmctl.prefs": 3,
    "llmctl.selection": 4,
    "llmctl.compose": 4,
    "llmctl.engine": 5,
    "llmctl.api": 6,
    "llmctl.client": 6,
    "llmctl.server": 7,
    "llmctl.cli": 7,
    "llmctl.__main__": 7,
}
UI = {"typer", "rich", "click", "starlette", "uvicorn"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def floor(module: str) -> int:
    best = max((prefix for prefix in FLOORS if module == prefix or module.startswith(prefix + ".")), key=len)
    return FLOORS[best]


def type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` (never run)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found |= {id(n) for child in node.body for n in ast.walk(child)}
    return found


def imports(path: Path, *, runtime_only: bool = False) -> set[str]:
    """Every module the file imports, those inside functions too; llmctl names resolved to
    the module file they name (`from llmctl.prefs import audit` is `llmctl.prefs.audit`),
    relative imports resolved against the file's package (`from ..files import x` in
    llmctl/catalog/edit.py is `llmctl.files`)."""
    return imports_in(
        ast.parse(path.read_text()), module_name(path), path.name == "__init__.py", runtime_only
    )


def imports_in(tree: ast.AST, name: str, is_package: bool, runtime_only: bool = False) -> set[str]:
    """The modules imported in `tree`, the source of module `name` (a package's `__init__`
    when `is_package`)."""
    skip = type_checking_nodes(tree) if runtime_only else set()
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = absolute(node, name, is_package)
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in MODULES else module)
    return found


def absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    """The absolute module a `from ... import` names: `from . import x` in llmctl.catalog.edit
    is llmctl.catalog, `from ..y import z` there is llmctl.y."""
    if node.level == 0:
        return node.module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    assert len(base) == len(package) - (node.level - 1) and base, f"{name}: relative import beyond the top"
    return ".".join(base + ([node.module] if node.module else []))


def llmctl_graph() -> dict[str, set[str]]:
    return {name: {m for m in imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_every_module_has_a_floor():
    assert {name for name in MODULES if floor(name) is None} == set()


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{name} (floor {floor(name)}) imports {target} (floor {floor(target)})"
        for name, targets in graph.items()
        for target in targets
        if floor(target) > floor(name)
    ]


def test_imports_never_point_up():
    assert upward_imports(llmctl_graph()) == []


def test_relative_imports_are_resolved_to_the_modules_they_name():
    source = (
        "from . import common\n"
        "from .seed import records_of\n"
        "from .. import edit\n"
        "from ..files import entries_of\n"
        "def late():\n"
        "    from ...errors import FileError\n"
    )
    found = imports_in(ast.parse(source), "llmctl.catalog.formats.native", is_package=False)
    assert found == {
        "llmctl.catalog.formats.common",
        "llmctl.catalog.formats.seed",
        "llmctl.catalog.edit",
        "llmctl.catalog.files",
        "llmctl.errors",
    }
    in_package = imports_in(ast.parse("from . import common"), "llmctl.catalog.formats", is_package=True)
    assert in_package == {"llmctl.catalog.formats.common"}


def test_an_upward_relative_import_is_caught():
    tree = ast.parse("def late():\n    from ..engine import router\n")
    graph = {"llmctl.catalog.edit": imports_in(tree, "llmctl.catalog.edit", is_package=False)}
    assert upward_imports(graph) == ["llmctl.catalog.edit (floor 3) imports llmctl.engine.router (floor 5)"]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles_counting_imports_inside_functions():
    cycles = [sorted(group) for group in strongly_connected(llmctl_graph()) if len(group) > 1]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [sorted(g) for g in strongly_connected(graph) if len(g) > 1] == [["a", "b", "c"]]


def test_ui_libraries_only_in_cli_and_server():
    for name, path in MODULES.items():
        if floor(name) < FLOORS["llmctl.cli"]:
            assert not {m.split(".")[0] for m in imports(path)} & UI, name


def test_the_core_never_imports_the_cli():
    for name, path in MODULES.items():
        if not name.startswith("llmctl.cli") and name != "llmctl.__main__":
            assert not any(m == "llmctl.cli" or m.startswith("llmctl.cli.") for m in imports(path)), name


def test_httpx_is_imported_by_the_engines_http_modules_only():
    """The HTTP client and its errors stay in engine/http.py (and the simulator's in-process
    transport, which answers requests in httpx's own terms)."""
    users = {name for name, path in MODULES.items() if "httpx" in imports(path, runtime_only=True)}
    assert users == {"llmctl.engine.http", "llmctl.engine.simulate"}


def test_commands_that_need_no_network_load_no_http_client_and_no_server():
    modules = [
        "llmctl",
        "llmctl.cli",
        "llmctl.cli.pick_cmd",
        "llmctl.cli.llms_cmd",
        "llmctl.cli.books_cmd",
        "llmctl.cli.catalog_cmd",
        "llmctl.api",
        "llmctl.engine.sender",
        "llmctl.catalog.query",
        "llmctl.catalog.refresh",
    ]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint(sorted(k for k in sys.modules if k.split('.')[0] in ('httpx', 'httpcore', 'starlette', 'uvicorn', 'openai')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
