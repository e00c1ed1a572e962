"""Config-as-code: fleet repositories declare clusters' Flux in YAML; a pull request gets a plan to apply.

- ``bot.fleet.schema``: the format (``apiVersion: fluxops.io/v1``, ``kind: Fleet``), its values checked by
  ``bot.fleet.fields`` and its JSON schema in ``bot.fleet.schema_json``;
- ``bot.fleet.load``: ``fleet_files`` and ``load_fleet``, giving a ``bot.fleet.desired.FleetSpec``;
- ``bot.fleet.selection``: ``expand_fleet``, selector documents turned into the clusters of the inventory
  they match, their ``${cluster.…}`` variables filled by ``bot.fleet.templating``;
- ``bot.fleet.plan``: ``make_plan`` (desired vs actual), its diffs in ``bot.fleet.diff`` and the operations
  that apply a plan in ``bot.fleet.operations``;
- ``bot.render.plan_markdown``: the plan as one pull-request comment.

Pure domain code: no I/O here; the worker reads the files and the clusters' state and passes them in.
"""

from __future__ import annotations

from bot.fleet.desired import (
    DesiredCluster,
    DesiredExtension,
    FleetError,
    FleetProblem,
    FleetSelection,
    FleetSpec,
    SelectorMatch,
)
from bot.fleet.diff import Action, ClusterPlan, ConfigChange, ExtensionChange, FieldDiff, KustomizationDiff
from bot.fleet.load import fleet_files, load_fleet
from bot.fleet.operations import CreateConfig, DeleteConfig, InstallExtension, Operation, UpdateConfig, UpdateExtension
from bot.fleet.plan import ActualCluster, Plan, ScopeCheck, make_plan, plan_keys, resolve_clusters
from bot.fleet.selection import expand_fleet

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
    "FleetSelection",
    "FleetSpec",
    "InstallExtension",
    "KustomizationDiff",
    "Operation",
    "Plan",
    "ScopeCheck",
    "SelectorMatch",
    "UpdateConfig",
    "UpdateExtension",
    "expand_fleet",
    "fleet_files",
    "load_fleet",
    "make_plan",
    "plan_keys",
    "resolve_clusters",
]
