"""The plan: what applying a fleet repository would change on each cluster, and the ARM calls that do it.

``make_plan`` compares the declared clusters (``FleetSpec``) with what the clusters run (``ActualCluster``,
read by the worker) and says, per cluster, which Flux configurations and kustomizations are created,
updated (field by field) or deleted, and what changes on the microsoft.flux extension. It never guesses:

- a configuration on a cluster that the repository never declared is left alone ("not managed here");
  one that the base branch declared (``managed``) and the pull request removes is deleted;
- what Azure cannot change in place (``namespace``, ``scope``; and what fluxops' merge patch cannot carry
  yet) is ``blocked``, with what to do instead; a blocked configuration gets no operation at all;
- the extension is never deleted; it is installed first when a new configuration needs it, as az does.

The diffs themselves are made in ``bot.fleet.config_diff`` and ``bot.fleet.extension_diff`` (types in
``bot.fleet.diff``). ``Plan.operations()`` are plain data in a safe order (``bot.fleet.operations``);
``Plan.digest`` fingerprints them, so `/flux apply` can check it applies the plan it showed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from bot.commands import ClusterTarget, CredentialRefs
from bot.errors import FluxopsError
from bot.fleet.config_diff import create_diff, delete_diff, update_diff
from bot.fleet.desired import DesiredCluster, FleetSpec, SelectorMatch
from bot.fleet.diff import Action, ClusterPlan, ConfigChange
from bot.fleet.extension_diff import extension_diff
from bot.fleet.operations import Operation, digest, operations
from bot.inventory import Inventory, Resolved
from bot.models import ClusterRef, ExtensionState, FluxConfigState
from bot.scopes import moves_source, scope_url

_NOTHING: Mapping[str, str] = MappingProxyType({})
SELECTION_DIGEST_VERSION = "fluxops-plan-selections/1"

#: (cluster, configuration, source URL, credentials named, whether the URL changes) -> (key, problem) when a
#: credential may not go there (the worker's scope check, see ``bot.usecases.scope_checks``); else None
ScopeCheck = Callable[[ClusterRef, str, str, CredentialRefs, bool], tuple[str, str] | None]


@dataclass(frozen=True)
class Plan:
    """What applying the fleet files changes, per cluster (in a stable order)."""

    clusters: tuple[ClusterPlan, ...] = ()
    #: what each selector document selected (``bot.fleet.selection``), by file
    selections: tuple[SelectorMatch, ...] = ()

    def operations(self) -> list[Operation]:
        """The calls that apply the plan (``bot.fleet.operations.operations``)."""
        return operations(self.clusters)

    @property
    def is_empty(self) -> bool:
        """Nothing to apply and nothing wrong: the repository and the clusters agree."""
        return not self.operations() and not self.problems()

    @property
    def can_apply(self) -> bool:
        """There is something to apply and nothing is blocked or in error."""
        return bool(self.operations()) and not self.problems()

    def problems(self) -> list[str]:
        """Every error and blocked item, one line each ("demo-arc: ...")."""
        found: list[str] = []
        for plan in self.clusters:
            if plan.error is not None:
                found.append(f"{plan.label}: {plan.error}")
            found += [f"{plan.label}, configuration '{name}': {reason}" for name, reason in plan.blocked]
        return found

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of what applying the plan writes (``bot.fleet.operations.digest``) and, when selector
        documents are in play, of which clusters each selected: a cluster that comes to match (or stops
        matching) changes the plan even when it already runs what the selector declares."""
        written = digest(self.operations())
        if not self.selections:
            return written
        selected = [
            {
                "origin": m.origin,
                "selector": [list(pair) for pair in m.selector],
                "clusters": sorted(arm.casefold() for _, arm in m.clusters),
            }
            for m in self.selections
        ]
        text = json.dumps([written, selected], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(f"{SELECTION_DIGEST_VERSION}\n{text}".encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        """Clusters by status (error, blocked, change, unchanged) and configurations by action."""
        tally: dict[str, int] = {}
        for plan in self.clusters:
            tally[plan.status] = tally.get(plan.status, 0) + 1
            for change in plan.changes:
                tally[change.action.value] = tally.get(change.action.value, 0) + 1
        return tally


# ---------------------------------------------------------------------------------------------
# Making the plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActualCluster:
    """What a cluster runs now, as the worker read it from ARM (``extension``: its microsoft.flux, if any)."""

    label: str
    cluster: ClusterRef
    configs: tuple[FluxConfigState, ...] = ()
    extension: ExtensionState | None = None


def plan_keys(desired: FleetSpec, managed: Iterable[tuple[str, str]] = ()) -> list[str]:
    """Every cluster key the worker must look up: the declared ones and those the base branch declared."""
    keys: dict[str, str] = {}
    for key in [*desired, *(cluster for cluster, _ in managed)]:
        keys.setdefault(key.casefold(), key)
    return sorted(keys.values(), key=str.casefold)


def resolve_clusters(keys: Iterable[str], inventory: Inventory) -> tuple[dict[str, Resolved], dict[str, str]]:
    """Each key's cluster in the inventory, and for the keys that have none, why (for ``make_plan``)."""
    found: dict[str, Resolved] = {}
    failed: dict[str, str] = {}
    for key in keys:
        try:
            found[key] = inventory.resolve(ClusterTarget(key))
        except FluxopsError as exc:
            failed[key] = exc.user_text()
    return found, failed


def make_plan(
    desired: FleetSpec,
    actual: Mapping[str, ActualCluster],
    *,
    managed: Iterable[tuple[str, str]] = (),
    unresolved: Mapping[str, str] = _NOTHING,
    scope: ScopeCheck | None = None,
) -> Plan:
    """The plan that brings the clusters to what ``desired`` declares.

    ``actual`` holds the clusters the keys resolved to (keys as in the fleet files); a declared key
    missing from it is an error for that cluster (``unresolved`` says why, e.g. the inventory's message).
    ``managed`` are the (cluster key, configuration) pairs the base branch declared: those the pull
    request no longer declares are deleted; any other configuration on a cluster is left alone.
    ``scope`` checks where credentials go: a configuration it objects to is blocked, naming file and key.
    """
    if desired.selections:
        raise ValueError("make_plan needs the selector documents expanded first (bot.fleet.selection.expand_fleet)")
    by_fold = {key.casefold(): value for key, value in actual.items()}
    why = {key.casefold(): text for key, text in unresolved.items()}

    def lookup(key: str) -> ActualCluster | None:
        return actual.get(key) or by_fold.get(key.casefold())

    plans: list[ClusterPlan] = []
    # arm id -> (key, actual, desired): keys that name the same cluster are one entry
    entries: dict[str, tuple[str, ActualCluster, DesiredCluster | None]] = {}
    for key, cluster in desired.items():
        found = lookup(key)
        if found is None:
            plans.append(ClusterPlan(key, key, error=_not_found(key, why)))
            continue
        arm = found.cluster.arm_id.casefold()
        if arm in entries:
            first = entries[arm][0]
            plans.append(
                ClusterPlan(
                    key,
                    found.label,
                    found.cluster,
                    error=f"'{key}' and '{first}' are the same cluster ({found.cluster.arm_id}): "
                    "declare it once, under one name",
                )
            )
            continue
        entries[arm] = (key, found, cluster)

    managed_pairs: set[tuple[str, str]] = set()
    lost: dict[str, list[str]] = {}
    declared = {key.casefold() for key in desired}
    for key, name in managed:
        found = lookup(key)
        if found is None:
            if key.casefold() not in declared:
                lost.setdefault(key, []).append(name)
            continue
        arm = found.cluster.arm_id.casefold()
        managed_pairs.add((arm, name))
        entries.setdefault(arm, (key, found, None))
    for key, names in lost.items():
        listed = ", ".join(f"'{n}'" for n in sorted(set(names)))
        plans.append(
            ClusterPlan(
                key,
                key,
                error=f"the base branch declares configurations {listed} on this cluster, which is not in the "
                f"inventory now ({_not_found(key, why)}), so they cannot be deleted by this plan",
            )
        )

    for arm, (key, found, declared_cluster) in entries.items():
        mine = {name for cluster_arm, name in managed_pairs if cluster_arm == arm}
        planned = _cluster_plan(key, found, declared_cluster, mine)
        plans.append(_scoped(planned, declared_cluster, scope) if scope is not None else planned)
    return Plan(tuple(sorted(plans, key=lambda p: (p.key.casefold(), p.key))), selections=desired.matches)


def _scoped(plan: ClusterPlan, desired: DesiredCluster | None, scope: ScopeCheck) -> ClusterPlan:
    """``plan`` with every configuration blocked whose credentials ``scope`` refuses (file:line and key named)."""
    if plan.cluster is None or desired is None:
        return plan
    changes: list[ConfigChange] = []
    for change in plan.configs:
        problem: tuple[str, str] | None = None
        prefix = f"configurations.{change.name}.source"
        # a bucket's or blob container's credential is scoped by ENDPOINT/BUCKET, as the worker checks it
        if change.action is Action.CREATE and change.spec is not None:
            problem = scope(plan.cluster, change.name, scope_url(change.spec.source), change.credentials, False)
        elif change.action is Action.UPDATE and change.patch is not None and moves_source(change.patch):
            wanted = desired.configuration(change.name)
            url = scope_url(wanted.source) if wanted is not None else change.patch.url or ""
            problem = scope(plan.cluster, change.name, url, desired.credentials_for(change.name), True)
        if problem is not None:
            key, text = problem
            origin = desired.origin_of(change.name)
            where = f"{origin}: " if origin else ""
            change = replace(change, blocked=(*change.blocked, f"{where}{prefix}.{key}: {text}"))
        changes.append(change)
    return replace(plan, configs=tuple(changes))


def _not_found(key: str, why: Mapping[str, str]) -> str:
    return why.get(key.casefold()) or f"no cluster '{key}' in the inventory"


def _cluster_plan(key: str, actual: ActualCluster, desired: DesiredCluster | None, managed: set[str]) -> ClusterPlan:
    existing = {state.name: state for state in actual.configs if state.name}
    wanted = {spec.name: spec for spec in desired.configurations} if desired is not None else {}
    changes: list[ConfigChange] = []
    unmanaged: list[str] = []
    for name in sorted(set(existing) | set(wanted)):
        spec, state = wanted.get(name), existing.get(name)
        if spec is not None and state is None:
            assert desired is not None
            changes.append(create_diff(spec, desired.credentials_for(name)))
        elif spec is not None and state is not None:
            changes.append(update_diff(spec, state))
        elif state is not None and name in managed:
            changes.append(delete_diff(state))
        elif state is not None:
            unmanaged.append(name)
    creates = any(c.action is Action.CREATE for c in changes)
    extension = extension_diff(desired.extension if desired else None, actual.extension, needed=creates)
    return ClusterPlan(
        key=key,
        label=actual.label,
        cluster=actual.cluster,
        extension=extension,
        configs=tuple(changes),
        unmanaged=tuple(unmanaged),
        selected_by=desired.selected_by if desired is not None else (),
    )
