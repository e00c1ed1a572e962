"""The layering of DESIGN.md §3, read from the source: ``bot`` imports no I/O framework, and the modules of
``bot``, ``handlers`` and ``workers`` import each other without cycles (a cycle is two modules that can only
be understood, and changed, together)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "workers")
#: what the domain never imports (DESIGN.md §3): web, chat, queue, cloud, git host, storage and HTTP clients
FRAMEWORKS = ("aiohttp", "slack_bolt", "slack_sdk", "celery", "azure", "github", "redis", "requests", "kubernetes")


def module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path] | None = None) -> Iterator[str]:
    """Every module ``path`` imports. ``from a import b, c`` imports ``a.b`` and ``a.c`` when they are modules
    of ``known`` (the package ``a`` then counts only for what is not a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = known or {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            named = [f"{module}.{alias.name}" for alias in node.names]
            submodules = [n for n in named if n in modules]
            yield from submodules
            if len(submodules) < len(named):
                yield module


def graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: {t for t in imported(name, path, files) if t in files} - {name} for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycles() -> None:
    assert cycles(graph()) == []


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_domain_imports_no_framework() -> None:
    offenders = {
        f"{name} imports {target}"
        for name, path in module_files().items()
        if name.split(".")[0] == "bot"
        for target in imported(name, path)
        if target.split(".")[0] in FRAMEWORKS
    }
    assert offenders == set()
