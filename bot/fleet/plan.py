"""The plan: what applying a fleet repository would change on each cluster, and the ARM calls that do it.

``make_plan`` compares the declared clusters (``FleetSpec``) with what the clusters run (``ActualCluster``,
read by the worker) and says, per cluster, which Flux configurations and kustomizations are created,
updated (field by field) or deleted, and what changes on the microsoft.flux extension. It never guesses:

- a configuration on a cluster that the repository never declared is left alone ("not managed here");
  one that the base branch declared (``managed``) and the pull request removes is deleted;
- what Azure cannot change in place (``namespace``, ``scope``; and what fluxops' merge patch cannot carry
  yet) is ``blocked``, with what to do instead; a blocked configuration gets no operation at all;
- the extension is never deleted; it is installed first when a new configuration needs it, as az does.

``Plan.operations()`` are plain data in a safe order (extension, then creates and updates, deletes last);
``Plan.digest`` fingerprints the content, so `/flux apply` can check it applies the plan it showed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from bot.commands import ClusterTarget, CredentialRefs
from bot.errors import FluxopsError
from bot.fleet.desired import DesiredCluster, DesiredExtension, FleetSpec
from bot.grammar.flux_settings import check_setting
from bot.grammar.usage import UsageError
from bot.inventory import Inventory, Resolved
from bot.models import (
    ClusterRef,
    ExtensionPatch,
    ExtensionSpec,
    ExtensionState,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    Kustomization,
    KustomizationChange,
)
from bot.render import wording as w

DIGEST_VERSION = "fluxops-plan/1"
_NOTHING: Mapping[str, str] = MappingProxyType({})

#: (cluster, configuration, source URL, credentials named, whether the URL changes) -> (key, problem) when a
#: credential may not go there (the worker's scope check, see ``bot.usecases.scope_checks``); else None
ScopeCheck = Callable[[ClusterRef, str, str, CredentialRefs, bool], tuple[str, str] | None]


class Action(StrEnum):
    CREATE = "create"
    INSTALL = "install"  # the extension
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FieldDiff:
    """One field: its path as the fleet file spells it, before and after as shown (None: not set)."""

    path: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class KustomizationDiff:
    action: Action
    name: str
    fields: tuple[FieldDiff, ...] = ()
    blocked: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigChange:
    """One Flux configuration: what happens to it, field by field, and what to call.

    ``spec`` and ``credentials`` are set for a create, ``patch`` (only the changed fields) for an update.
    """

    action: Action
    name: str
    fields: tuple[FieldDiff, ...] = ()
    kustomizations: tuple[KustomizationDiff, ...] = ()
    blocked: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    spec: FluxConfigSpec | None = None
    credentials: CredentialRefs = field(default_factory=CredentialRefs)
    patch: FluxConfigPatch | None = None

    @property
    def all_blocked(self) -> tuple[str, ...]:
        """Its own blocked reasons and its kustomizations'."""
        return self.blocked + tuple(reason for k in self.kustomizations for reason in k.blocked)


@dataclass(frozen=True)
class ExtensionChange:
    """The microsoft.flux extension: installed (``spec``), updated (``patch``) or unchanged.

    ``implicit``: not declared, but a new configuration needs it. ``unmanaged_settings``: settings on
    the cluster that the fleet files do not mention (left as they are).
    """

    action: Action
    name: str = "flux"
    fields: tuple[FieldDiff, ...] = ()
    implicit: bool = False
    spec: ExtensionSpec | None = None
    patch: ExtensionPatch | None = None
    unmanaged_settings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterPlan:
    """One cluster: ``key`` as the fleet file names it, ``label`` as fluxops shows it (its alias or name)."""

    key: str
    label: str
    cluster: ClusterRef | None = None
    extension: ExtensionChange | None = None
    configs: tuple[ConfigChange, ...] = ()
    #: configurations on the cluster the repository never declared: left alone
    unmanaged: tuple[str, ...] = ()
    #: the cluster cannot be planned (not in the inventory, declared twice, ...): nothing is applied to it
    error: str | None = None

    @property
    def changes(self) -> tuple[ConfigChange, ...]:
        return tuple(c for c in self.configs if c.action is not Action.UNCHANGED)

    @property
    def blocked(self) -> tuple[tuple[str, str], ...]:
        """(configuration, reason) of everything that cannot be applied as declared."""
        return tuple((c.name, reason) for c in self.configs for reason in c.all_blocked)

    @property
    def status(self) -> str:
        """error | blocked | change | unchanged."""
        if self.error is not None:
            return "error"
        if self.blocked:
            return "blocked"
        extension_changes = self.extension is not None and self.extension.action is not Action.UNCHANGED
        return "change" if self.changes or extension_changes else "unchanged"


# ---------------------------------------------------------------------------------------------
# Operations: what to call to apply a plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OnCluster:
    cluster_key: str
    label: str
    cluster: ClusterRef


@dataclass(frozen=True)
class InstallExtension(_OnCluster):
    spec: ExtensionSpec

    @property
    def lock_name(self) -> str:
        return "extension"

    def describe(self) -> str:
        return f"install the flux extension on {self.label}"


@dataclass(frozen=True)
class UpdateExtension(_OnCluster):
    name: str
    patch: ExtensionPatch

    @property
    def lock_name(self) -> str:
        return "extension"

    def describe(self) -> str:
        return f"update the flux extension on {self.label}"


@dataclass(frozen=True)
class CreateConfig(_OnCluster):
    spec: FluxConfigSpec
    credentials: CredentialRefs = field(default_factory=CredentialRefs)

    @property
    def lock_name(self) -> str:
        return self.spec.name

    def describe(self) -> str:
        return f"create flux configuration '{self.spec.name}' on {self.label}"


@dataclass(frozen=True)
class UpdateConfig(_OnCluster):
    name: str
    patch: FluxConfigPatch

    @property
    def lock_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return f"update flux configuration '{self.name}' on {self.label}"


@dataclass(frozen=True)
class DeleteConfig(_OnCluster):
    name: str

    @property
    def lock_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return f"delete flux configuration '{self.name}' on {self.label}"


Operation = InstallExtension | UpdateExtension | CreateConfig | UpdateConfig | DeleteConfig


@dataclass(frozen=True)
class Plan:
    clusters: tuple[ClusterPlan, ...] = ()

    def operations(self) -> list[Operation]:
        """The calls that apply the plan: every extension first, then creates and updates, deletes last.

        Clusters with an error and blocked configurations contribute nothing.
        """
        first: list[Operation] = []
        middle: list[Operation] = []
        last: list[Operation] = []
        for plan in self.clusters:
            if plan.error is not None or plan.cluster is None:
                continue
            where = (plan.key, plan.label, plan.cluster)
            ext = plan.extension
            if ext is not None and ext.spec is not None and ext.action is Action.INSTALL:
                first.append(InstallExtension(*where, spec=ext.spec))
            elif ext is not None and ext.patch is not None and ext.action is Action.UPDATE:
                first.append(UpdateExtension(*where, name=ext.name, patch=ext.patch))
            for change in plan.configs:
                if change.all_blocked:
                    continue
                if change.action is Action.CREATE and change.spec is not None:
                    middle.append(CreateConfig(*where, spec=change.spec, credentials=change.credentials))
                elif change.action is Action.UPDATE and change.patch is not None:
                    middle.append(UpdateConfig(*where, name=change.name, patch=change.patch))
                elif change.action is Action.DELETE:
                    last.append(DeleteConfig(*where, name=change.name))
        return first + middle + last

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
        """``sha256:<hex>`` of the plan's content: equal plans, equal digests; any change, another one."""
        content = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(f"{DIGEST_VERSION}\n{content}".encode()).hexdigest()

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
    return Plan(tuple(sorted(plans, key=lambda p: (p.key.casefold(), p.key))))


def _scoped(plan: ClusterPlan, desired: DesiredCluster | None, scope: ScopeCheck) -> ClusterPlan:
    """``plan`` with every configuration blocked whose credentials ``scope`` refuses (file:line and key named)."""
    if plan.cluster is None or desired is None:
        return plan
    changes: list[ConfigChange] = []
    for change in plan.configs:
        problem: tuple[str, str] | None = None
        prefix = f"configurations.{change.name}.source"
        if change.action is Action.CREATE and change.spec is not None and isinstance(change.spec.source, GitSource):
            problem = scope(plan.cluster, change.name, change.spec.source.url, change.credentials, False)
        elif change.action is Action.UPDATE and change.patch is not None and change.patch.url is not None:
            problem = scope(plan.cluster, change.name, change.patch.url, desired.credentials_for(change.name), True)
        if problem is not None:
            key, text = problem
            where = f"{desired.origin}: " if desired.origin else ""
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
            changes.append(_create(spec, desired.credentials_for(name)))
        elif spec is not None and state is not None:
            changes.append(_update(spec, state))
        elif state is not None and name in managed:
            changes.append(_delete(state))
        elif state is not None:
            unmanaged.append(name)
    creates = any(c.action is Action.CREATE for c in changes)
    extension = _extension(desired.extension if desired else None, actual.extension, needed=creates)
    return ClusterPlan(
        key=key,
        label=actual.label,
        cluster=actual.cluster,
        extension=extension,
        configs=tuple(changes),
        unmanaged=tuple(unmanaged),
    )


# -- values as shown ---------------------------------------------------------------------------


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _names(values: Sequence[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _pairs(values: Sequence[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values) + "}"


def _provider(value: str | None) -> str:
    return (value or "Generic").lower()


# -- configurations ----------------------------------------------------------------------------

_RECREATE = (
    "give the configuration a new name (the plan then creates it and deletes '{name}'), or remove it in one "
    "pull request and add it back in the next"
)


def _create(spec: FluxConfigSpec, refs: CredentialRefs) -> ConfigChange:
    source = spec.source
    fields = [FieldDiff("namespace", None, spec.namespace), FieldDiff("scope", None, spec.scope)]
    if spec.suspend:
        fields.append(FieldDiff("suspend", None, "true"))
    if isinstance(source, GitSource):
        fields += [
            FieldDiff("source.url", None, source.url),
            FieldDiff("source.ref", None, w.reference(source.ref)),
            FieldDiff("source.interval", None, w.interval(source.sync_interval_seconds)),
            FieldDiff("source.timeout", None, w.interval(source.timeout_seconds)),
        ]
        optional = (
            ("source.provider", source.provider and source.provider.lower()),
            ("source.httpsUser", source.https_user),
            ("source.httpsKeyRef", refs.https_key),
            ("source.sshPrivateKeyRef", refs.ssh_private_key),
            ("source.knownHostsRef", refs.known_hosts),
            ("source.localAuthRef", source.local_auth_ref),
        )
        fields += [FieldDiff(path, None, value) for path, value in optional if value]
    kustomizations = tuple(
        KustomizationDiff(Action.CREATE, k.name, tuple(_kustomization_fields(k))) for k in spec.kustomizations
    )
    return ConfigChange(
        Action.CREATE,
        spec.name,
        tuple(fields),
        kustomizations,
        spec=spec,
        credentials=refs,
    )


def _kustomization_fields(k: Kustomization) -> list[FieldDiff]:
    """A new kustomization's fields: path and prune always, the others when they differ from the default."""
    fields = [FieldDiff("path", None, k.path or "(source root)")]
    if k.depends_on:
        fields.append(FieldDiff("dependsOn", None, _names(k.depends_on)))
    fields.append(FieldDiff("prune", None, _bool(k.prune)))
    if k.force:
        fields.append(FieldDiff("force", None, "true"))
    if not k.wait:
        fields.append(FieldDiff("wait", None, "false"))
    if k.sync_interval_seconds != 600:
        fields.append(FieldDiff("interval", None, w.interval(k.sync_interval_seconds)))
    if k.retry_interval_seconds is not None:
        fields.append(FieldDiff("retryInterval", None, w.interval(k.retry_interval_seconds)))
    if k.timeout_seconds != 600:
        fields.append(FieldDiff("timeout", None, w.interval(k.timeout_seconds)))
    if k.substitute:
        fields.append(FieldDiff("substitute", None, _pairs(k.substitute)))
    return fields


def _delete(state: FluxConfigState) -> ConfigChange:
    kustomizations = state.spec.kustomizations if state.spec is not None else ()
    pruned = [k.name for k in kustomizations if k.prune]
    warnings = (
        (f"deleting it removes from the cluster what {_listing(pruned)} applied (prune: true)",) if pruned else ()
    )
    return ConfigChange(
        Action.DELETE,
        state.name,
        kustomizations=tuple(KustomizationDiff(Action.DELETE, k.name) for k in kustomizations),
        warnings=warnings,
    )


def _listing(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    noun = "kustomization" if len(quoted) == 1 else "kustomizations"
    return f"{noun} {', '.join(quoted)}"


def _update(spec: FluxConfigSpec, state: FluxConfigState) -> ConfigChange:
    name = spec.name
    have = state.spec
    if have is None or not isinstance(have.source, GitSource) or not isinstance(spec.source, GitSource):
        kind = have.source.kind if have is not None else state.source_kind
        return ConfigChange(
            Action.UPDATE,
            name,
            (FieldDiff("source.kind", kind, GitSource.kind),),
            blocked=(
                f"'{name}' on the cluster follows a {kind} source, and fleet files declare git "
                f"sources only: {_RECREATE.format(name=name)}",
            ),
        )
    fields: list[FieldDiff] = []
    blocked: list[str] = []
    patch = FluxConfigPatch()

    for attribute in ("namespace", "scope"):
        old, new = getattr(have, attribute), getattr(spec, attribute)
        if old != new:
            fields.append(FieldDiff(attribute, old, new))
            blocked.append(
                f"'{attribute}' is set when a configuration is created and Azure cannot change it: "
                + _RECREATE.format(name=name)
            )
    if have.suspend != spec.suspend:
        fields.append(FieldDiff("suspend", _bool(have.suspend), _bool(spec.suspend)))
        patch = replace(patch, suspend=spec.suspend)

    old_src, new_src = have.source, spec.source
    if old_src.url != new_src.url:
        fields.append(FieldDiff("source.url", old_src.url, new_src.url))
        patch = replace(patch, url=new_src.url)
    if old_src.ref != new_src.ref:
        fields.append(FieldDiff("source.ref", w.reference(old_src.ref), w.reference(new_src.ref)))
        patch = replace(patch, ref=new_src.ref)
    if old_src.sync_interval_seconds != new_src.sync_interval_seconds:
        fields.append(
            FieldDiff(
                "source.interval", w.interval(old_src.sync_interval_seconds), w.interval(new_src.sync_interval_seconds)
            )
        )
        patch = replace(patch, sync_interval_seconds=new_src.sync_interval_seconds)
    if old_src.timeout_seconds != new_src.timeout_seconds:
        fields.append(
            FieldDiff("source.timeout", w.interval(old_src.timeout_seconds), w.interval(new_src.timeout_seconds))
        )
        patch = replace(patch, timeout_seconds=new_src.timeout_seconds)
    if (old_src.https_user or None) != (new_src.https_user or None):
        fields.append(FieldDiff("source.httpsUser", old_src.https_user or None, new_src.https_user))
        if new_src.https_user:
            patch = replace(patch, https_user=new_src.https_user)
        else:
            blocked.append("'source.httpsUser' cannot be removed in place: " + _RECREATE.format(name=name))
    if _provider(old_src.provider) != _provider(new_src.provider):
        fields.append(FieldDiff("source.provider", _provider(old_src.provider), _provider(new_src.provider)))
        blocked.append("fluxops cannot change 'source.provider' in place: " + _RECREATE.format(name=name))
    if (old_src.local_auth_ref or None) != (new_src.local_auth_ref or None):
        fields.append(FieldDiff("source.localAuthRef", old_src.local_auth_ref or None, new_src.local_auth_ref))
        blocked.append("fluxops cannot change 'source.localAuthRef' in place: " + _RECREATE.format(name=name))

    kustomizations, k_changes = _kustomizations(have.kustomizations, spec.kustomizations)
    warnings = tuple(warning for k in kustomizations for warning in k.warnings)
    changed = bool(fields) or any(k.action is not Action.UNCHANGED for k in kustomizations)
    if not changed:
        return ConfigChange(Action.UNCHANGED, name)
    flux_patch = replace(patch, kustomizations=k_changes)
    return ConfigChange(
        Action.UPDATE,
        name,
        tuple(fields),
        tuple(k for k in kustomizations if k.action is not Action.UNCHANGED),
        blocked=tuple(blocked),
        warnings=warnings,
        patch=flux_patch,
    )


def _kustomizations(
    have: Sequence[Kustomization], want: Sequence[Kustomization]
) -> tuple[list[KustomizationDiff], tuple[KustomizationChange, ...]]:
    old = {k.name: k for k in have}
    new = {k.name: k for k in want}
    diffs: list[KustomizationDiff] = []
    changes: list[KustomizationChange] = []
    for name in [*new, *(n for n in old if n not in new)]:
        before, after = old.get(name), new.get(name)
        if before is None and after is not None:
            blocked = (
                (
                    f"kustomization '{name}' has 'substitute', which fluxops can only set when the whole "
                    "configuration is created: " + _RECREATE.format(name="the configuration"),
                )
                if after.substitute
                else ()
            )
            diffs.append(KustomizationDiff(Action.CREATE, name, tuple(_kustomization_fields(after)), blocked))
            changes.append(
                KustomizationChange(
                    name=name,
                    path=after.path,
                    depends_on=after.depends_on,
                    prune=after.prune,
                    force=after.force,
                    wait=after.wait,
                    sync_interval_seconds=after.sync_interval_seconds,
                    retry_interval_seconds=after.retry_interval_seconds,
                    timeout_seconds=after.timeout_seconds,
                )
            )
        elif after is None and before is not None:
            warnings = (
                (f"removing kustomization '{name}' removes from the cluster what it applied (prune: true)",)
                if before.prune
                else ()
            )
            diffs.append(KustomizationDiff(Action.DELETE, name, warnings=warnings))
            changes.append(KustomizationChange(name=name, remove=True))
        elif before is not None and after is not None:
            diff, change = _kustomization_update(before, after)
            diffs.append(diff)
            if change is not None:
                changes.append(change)
    return diffs, tuple(changes)


def _kustomization_update(
    before: Kustomization, after: Kustomization
) -> tuple[KustomizationDiff, KustomizationChange | None]:
    name = after.name
    fields: list[FieldDiff] = []
    blocked: list[str] = []
    change = KustomizationChange(name=name)
    if before.path != after.path:
        fields.append(FieldDiff("path", before.path, after.path))
        change = replace(change, path=after.path)
    if set(before.depends_on) != set(after.depends_on):
        fields.append(FieldDiff("dependsOn", _names(before.depends_on), _names(after.depends_on)))
        change = replace(change, depends_on=after.depends_on)
    for attribute in ("prune", "force", "wait"):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            fields.append(FieldDiff(attribute, _bool(old), _bool(new)))
            change = replace(change, **{attribute: new})
    for attribute, path in (("sync_interval_seconds", "interval"), ("timeout_seconds", "timeout")):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            fields.append(FieldDiff(path, w.interval(old), w.interval(new)))
            change = replace(change, **{attribute: new})
    # retryInterval left out of the file is not managed (Azure then retries at the sync interval)
    if after.retry_interval_seconds is not None and before.retry_interval_seconds != after.retry_interval_seconds:
        old_retry = before.retry_interval_seconds
        fields.append(
            FieldDiff(
                "retryInterval",
                w.interval(old_retry) if old_retry is not None else None,
                w.interval(after.retry_interval_seconds),
            )
        )
        change = replace(change, retry_interval_seconds=after.retry_interval_seconds)
    if before.substitute != after.substitute:
        fields.append(FieldDiff("substitute", _pairs(before.substitute), _pairs(after.substitute)))
        blocked.append(
            f"'substitute' of kustomization '{name}' can only be set when it is created: rename the kustomization "
            "(the plan then adds the new one and removes the old)"
        )
    if not fields:
        return KustomizationDiff(Action.UNCHANGED, name), None
    touched = change if change != KustomizationChange(name=name) else None
    return KustomizationDiff(Action.UPDATE, name, tuple(fields), tuple(blocked)), touched


# -- the extension -----------------------------------------------------------------------------


def _extension(
    desired: DesiredExtension | None, actual: ExtensionState | None, *, needed: bool
) -> ExtensionChange | None:
    if actual is None:
        if desired is not None:
            spec = desired.install_spec()
            return ExtensionChange(Action.INSTALL, spec.name, tuple(_install_fields(spec)), spec=spec)
        if needed:
            spec = ExtensionSpec()
            return ExtensionChange(Action.INSTALL, spec.name, tuple(_install_fields(spec)), implicit=True, spec=spec)
        return None
    if desired is None:
        return None
    fields: list[FieldDiff] = []
    auto = release = pinned = None
    if (
        desired.auto_upgrade_minor_version is not None
        and desired.auto_upgrade_minor_version != actual.auto_upgrade_minor_version
    ):
        old = actual.auto_upgrade_minor_version
        fields.append(
            FieldDiff(
                "autoUpgradeMinorVersion",
                _bool(old) if old is not None else None,
                _bool(desired.auto_upgrade_minor_version),
            )
        )
        auto = desired.auto_upgrade_minor_version
    if desired.release_train is not None and desired.release_train.lower() != (actual.release_train or "").lower():
        fields.append(FieldDiff("releaseTrain", actual.release_train, desired.release_train))
        release = desired.release_train
    running = actual.version or actual.current_version
    if desired.version is not None and desired.version != running:
        fields.append(FieldDiff("version", running, desired.version))
        pinned = desired.version
    current = {key.casefold(): (key, _normalized(key, value)) for key, value in actual.settings}
    settings: list[tuple[str, str | None]] = []
    for key, value in desired.settings:
        old_value = current.get(key.casefold(), (key, None))[1]
        if old_value != value:
            fields.append(FieldDiff(f"settings.{key}", old_value, value))
            settings.append((key, value))
    declared = {key.casefold() for key, _ in desired.settings}
    unmanaged = tuple(sorted(key for key, _ in actual.settings if key.casefold() not in declared))
    if not fields:
        return ExtensionChange(Action.UNCHANGED, actual.name, unmanaged_settings=unmanaged)
    patch = ExtensionPatch(
        auto_upgrade_minor_version=auto, release_train=release, version=pinned, settings=tuple(settings)
    )
    return ExtensionChange(Action.UPDATE, actual.name, tuple(fields), patch=patch, unmanaged_settings=unmanaged)


def _install_fields(spec: ExtensionSpec) -> list[FieldDiff]:
    fields = [
        FieldDiff("version", None, spec.version or "latest"),
        FieldDiff("autoUpgradeMinorVersion", None, _bool(spec.auto_upgrade_minor_version)),
        FieldDiff("releaseTrain", None, spec.release_train),
    ]
    return fields + [FieldDiff(f"settings.{key}", None, value) for key, value in spec.settings]


def _normalized(key: str, value: str) -> str:
    """A setting as the fleet file would write it ("True" from ARM is "true"); unknown ones as they are."""
    try:
        return check_setting(key, value)[1]
    except UsageError:
        return value
