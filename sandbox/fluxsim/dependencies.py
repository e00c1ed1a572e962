"""Kustomizations in dependsOn order, and what a dependency that is not Ready makes a kustomization report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.fluxsim.state import ConfigState, as_list


def dependency_order(specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Kustomization names, each after its dependencies; members of a cycle come last."""
    done: list[str] = []
    remaining = list(specs)
    while remaining:
        ready = [n for n in remaining if all(d in done or d not in specs for d in as_list(specs[n].get("dependsOn")))]
        if not ready:
            return done + remaining
        done += ready
        remaining = [n for n in remaining if n not in ready]
    return done


def blocking_dependency(spec: Mapping[str, Any], state: ConfigState, namespace: str, config: str) -> str:
    """Why a dependency blocks this kustomization, or "" when all are Ready."""
    for dep in as_list(spec.get("dependsOn")):
        obj_name = f"{config}-{dep}"
        obj = state.kustomizations.get(str(dep))
        if obj is None:
            return (
                f"unable to get '{namespace}/{obj_name}' dependency: "
                f'Kustomization.kustomize.toolkit.fluxcd.io "{obj_name}" not found'
            )
        if obj.status != "True":
            return f"dependency '{namespace}/{obj_name}' is not ready"
    return ""


def go_duration(seconds: Any) -> str:
    """Seconds as Go prints a time.Duration: 600 -> "10m0s", 30 -> "30s", 3600 -> "1h0m0s"."""
    total = int(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
