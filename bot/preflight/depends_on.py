"""``dependsOn`` cycles among the Kustomizations (and among the HelmReleases) a configuration applies:
Flux waits on each object of a cycle for ever, and reports only "dependency not ready"."""

from __future__ import annotations

from bot.preflight.findings import Finding
from bot.preflight.objects import Placed, placed
from bot.preflight.scope import Scope
from bot.preflight.tree import Tree, items, line_of, scalar

CHECK = "depends-on"

Key = tuple[str, str, str]  # kind, namespace, name


def _edges(objects: list[Placed]) -> tuple[dict[Key, list[tuple[Key, int]]], dict[Key, Placed]]:
    """Each object's dependencies (key, line of the dependsOn entry), for objects of the tree only."""
    by_key = {(o.manifest.kind, o.namespace, o.manifest.name): o for o in objects}
    edges: dict[Key, list[tuple[Key, int]]] = {}
    for key, obj in by_key.items():
        for entry in items(obj.manifest.node, "spec", "dependsOn"):
            name = scalar(entry, "name")
            if name is None:
                continue
            target = (key[0], scalar(entry, "namespace") or obj.namespace, name)
            if target in by_key:
                edges.setdefault(key, []).append((target, line_of(entry)))
    return edges, by_key


def _cycles(edges: dict[Key, list[tuple[Key, int]]]) -> list[list[tuple[Key, int]]]:
    """Every elementary cycle found by a depth-first walk, each as (object, line of its edge) pairs, once."""
    state: dict[Key, int] = {}  # 1 on the path, 2 done
    path: list[tuple[Key, int]] = []
    found: dict[frozenset[Key], list[tuple[Key, int]]] = {}

    def visit(key: Key) -> None:
        state[key] = 1
        for target, line in edges.get(key, []):
            path.append((key, line))
            if state.get(target) == 1:
                start = next(i for i, (k, _) in enumerate(path) if k == target)
                cycle = path[start:]
                found.setdefault(frozenset(k for k, _ in cycle), cycle)
            elif target not in state:
                visit(target)
            path.pop()
        state[key] = 2

    for key in sorted(edges):
        if key not in state:
            visit(key)
    return list(found.values())


def dependency_cycles(tree: Tree, scope: Scope, default_namespace: str) -> list[Finding]:
    """One finding per cycle, at the dependsOn entry of its first object (in file order) that closes it."""
    edges, by_key = _edges(placed(tree, scope, default_namespace, ("Kustomization", "HelmRelease")))
    found = []
    for cycle in _cycles(edges):
        # start the cycle at its object first in the files, so the finding is stable whatever the walk
        first = min(
            range(len(cycle)), key=lambda i: (by_key[cycle[i][0]].manifest.path, by_key[cycle[i][0]].manifest.line)
        )
        cycle = cycle[first:] + cycle[:first]
        head, line = cycle[0]
        names = " -> ".join(by_key[k].label for k, _ in cycle) + f" -> {by_key[head].label}"
        found.append(Finding(by_key[head].manifest.path, line, f"dependsOn cycle: {names}", CHECK))
    return sorted(found)
