"""``dependsOn`` cycles among the Kustomizations (and among the HelmReleases) a configuration applies:
Flux waits on each object of a cycle for ever, and reports only "dependency not ready".

Cycles are found per strongly connected component (Tarjan's algorithm, without recursion: a pull request
may hold a chain thousands of objects long). Each component is one finding naming a shortest cycle through
its first object and the other objects caught in it, so a pull request that adds a new cycle through objects
the base branch already had in one changes the finding, and is reported.
"""

from __future__ import annotations

from collections import deque

from bot.preflight.findings import Finding
from bot.preflight.objects import Placed, placed
from bot.preflight.scope import Scope
from bot.preflight.tree import Tree, items, line_of, scalar

CHECK = "depends-on"

Key = tuple[str, str, str]  # kind, namespace, name
Edges = dict[Key, list[tuple[Key, int]]]


def _edges(objects: list[Placed]) -> tuple[Edges, dict[Key, Placed]]:
    """Each object's dependencies (key, line of the dependsOn entry), for objects of the tree only."""
    by_key = {(o.manifest.kind, o.namespace, o.manifest.name): o for o in objects}
    edges: Edges = {}
    for key, obj in by_key.items():
        for entry in items(obj.manifest.node, "spec", "dependsOn"):
            name = scalar(entry, "name")
            if name is None:
                continue
            target = (key[0], scalar(entry, "namespace") or obj.namespace, name)
            if target in by_key:
                edges.setdefault(key, []).append((target, line_of(entry)))
    return edges, by_key


def components(edges: Edges) -> list[set[Key]]:
    """The strongly connected components that hold a cycle (two objects or more, or one depending on itself),
    by Tarjan's algorithm with an explicit stack."""
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    stack: list[Key] = []
    on_stack: set[Key] = set()
    found: list[set[Key]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[Key, int]] = [(root, 0)]  # (object, next edge to follow)
        while work:
            key, at = work.pop()
            if at == 0:
                index[key] = low[key] = len(index)
                stack.append(key)
                on_stack.add(key)
            targets = edges.get(key, [])
            if at < len(targets):
                work.append((key, at + 1))
                target = targets[at][0]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[key] = min(low[key], index[target])
                continue
            if work:  # back in the caller: carry the low link up
                caller = work[-1][0]
                low[caller] = min(low[caller], low[key])
            if low[key] == index[key]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == key:
                        break
                if len(component) > 1 or any(t == key for t, _ in edges.get(key, [])):
                    found.append(component)
    return found


def _shortest_cycle(start: Key, component: set[Key], edges: Edges) -> list[tuple[Key, int]]:
    """A shortest cycle from ``start`` back to it inside ``component``: (object, line of its edge) pairs."""
    came: dict[Key, tuple[Key, int]] = {}
    pending = deque([start])
    while pending:
        key = pending.popleft()
        for target, line in edges.get(key, []):
            if target not in component:
                continue
            if target == start:
                path = [(key, line)]
                while path[0][0] != start:
                    path.insert(0, came[path[0][0]])
                return path
            if target not in came:
                came[target] = (key, line)
                pending.append(target)
    raise AssertionError("a strongly connected component has a cycle through each of its objects")


def dependency_cycles(tree: Tree, scope: Scope, default_namespace: str) -> list[Finding]:
    """One finding per cycle of waits, at the dependsOn entry of its first object (in file order)."""
    edges, by_key = _edges(placed(tree, scope, default_namespace, ("Kustomization", "HelmRelease")))

    def order(key: Key) -> tuple[str, int]:
        return by_key[key].manifest.path, by_key[key].manifest.line

    found = []
    for component in components(edges):
        start = min(component, key=order)
        cycle = _shortest_cycle(start, component, edges)
        names = " -> ".join(by_key[k].label for k, _ in cycle) + f" -> {by_key[start].label}"
        others = sorted(component - {k for k, _ in cycle}, key=order)
        if others:
            names += f" (also waiting in this cycle: {', '.join(by_key[k].label for k in others)})"
        found.append(Finding(by_key[start].manifest.path, cycle[0][1], f"dependsOn cycle: {names}", CHECK))
    return sorted(found)
