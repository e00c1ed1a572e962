"""In-memory fakes of the bot.ports Protocols, for use-case tests: no Redis, no HTTP, no Celery, no real time.

FakeFluxConfigs and FakeExtensions keep state per (cluster, name). Each write returns a FakeOperation
whose ``result()`` applies the change, after whatever the test scripted (StillRunning a few times, a
failure, or a worker that dies while Azure finishes). Reconciliation moves on with each ``get()``:
Pending, then Compliant, or Non-Compliant for a kustomization path the test marked bad, or Suspended
for a suspended configuration. ``World`` wires them into ``JobPorts`` the way workers/wiring.py does.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from bot import errors
from bot.commands import ClusterTarget
from bot.jobs import JobRecord
from bot.models import (
    Cluster,
    ClusterRef,
    ClusterType,
    Condition,
    ExtensionPatch,
    ExtensionSpec,
    ExtensionState,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    Kustomization,
    ObjectStatus,
    ProtectedSettings,
    RepositoryRef,
    Secret,
)
from bot.usecases import JobPorts, ResolvedCluster, WatchPolicy, run_job
from bot.views import AuditEntry, ClusterRow, ConfirmView, JobView, Phase, TextView

T = TypeVar("T")

#: the seed tutorial's Arc cluster
CLUSTER = Cluster(
    ClusterRef("00000000-0000-0000-0000-000000000001", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc"),
    "eastus",
)
FLUX_VERSION = "1.17.3"
REVISION = "main@sha1:4f1bdad"

PENDING = "Pending"
COMPLIANT = "Compliant"
NON_COMPLIANT = "Non-Compliant"
SUSPENDED = "Suspended"


class WorkerDied(Exception):
    """A worker killed mid-operation. Not a FluxopsError, so nothing in the job catches it."""


@dataclass
class Script:
    """How the next operation of a fake goes."""

    #: ``result()`` raises StillRunning this many times first
    still_running: int = 0
    #: then raises this, every time (an ARM operation that ended Failed)
    failure: errors.FluxopsError | None = None
    #: Azure finishes the change but the worker waiting for it dies (once)
    worker_dies: bool = False


class FakeOperation(Generic[T]):
    """An ARM long-running operation: ``result()`` applies the change once, then returns its value."""

    def __init__(self, token: str, apply: Callable[[], T], script: Script) -> None:
        self._token = token
        self._apply = apply
        self._script = replace(script)
        self._finished = False
        self._value: T | None = None
        self.polls = 0

    @property
    def token(self) -> str:
        return self._token

    def done(self) -> bool:
        return self._finished

    def result(self, timeout: float | None = None) -> T:
        self.polls += 1
        if not self._finished:
            if self._script.still_running > 0:
                self._script.still_running -= 1
                raise errors.StillRunning(f"operation {self._token} is still running", retry_after=timeout)
            if self._script.failure is not None:
                raise self._script.failure
            self._value = self._apply()
            self._finished = True
        if self._script.worker_dies:
            self._script.worker_dies = False
            raise WorkerDied(self._token)
        return cast(T, self._value)


class _Operations:
    """What both ARM fakes share: a call log, scripted operations, tokens that ``resume`` finds again."""

    def __init__(self, prefix: str) -> None:
        self.calls: list[tuple[str, str]] = []
        self.operations: dict[str, FakeOperation[Any]] = {}
        self.scripts: deque[Script] = deque()
        self.begin_errors: deque[errors.FluxopsError] = deque()
        self._prefix = prefix
        self._ids = itertools.count(1)

    def script(
        self, *, still_running: int = 0, failure: errors.FluxopsError | None = None, worker_dies: bool = False
    ) -> None:
        """Script the next operation begun."""
        self.scripts.append(Script(still_running=still_running, failure=failure, worker_dies=worker_dies))

    def fail_next_begin(self, error: errors.FluxopsError) -> None:
        """The next ``begin_*`` raises ``error`` (a 429, a 5xx) before any operation exists."""
        self.begin_errors.append(error)

    def count(self, call: str) -> int:
        return sum(1 for name, _ in self.calls if name == call)

    def writes(self) -> list[tuple[str, str]]:
        """The ``begin_*`` and ``resume`` calls, in order."""
        return [c for c in self.calls if c[0].startswith("begin_") or c[0] == "resume"]

    def _begin(self, call: str, name: str, apply: Callable[[], T]) -> FakeOperation[T]:
        self.calls.append((call, name))
        if self.begin_errors:
            raise self.begin_errors.popleft()
        script = self.scripts.popleft() if self.scripts else Script()
        operation = FakeOperation(f"{self._prefix}-{next(self._ids)}", apply, script)
        self.operations[operation.token] = operation
        return operation

    def _resume(self, token: str) -> FakeOperation[Any]:
        self.calls.append(("resume", token))
        operation = self.operations.get(token)
        if operation is None:
            raise errors.NotFound(f"no operation {token}")
        return operation


@dataclass
class _Config:
    spec: FluxConfigSpec
    protected: ProtectedSettings | None = None
    provisioning: str = "Succeeded"
    error_message: str | None = None
    compliance: str = PENDING
    #: ``get()`` calls still answered Pending; None: it never settles
    pending_gets: int | None = 0
    #: objects the kustomizations applied (HelmReleases, ...), shown once it is settled
    applied: tuple[ObjectStatus, ...] = ()


def _ready(status: str, reason: str, message: str) -> tuple[Condition, ...]:
    return (Condition(type="Ready", status=status, reason=reason, message=message),)


def applied_object(config: str, kustomization: str, kind: str, name: str, namespace: str = "default") -> ObjectStatus:
    """An object on the cluster that Flux Kustomization ``<config>-<kustomization>`` applied."""
    return ObjectStatus(
        name=name,
        namespace=namespace,
        kind=kind,
        compliance_state=COMPLIANT,
        conditions=_ready("True", "ReconciliationSucceeded", "Release reconciliation succeeded"),
        applied_by=f"{config}-{kustomization}",
    )


#: the tutorial's configuration, as it is on the cluster once both kustomizations are applied
TUTORIAL_SPEC = FluxConfigSpec(
    name="cluster-config",
    source=GitSource(url="https://github.com/Azure/gitops-flux2-kustomize-helm-mt", ref=RepositoryRef(branch="main")),
    namespace="cluster-config",
    kustomizations=(
        Kustomization(name="infra", path="./infrastructure", prune=True),
        Kustomization(name="apps", path="./apps/staging", depends_on=("infra",), prune=True),
    ),
)
TUTORIAL_APPLIED = (
    applied_object("cluster-config", "infra", "HelmRelease", "nginx", "nginx"),
    applied_object("cluster-config", "infra", "HelmRelease", "redis", "redis"),
    applied_object("cluster-config", "apps", "HelmRelease", "podinfo", "podinfo"),
)

_CHANGE_FIELDS = (
    "path",
    "depends_on",
    "prune",
    "force",
    "wait",
    "sync_interval_seconds",
    "retry_interval_seconds",
    "timeout_seconds",
)


def patched(spec: FluxConfigSpec, patch: FluxConfigPatch) -> FluxConfigSpec:
    """``spec`` after a JSON merge patch, as ARM applies one."""
    source = spec.source
    if isinstance(source, GitSource):
        source = replace(
            source,
            url=patch.url or source.url,
            ref=patch.ref or source.ref,
            https_user=patch.https_user if patch.https_user is not None else source.https_user,
            sync_interval_seconds=patch.sync_interval_seconds or source.sync_interval_seconds,
            timeout_seconds=patch.timeout_seconds or source.timeout_seconds,
        )
    kustomizations = list(spec.kustomizations)
    for change in patch.kustomizations:
        index = next((i for i, k in enumerate(kustomizations) if k.name == change.name), None)
        if change.remove:
            if index is not None:
                del kustomizations[index]
            continue
        fields: dict[str, Any] = {f: getattr(change, f) for f in _CHANGE_FIELDS if getattr(change, f) is not None}
        if index is None:
            kustomizations.append(replace(Kustomization(name=change.name), **fields))
        else:
            kustomizations[index] = replace(kustomizations[index], **fields)
    suspend = spec.suspend if patch.suspend is None else patch.suspend
    return replace(spec, source=source, kustomizations=tuple(kustomizations), suspend=suspend)


class FakeFluxConfigs(_Operations):
    """bot.ports.FluxConfigs in memory."""

    def __init__(self, *, settle_after: int | None = 1, bad_paths: Iterable[str] = ()) -> None:
        super().__init__("flux-op")
        self.configs: dict[tuple[ClusterRef, str], _Config] = {}
        #: Pending answers to ``get()`` after a write before it settles; None: never (a watch timeout)
        self.settle_after = settle_after
        #: kustomization paths missing from the repository: they end Non-Compliant
        self.bad_paths = set(bad_paths)
        #: configuration name -> the error of a write that ends provisioning Failed
        self.provisioning_errors: dict[str, str] = {}

    # -- test set-up and inspection --------------------------------------------------------------

    def seed(
        self, cluster: ClusterRef, spec: FluxConfigSpec, *, applied: Sequence[ObjectStatus] = ()
    ) -> FluxConfigState:
        """A configuration that exists already and is Compliant (Suspended when ``spec.suspend``)."""
        entry = _Config(spec=spec, compliance=self._settled(spec), pending_gets=None, applied=tuple(applied))
        self.configs[(cluster, spec.name)] = entry
        return self._state(cluster, entry)

    def state(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        """What ``get`` would answer, without moving reconciliation on."""
        return self._state(cluster, self._entry(cluster, name))

    def protected(self, cluster: ClusterRef, name: str) -> ProtectedSettings | None:
        return self._entry(cluster, name).protected

    # -- bot.ports.FluxConfigs --------------------------------------------------------------------

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        self.calls.append(("get", name))
        entry = self._entry(cluster, name)
        if entry.compliance == PENDING and entry.pending_gets is not None:
            if entry.pending_gets <= 0:
                entry.compliance = self._settled(entry.spec)
            else:
                entry.pending_gets -= 1
        return self._state(cluster, entry)

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        self.calls.append(("list", cluster.name))
        return [self._state(c, entry) for (c, _), entry in self.configs.items() if c == cluster]

    def begin_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> FakeOperation[FluxConfigState]:
        def apply() -> FluxConfigState:
            self.configs[(cluster, spec.name)] = self._written(spec, protected, ())
            return self.state(cluster, spec.name)

        return self._begin("begin_create_or_update", spec.name, apply)

    def begin_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> FakeOperation[FluxConfigState]:
        self._entry(cluster, name)  # ARM answers 404 at once

        def apply() -> FluxConfigState:
            entry = self._entry(cluster, name)
            spec = patched(entry.spec, patch)
            kept = {f"{name}-{k.name}" for k in spec.kustomizations}
            applied = tuple(o for o in entry.applied if o.applied_by in kept)
            self.configs[(cluster, name)] = self._written(spec, patch.protected or entry.protected, applied)
            return self.state(cluster, name)

        return self._begin("begin_update", name, apply)

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> FakeOperation[None]:
        def apply() -> None:
            self.configs.pop((cluster, name), None)

        return self._begin("begin_delete", name, apply)

    def resume(self, token: str) -> FakeOperation[FluxConfigState | None]:
        return self._resume(token)

    # -- inside -----------------------------------------------------------------------------------

    def _entry(self, cluster: ClusterRef, name: str) -> _Config:
        entry = self.configs.get((cluster, name))
        if entry is None:
            raise errors.NotFound(
                f"flux configuration '{name}' does not exist on cluster '{cluster.name}'",
                recommendation=f"`/flux config list -c {cluster.name}` shows them",
            )
        return entry

    def _written(
        self, spec: FluxConfigSpec, protected: ProtectedSettings | None, applied: tuple[ObjectStatus, ...]
    ) -> _Config:
        error = self.provisioning_errors.get(spec.name)
        return _Config(
            spec=spec,
            protected=protected,
            provisioning="Failed" if error else "Succeeded",
            error_message=error,
            compliance=PENDING,
            pending_gets=self.settle_after,
            applied=applied,
        )

    def _settled(self, spec: FluxConfigSpec) -> str:
        if spec.suspend:
            return SUSPENDED
        return NON_COMPLIANT if any(k.path in self.bad_paths for k in spec.kustomizations) else COMPLIANT

    def _state(self, cluster: ClusterRef, entry: _Config) -> FluxConfigState:
        spec = entry.spec
        settled = entry.compliance != PENDING
        return FluxConfigState(
            cluster=cluster,
            spec=spec,
            source_kind=spec.source.kind,
            provisioning_state=entry.provisioning,
            compliance_state=entry.compliance,
            source_synced_commit=REVISION if settled else None,
            error_message=entry.error_message,
            statuses=self._statuses(spec, entry) if settled else (),
        )

    def _statuses(self, spec: FluxConfigSpec, entry: _Config) -> tuple[ObjectStatus, ...]:
        source = ObjectStatus(
            name=spec.name,
            namespace=spec.namespace,
            kind=spec.source.kind,
            compliance_state=COMPLIANT,
            conditions=_ready("True", "Succeeded", f"stored artifact for revision '{REVISION}'"),
        )
        kustomizations = []
        for k in spec.kustomizations:
            if k.path in self.bad_paths:
                missing = k.path.removeprefix("./")
                compliance, conditions = (
                    NON_COMPLIANT,
                    _ready(
                        "False",
                        "ArtifactFailed",
                        f"kustomization path not found: stat /tmp/kustomization-1/{missing}: no such file or directory",
                    ),
                )
            else:
                compliance, conditions = (
                    COMPLIANT,
                    _ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}"),
                )
            kustomizations.append(
                ObjectStatus(
                    name=f"{spec.name}-{k.name}",
                    namespace=spec.namespace,
                    kind="Kustomization",
                    compliance_state=compliance,
                    conditions=conditions,
                )
            )
        return (source, *kustomizations, *entry.applied)


class FakeExtensions(_Operations):
    """bot.ports.Extensions in memory."""

    def __init__(self) -> None:
        super().__init__("extension-op")
        self.extensions: dict[tuple[ClusterRef, str], ExtensionState] = {}

    def seed_flux(
        self, cluster: ClusterRef, *, name: str = "flux", provisioning_state: str = "Succeeded"
    ) -> ExtensionState:
        """A microsoft.flux extension that is there already."""
        state = ExtensionState(
            cluster=cluster,
            name=name,
            extension_type="microsoft.flux",
            provisioning_state=provisioning_state,
            version=None,
            current_version=FLUX_VERSION,
            auto_upgrade_minor_version=True,
            release_train="Stable",
        )
        self.extensions[(cluster, name)] = state
        return state

    def get(self, cluster: ClusterRef, name: str) -> ExtensionState:
        self.calls.append(("get", name))
        state = self.extensions.get((cluster, name))
        if state is None:
            raise errors.NotFound(
                f"cluster '{cluster.name}' has no extension '{name}'",
                recommendation=f"install it with `/flux extension create -c {cluster.name}`",
            )
        return state

    def list(self, cluster: ClusterRef) -> list[ExtensionState]:
        self.calls.append(("list", cluster.name))
        return [state for (c, _), state in self.extensions.items() if c == cluster]

    def find_flux(self, cluster: ClusterRef) -> ExtensionState | None:
        self.calls.append(("find_flux", cluster.name))
        found = (s for (c, _), s in self.extensions.items() if c == cluster and s.extension_type == "microsoft.flux")
        return next(found, None)

    def begin_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> FakeOperation[ExtensionState]:
        def apply() -> ExtensionState:
            state = ExtensionState(
                cluster=cluster,
                name=spec.name,
                extension_type=spec.extension_type,
                provisioning_state="Succeeded",
                version=spec.version,
                current_version=spec.version or FLUX_VERSION,
                auto_upgrade_minor_version=spec.auto_upgrade_minor_version,
                release_train=spec.release_train,
                settings=spec.settings,
            )
            self.extensions[(cluster, spec.name)] = state
            return state

        return self._begin("begin_create", spec.name, apply)

    def begin_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> FakeOperation[ExtensionState]:
        self.get(cluster, name)

        def apply() -> ExtensionState:
            state = self.extensions[(cluster, name)]
            settings = dict(state.settings)
            for key, value in patch.settings:
                if value is None:
                    settings.pop(key, None)
                else:
                    settings[key] = value
            state = replace(
                state,
                version=patch.version or state.version,
                current_version=patch.version or state.current_version,
                auto_upgrade_minor_version=(
                    state.auto_upgrade_minor_version
                    if patch.auto_upgrade_minor_version is None
                    else patch.auto_upgrade_minor_version
                ),
                release_train=patch.release_train or state.release_train,
                settings=tuple(sorted(settings.items())),
            )
            self.extensions[(cluster, name)] = state
            return state

        return self._begin("begin_update", name, apply)

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> FakeOperation[None]:
        def apply() -> None:
            self.extensions.pop((cluster, name), None)

        return self._begin("begin_delete", name, apply)

    def resume(self, token: str) -> FakeOperation[ExtensionState | None]:
        return self._resume(token)


class FakeJobStore:
    """bot.ports.JobStore as two dicts."""

    def __init__(self) -> None:
        self.records: dict[str, JobRecord] = {}
        self.values: dict[tuple[str, str], str] = {}

    def load(self, job_id: str) -> JobRecord:
        record = self.records.get(job_id)
        if record is None:
            raise errors.NotFound(f"loading job {job_id}: there is no record of it")
        return record

    def get(self, job_id: str, key: str) -> str | None:
        return self.values.get((job_id, key))

    def put(self, job_id: str, key: str, value: str) -> None:
        self.values[(job_id, key)] = value

    def keys(self, job_id: str) -> dict[str, str]:
        """Everything saved for ``job_id``."""
        return {key: value for (job, key), value in self.values.items() if job == job_id}


class FakeLocks:
    """bot.ports.Locks: Busy when another owner holds the key; the same owner may take it again."""

    def __init__(self) -> None:
        self.holders: dict[str, tuple[str, int]] = {}
        self.taken: list[tuple[str, str]] = []

    def take(self, key: str, owner: str) -> None:
        """Hold ``key`` for ``owner`` until ``release`` (another job, from the test's side)."""
        self._acquire(key, owner)

    def release(self, key: str, owner: str) -> None:
        holder, depth = self.holders[key]
        assert holder == owner, f"{owner} releases {key} held by {holder}"
        if depth > 1:
            self.holders[key] = (holder, depth - 1)
        else:
            del self.holders[key]

    @contextmanager
    def hold(self, key: str, owner: str) -> Iterator[None]:
        self._acquire(key, owner)
        try:
            yield
        finally:
            self.release(key, owner)

    def _acquire(self, key: str, owner: str) -> None:
        holder, depth = self.holders.get(key, (owner, 0))
        if holder != owner:
            raise errors.Busy(
                f"waiting for job {holder} to release {key}",
                holder=holder,
                recommendation=f"it runs after job {holder} ends; nothing to do",
                retry_after=5.0,
            )
        self.holders[key] = (owner, depth + 1)
        self.taken.append((key, owner))


def result_kind(result: str) -> str:
    """``"failed: ARM said no"`` -> ``"failed"`` (as workers/audit_log.py keys its guard)."""
    return result.split(":", 1)[0].strip()


class FakeAudit:
    """bot.ports.AuditLog: appends once per (job id, result kind), like the Redis stream's guard key."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        self._once: set[tuple[str, str]] = set()

    def append(self, entry: AuditEntry) -> bool:
        if entry.job_id:
            guard = (entry.job_id, result_kind(entry.result))
            if guard in self._once:
                return False
            self._once.add(guard)
        self.entries.append(replace(entry, id=f"{len(self.entries) + 1}-0"))
        return True

    def read(self, *, since_seconds: int, cluster: str | None = None, limit: int = 20) -> list[AuditEntry]:
        newest_first = reversed(self.entries)
        wanted = [e for e in newest_first if cluster is None or e.cluster.casefold() == cluster.casefold()]
        return wanted[: max(limit, 0)] if since_seconds > 0 else []


class FakeCredentials:
    """bot.ports.Credentials from a dict of name -> value."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = dict(values or {})

    def get(self, name: str) -> Secret:
        value = self.values.get(name)
        if value is None:
            known = ", ".join(f"'{n}'" for n in sorted(self.values)) or "none"
            raise errors.NotFound(
                f"fluxops holds no credential named '{name}' (it holds: {known})",
                recommendation="use one of those names, or add it under `credentials:` in FLUXOPS_CONFIG",
            )
        return Secret(value)


class RecordingReporter:
    """bot.ports.Reporter that keeps every view shown and every private message."""

    def __init__(self) -> None:
        self.shown: list[JobView | ConfirmView] = []
        self.private_views: list[TextView | JobView] = []

    def show(self, view: JobView | ConfirmView) -> None:
        self.shown.append(view)

    def private(self, view: TextView | JobView) -> None:
        self.private_views.append(view)

    @property
    def last(self) -> JobView:
        """The job's message as it is now (fails the test when the last one shown is not a JobView)."""
        assert self.shown, "nothing was shown"
        view = self.shown[-1]
        assert isinstance(view, JobView), f"the last view is {view!r}"
        return view

    @property
    def job_views(self) -> list[JobView]:
        return [v for v in self.shown if isinstance(v, JobView)]

    @property
    def confirms(self) -> list[ConfirmView]:
        return [v for v in self.shown if isinstance(v, ConfirmView)]

    def step_texts(self) -> list[str]:
        """Every step text ever shown, in order of first appearance."""
        seen: dict[str, None] = {}
        for view in self.job_views:
            for step in view.steps:
                seen.setdefault(step.text, None)
        return list(seen)


class FakeClock:
    """A monotonic clock that only moves when the job sleeps: watch timeouts take no time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class World:
    """The fakes of one test, and ``JobPorts`` over them for the tutorial's cluster."""

    flux: FakeFluxConfigs = field(default_factory=FakeFluxConfigs)
    extensions: FakeExtensions = field(default_factory=FakeExtensions)
    jobs: FakeJobStore = field(default_factory=FakeJobStore)
    locks: FakeLocks = field(default_factory=FakeLocks)
    audit: FakeAudit = field(default_factory=FakeAudit)
    credentials: FakeCredentials = field(default_factory=FakeCredentials)
    reporter: RecordingReporter = field(default_factory=RecordingReporter)
    clock: FakeClock = field(default_factory=FakeClock)
    watch: WatchPolicy = field(default_factory=WatchPolicy)
    cluster: Cluster = CLUSTER
    alias: str | None = None
    heartbeats: list[str] = field(default_factory=list)

    @property
    def ref(self) -> ClusterRef:
        return self.cluster.ref

    def resolve(self, target: ClusterTarget) -> ResolvedCluster:
        if target.cluster not in (self.cluster.ref.name, self.alias):
            raise errors.NotFound(
                f"fluxops knows no cluster '{target.cluster}'", recommendation="`/flux clusters` lists them"
            )
        return ResolvedCluster(self.cluster, self.alias)

    def cluster_rows(self, selector: Sequence[tuple[str, str]]) -> list[ClusterRow]:
        return [ClusterRow(self.cluster, self.alias, FLUX_VERSION)]

    def ports(self) -> JobPorts:
        return JobPorts(
            flux=self.flux,
            extensions=self.extensions,
            jobs=self.jobs,
            locks=self.locks,
            audit=self.audit,
            credentials=self.credentials,
            resolve=self.resolve,
            cluster_rows=self.cluster_rows,
            heartbeat=self.heartbeats.append,
            sleep=self.clock.sleep,
            clock=self.clock,
            watch=self.watch,
        )

    def record(self, text: str, *, job_id: str = "j-1", confirmed_by: str = "") -> JobRecord:
        record = JobRecord(
            job_id=job_id, text=text, platform="slack", actor="U123", channel="C123", confirmed_by=confirmed_by
        )
        self.jobs.records[job_id] = record
        return record

    def run(self, text: str, *, job_id: str = "j-1", confirmed_by: str = "") -> Phase:
        """Run the job for ``text`` (again, when ``job_id`` ran before) to its end or its Confirm button."""
        return run_job(self.record(text, job_id=job_id, confirmed_by=confirmed_by), self.ports(), self.reporter)
