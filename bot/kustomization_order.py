"""The order of a configuration's kustomizations: every ``depends_on`` names one of them, and none depends on
itself through others (Flux could never start it). Shared by the `/flux` grammar and fleet files."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Kustomization
from bot.usage import UsageError, closest, code, one_of


def check_dependencies(kustomizations: Sequence[Kustomization]) -> None:
    """Every ``depends_on`` names another kustomization of the list, and they form no cycle."""
    names = [k.name for k in kustomizations]
    for k in kustomizations:
        for dependency in k.depends_on:
            if dependency not in names:
                others = [n for n in names if n != k.name]
                found = closest(dependency, others)
                hint = (
                    f"Did you mean {code(found)}?"
                    if found
                    else (
                        f"This command defines {one_of(others)}."
                        if others
                        else "Define it with another `--kustomization`."
                    )
                )
                raise UsageError(
                    f"Kustomization {code(k.name)} depends on {code(dependency)}, which this command does not define.",
                    hint=hint,
                )
    cycle = _find_cycle({k.name: k.depends_on for k in kustomizations})
    if cycle:
        raise UsageError(
            "The kustomizations depend on each other in a circle: " + " → ".join(code(n) for n in cycle) + ".",
            hint="Flux could never start any of them; drop one of those `depends_on`.",
        )


def _find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str]:
    """A dependency cycle as [a, b, ..., a], or [] (depth-first search, white/grey/black)."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        trail.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        trail.pop()
        state[node] = 2
        return []

    for start in graph:
        if state.get(start) is None:
            found = visit(start)
            if found:
                return found
    return []


def in_dependency_order(kustomizations: Sequence[Kustomization]) -> list[Kustomization]:
    """The kustomizations with each after those it depends on, otherwise in the order given (Flux applies a
    Kustomization only once its ``dependsOn`` are Ready). A ``depends_on`` naming none of them is ignored; a
    cycle keeps the rest in the order given (``check_dependencies`` refuses both when they are written)."""
    names = {k.name for k in kustomizations}
    placed: list[Kustomization] = []
    done: set[str] = set()
    waiting = list(kustomizations)
    while waiting:
        ready = next(
            (k for k in waiting if all(d in done or d not in names or d == k.name for d in k.depends_on)), None
        )
        chosen = ready if ready is not None else waiting[0]  # a cycle: Flux could not order it either
        placed.append(chosen)
        done.add(chosen.name)
        waiting.remove(chosen)
    return placed
