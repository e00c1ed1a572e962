"""Config-as-code: fleet repositories declare clusters' Flux in YAML; a pull request gets a plan to apply.

- ``bot.fleet.spec``: the format (``apiVersion: fluxops.io/v1``, ``kind: Fleet``) and ``load_fleet``;
- ``bot.fleet.plan``: ``make_plan`` (desired vs actual) and the operations that apply a plan;
- ``bot.render.plan_markdown``: the plan as one pull-request comment.

Pure domain code: no I/O here; the worker reads the files and the clusters' state and passes them in.
"""

from __future__ import annotations

from bot.fleet.plan import (
    Action,
    ActualCluster,
    ClusterPlan,
    ConfigChange,
    CreateConfig,
    DeleteConfig,
    ExtensionChange,
    FieldDiff,
    InstallExtension,
    KustomizationDiff,
    Operation,
    Plan,
    UpdateConfig,
    UpdateExtension,
    make_plan,
    plan_keys,
    resolve_clusters,
)
from bot.fleet.spec import (
    DesiredCluster,
    DesiredExtension,
    FleetError,
    FleetProblem,
    FleetSpec,
    fleet_files,
    load_fleet,
)

__all__ = [
    "Action",
    "ActualCluster",
    "ClusterPlan",
    "ConfigChange",
    "CreateConfig",
    "DeleteConfig",
    "DesiredCluster",
    "DesiredExtension",
    "ExtensionChange",
    "FieldDiff",
    "FleetError",
    "FleetProblem",
    "FleetSpec",
    "InstallExtension",
    "KustomizationDiff",
    "Operation",
    "Plan",
    "UpdateConfig",
    "UpdateExtension",
    "fleet_files",
    "load_fleet",
    "make_plan",
    "plan_keys",
    "resolve_clusters",
]
