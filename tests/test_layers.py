"""Layers without cycles: no module under `webapp/` imports, directly or through others, a
module that imports it back.

The graph is read from the source (`ast`), not from `sys.modules`, so an import hidden
inside a function counts like any other: a lazy import that only postpones a cycle is
still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import webapp

ROOT = Path(webapp.__file__).parent
PACKAGE = "webapp"

def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in ROOT.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The `webapp` modules `name` imports anywhere in its body. `from package import x`
    counts `package.x` when that is a module, else `package` itself."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # Annotations only (`if TYPE_CHECKING:`): never run, so never a cycle.
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and _is_type_checking(node.test) for stmt in node.body
                   for inner in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known else origin
                       for alias in node.names]
        else:
            continue
        for target in targets:
            # `import webapp.services.join` names the module itself; keep the longest
            # known prefix (a name inside a module is the module).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target.startswith(PACKAGE) and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    # An edge goes to the module named, not to the packages above it that Python runs
    # first: what a package's `__init__` imports is in that module's own edges.
    return {name: _imported(name, path, known) for name, path in modules.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module, to print."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    return paths[node] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    following.append(nxt)
        frontier = following
    return component


def test_the_graph_sees_relative_and_function_level_imports():
    graph = import_graph()
    assert "webapp.extensions" in graph["webapp.access"]  # from .extensions import db
    assert "webapp.models" in graph["webapp.access"]


def test_no_module_imports_itself_back():
    graph = import_graph()
    cycles = [a_cycle(graph, component) for component in strongly_connected(graph)]
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
