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
