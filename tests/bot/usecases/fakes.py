"""In-memory fakes of the bot.ports Protocols, for use-case tests: no Redis, no HTTP, no Celery, no real time.

FakeFluxConfigs and FakeExtensions keep state per (cluster, name). Each write returns a FakeOperation
whose ``result()`` applies the change, after whatever the test scripted (StillRunning a few times, a
failure, or a worker that dies while Azure finishes). Reconciliation moves on with each ``get()``:
Pending, then Compliant, or Non-Compliant for a kustomization path the test marked bad, or Suspended
for a suspended configuration. ``World`` wires them into ``JobPorts`` the way workers/wiring.py does.

Deploy keys: FakeKeyMaker, FakeKeyRegistry and FakeDeployKeys hold keys in dicts. With ``World.fetches``
on, FakeFluxConfigs also models the GitRepository fetch: each write (and each sync interval after) the
source fetches with the protected settings the configuration holds, Ready True when the fake host
accepts them and Ready False with an ssh handshake message otherwise, at times from the FakeClock.
"""

from __future__ import annotations

import base64
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from bot import errors
from bot.command_codec import encode_parsed
from bot.commands import ClusterTarget, Run
from bot.config_access import RoleRule
from bot.config_file import DeployKeyPolicy, FleetRepository, FluxopsConfig
from bot.decision import decide
from bot.flux_patch import patched
from bot.git_host import CommentInfo, CommentRef, Permission, PullRequestInfo
from bot.gitevents import GITHUB, RepoRef
from bot.grammar import parse
from bot.jobs import JobRecord
from bot.key_records import CredentialUse, DeployKeyRecord, GeneratedKey, KeyUser
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
    V1Config,
)
from bot.policy import Identity, Policy
from bot.render.markdown import render_markdown
from bot.render.slack import render as render_slack
from bot.repo_urls import canonical_repo
from bot.usecases.context import (
    ChatPorts,
    FleetPorts,
    GitPorts,
    JobPorts,
    KeyPorts,
    Pacing,
    ResolvedCluster,
    WatchPolicy,
)
from bot.usecases.executor import run_job
from bot.views import AuditEntry, ClusterRow, ConfirmView, FleetRunView, JobView, Phase, PushView, TextView
from sandbox.world import utc_now_iso
from tests.bot.usecases.fake_cluster_api import FakeClusterApi

T = TypeVar("T")

#: the seed tutorial's Arc cluster
CLUSTER = Cluster(
    ClusterRef("00000000-0000-0000-0000-000000000001", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc"),
    "eastus",
)
FLUX_VERSION = "1.17.3"
#: the stable microsoft.flux versions ARM lists, newest first (the sandbox's catalogue)
FLUX_RELEASES = ("1.17.3", "1.16.2", "1.15.1", "1.14.3", "1.13.4")
REVISION = "main@sha1:4f1bdad"

#: the wall clock (epoch seconds) when the FakeClock reads 0: 2025-06-15T15:06:40Z
WALL_START = 1_750_000_000.0

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
    #: with a fetch model: the GitRepository's Ready condition, when it last fetched, its last status report
    source_ready: Condition | None = None
    fetched_at: float | None = None
    reported_at: float | None = None
    #: with ``agent_delay``: the configuration as the agent last applied it, shown until ``applies_at``
    lagging: _Config | None = None
    applies_at: float = 0.0


def _apply_interval(spec: FluxConfigSpec) -> int:
    """The shortest kustomization interval: how often the agent applies, and so reports, between fetches."""
    return min((k.sync_interval_seconds for k in spec.kustomizations), default=600)


def _ready(status: str, reason: str, message: str) -> tuple[Condition, ...]:
    return (Condition(type="Ready", status=status, reason=reason, message=message),)


def iso(epoch: float) -> str:
    """Epoch seconds as the ARM emulator writes times: UTC, milliseconds, trailing Z
    ("2025-06-15T15:06:40.500Z"); the emulator's own formatter, so the two cannot drift apart."""
    return utc_now_iso(epoch)


#: what a Flux source says about a fetch: None when it worked, else the message of its failure
Fetch = Callable[[str, ProtectedSettings | None], str | None]


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
        #: the fetch model (source URL, protected settings -> failure or None); None: no source times at all
        self.fetches: Fetch | None = None
        #: epoch seconds, for the times of the fetch model
        self.now: Callable[[], float] = lambda: WALL_START
        #: seconds after a write of an existing configuration before its agent applies it on the cluster: until
        #: then reads show it as it was (statusUpdatedAt included) and ``on_cluster`` the protected settings before
        self.agent_delay = 0.0
        #: every patch begun, in order (as the adapter would send them)
        self.patches: list[tuple[str, FluxConfigPatch]] = []

    # -- test set-up and inspection --------------------------------------------------------------

    def seed(
        self,
        cluster: ClusterRef,
        spec: FluxConfigSpec,
        *,
        applied: Sequence[ObjectStatus] = (),
        protected: ProtectedSettings | None = None,
    ) -> FluxConfigState:
        """A configuration that exists already and is Compliant (Suspended when ``spec.suspend``)."""
        entry = _Config(
            spec=spec, protected=protected, compliance=self._settled(spec), pending_gets=None, applied=tuple(applied)
        )
        self._fetch(entry, written=True)
        self.configs[(cluster, spec.name)] = entry
        return self._state(cluster, entry)

    def state(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        """What ``get`` would answer, without moving reconciliation on."""
        return self._state(cluster, self._shown(self._entry(cluster, name)))

    def protected(self, cluster: ClusterRef, name: str) -> ProtectedSettings | None:
        return self._entry(cluster, name).protected

    def on_cluster(self, cluster: ClusterRef, name: str) -> ProtectedSettings | None:
        """The protected settings the agent has put on the cluster (the secret the Flux source fetches with)."""
        return self._shown(self._entry(cluster, name)).protected

    # -- bot.ports.FluxConfigs --------------------------------------------------------------------

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        self.calls.append(("get", name))
        return self.read(cluster, name)

    def read(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        """What a read answers now (a GET, or a FluxIndex row): reconciliation moves on as reads come."""
        entry = self._entry(cluster, name)
        if entry.lagging is not None:
            if self.now() < entry.applies_at:
                return self._state(cluster, entry.lagging)  # the agent has not applied the write: no report
            entry.lagging = None
            self._fetch(entry, written=True)
        self._report(entry)
        if entry.compliance == PENDING and entry.pending_gets is not None:
            if entry.pending_gets <= 0:
                entry.compliance = self._settled(entry.spec)
                if self.fetches is None:  # the agent's report that settled it (the fetch model keeps its own)
                    entry.reported_at = self.now()
            else:
                entry.pending_gets -= 1
        return self._state(cluster, entry)

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        self.calls.append(("list", cluster.name))
        return [self._state(c, self._shown(entry)) for (c, _), entry in self.configs.items() if c == cluster]

    def begin_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> FakeOperation[FluxConfigState]:
        def apply() -> FluxConfigState:
            self.configs[(cluster, spec.name)] = self._written(
                spec, protected, (), self.configs.get((cluster, spec.name))
            )
            return self.state(cluster, spec.name)

        return self._begin("begin_create_or_update", spec.name, apply)

    def begin_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> FakeOperation[FluxConfigState]:
        self._entry(cluster, name)  # ARM answers 404 at once
        self.patches.append((name, patch))

        def apply() -> FluxConfigState:
            entry = self._entry(cluster, name)
            spec = patched(entry.spec, patch)
            kept = {f"{name}-{k.name}" for k in spec.kustomizations}
            applied = tuple(o for o in entry.applied if o.applied_by in kept)
            self.configs[(cluster, name)] = self._written(spec, patch.protected or entry.protected, applied, entry)
            return self.state(cluster, name)

        return self._begin("begin_update", name, apply)

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> FakeOperation[None]:
        def apply() -> None:
            self.configs.pop((cluster, name), None)

        return self._begin("begin_delete", name, apply)

    def resume(self, token: str) -> FakeOperation[FluxConfigState | None]:
        return self._resume(token)

    def submit_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> None:
        self.calls.append(("submit_create_or_update", spec.name))
        self.begin_create_or_update(cluster, spec, protected).result()

    def submit_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> None:
        self.calls.append(("submit_update", name))
        self.begin_update(cluster, name, patch).result()

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        self.calls.append(("submit_delete", name))
        self.begin_delete(cluster, name, force=force).result()

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
        self,
        spec: FluxConfigSpec,
        protected: ProtectedSettings | None,
        applied: tuple[ObjectStatus, ...],
        before: _Config | None,
    ) -> _Config:
        error = self.provisioning_errors.get(spec.name)
        entry = _Config(
            spec=spec,
            protected=protected,
            provisioning="Failed" if error else "Succeeded",
            error_message=error,
            compliance=PENDING,
            pending_gets=self.settle_after,
            applied=applied,
            reported_at=before.reported_at if before is not None else None,
        )
        if self.agent_delay and before is not None:
            entry.lagging = self._shown(before)
            entry.applies_at = self.now() + self.agent_delay
            return entry
        self._fetch(entry, written=True)
        return entry

    def _shown(self, entry: _Config) -> _Config:
        """The entry as the cluster has it now: as it was before a write the agent has not applied yet."""
        if entry.lagging is not None and self.now() < entry.applies_at:
            return entry.lagging
        return entry

    def _fetch(self, entry: _Config, *, written: bool) -> None:
        """The source fetches with what the configuration holds. After a write the agent sets its objects up
        again, so Ready transitions then (after the last status report); a periodic fetch moves the
        transition time only when Ready changes, as Flux does."""
        if self.fetches is None:
            return
        now = self.now()
        if written and entry.reported_at is not None:
            now = max(now, entry.reported_at + 1)
        failure = self.fetches(entry.spec.source.url, entry.protected)
        status = "True" if failure is None else "False"
        previous = entry.source_ready
        since = iso(now) if written or previous is None or previous.status != status else previous.last_transition_time
        entry.source_ready = Condition(
            type="Ready",
            status=status,
            reason="Succeeded" if failure is None else "GitOperationFailed",
            message=f"stored artifact for revision '{REVISION}'" if failure is None else failure,
            last_transition_time=since,
        )
        entry.fetched_at = now
        entry.reported_at = max(entry.reported_at or now, now)

    def _report(self, entry: _Config) -> None:
        """What the agent reported by now. It reports when it reconciles, not when someone reads: a fetch
        each source interval, an apply each kustomization interval. So statusUpdatedAt moves at that
        cadence, as the ARM emulator's agent (sandbox/fluxsim.py) publishes it, and stays put between."""
        if self.fetches is None or entry.fetched_at is None:
            return
        now = self.now()
        if now >= entry.fetched_at + entry.spec.source.sync_interval_seconds:
            self._fetch(entry, written=False)
            return
        last = entry.reported_at if entry.reported_at is not None else entry.fetched_at
        if now >= last + _apply_interval(entry.spec):
            entry.reported_at = now

    def _settled(self, spec: FluxConfigSpec) -> str:
        if spec.suspend:
            return SUSPENDED
        return NON_COMPLIANT if any(k.path in self.bad_paths for k in spec.kustomizations) else COMPLIANT

    def _state(self, cluster: ClusterRef, entry: _Config) -> FluxConfigState:
        spec = entry.spec
        settled = entry.compliance != PENDING
        fetch_failed = entry.source_ready is not None and entry.source_ready.status == "False"
        return FluxConfigState(
            cluster=cluster,
            spec=spec,
            source_kind=spec.source.kind,
            provisioning_state=entry.provisioning,
            compliance_state=NON_COMPLIANT if settled and fetch_failed else entry.compliance,
            source_synced_commit=REVISION if settled else None,
            status_updated_at=iso(entry.reported_at) if entry.reported_at is not None else None,
            error_message=entry.error_message,
            statuses=self._statuses(spec, entry) if settled else (),
        )

    def _statuses(self, spec: FluxConfigSpec, entry: _Config) -> tuple[ObjectStatus, ...]:
        ready = entry.source_ready
        source = ObjectStatus(
            name=spec.name,
            namespace=spec.namespace,
            kind=spec.source.kind,
            compliance_state=NON_COMPLIANT if ready is not None and ready.status == "False" else COMPLIANT,
            conditions=(ready,)
            if ready is not None
            else _ready("True", "Succeeded", f"stored artifact for revision '{REVISION}'"),
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
        #: the Flux v1 configurations (World wires its own): microsoft.flux is refused while one is on the cluster
        self.v1: FakeV1Configs | None = None

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
        left = sorted(n for (c, n) in self.v1.configs if c == cluster) if self.v1 is not None else []
        if spec.extension_type == "microsoft.flux" and left:
            self.calls.append(("begin_create", spec.name))
            # as ARM (and sandbox/arm/extension_endpoints.py) answers: 400 FluxV1ConfigurationsPresent
            raise errors.InvalidRequest(
                "The microsoft.flux extension cannot be installed while Flux v1 sourceControlConfigurations exist "
                f"on the cluster ({', '.join(left)}); delete them first, then install Flux v2."
            )

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
                scope=spec.scope,
                namespace=spec.namespace,
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

    def submit_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> None:
        self.calls.append(("submit_create", spec.name))
        self.begin_create(cluster, spec).result()

    def submit_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> None:
        self.calls.append(("submit_update", name))
        self.begin_update(cluster, name, patch).result()

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        self.calls.append(("submit_delete", name))
        self.begin_delete(cluster, name, force=force).result()

    def versions(
        self, cluster: Cluster, extension_type: str = "microsoft.flux", release_train: str = "Stable"
    ) -> list[str]:
        self.calls.append(("versions", cluster.ref.name))
        if extension_type != "microsoft.flux":
            return []
        return list(FLUX_RELEASES) if release_train.lower() == "stable" else []


class FakeV1Configs(_Operations):
    """bot.ports.V1Configs in memory: Flux v1 configurations left on clusters, read and deleted."""

    def __init__(self) -> None:
        super().__init__("v1-op")
        self.configs: dict[tuple[ClusterRef, str], V1Config] = {}

    def seed(self, cluster: ClusterRef, name: str = "cluster-config", **fields: Any) -> V1Config:
        """The seed tutorial's v1 configuration (https://github.com/Azure/arc-k8s-demo), ``fields`` changed."""
        values: dict[str, Any] = {
            "repository_url": "https://github.com/Azure/arc-k8s-demo",
            "operator_namespace": name,
            "operator_scope": "cluster",
            "compliance_state": "Installed",
            "operator_instance_name": name,
            "operator_type": "Flux",
            "operator_params": "--git-readonly",
            **fields,
        }
        config = V1Config(cluster=cluster, name=name, **values)
        self.configs[(cluster, name)] = config
        return config

    def list(self, cluster: ClusterRef) -> list[V1Config]:
        self.calls.append(("list", cluster.name))
        return [c for (ref, _), c in self.configs.items() if ref == cluster]

    def get(self, cluster: ClusterRef, name: str) -> V1Config:
        self.calls.append(("get", name))
        found = self.configs.get((cluster, name))
        if found is None:
            raise errors.NotFound(f"cluster '{cluster.name}' has no Flux v1 configuration '{name}'")
        return found

    def begin_delete(self, cluster: ClusterRef, name: str) -> FakeOperation[None]:
        def apply() -> None:
            self.configs.pop((cluster, name), None)

        return self._begin("begin_delete", name, apply)


class FakeInventory:
    """bot.ports.ClusterInventory: the World's clusters and each subscription's resource provider states."""

    def __init__(self, clusters: Sequence[Cluster]) -> None:
        self.clusters = list(clusters)
        self.states: dict[str, str] = dict.fromkeys(
            ("Microsoft.Kubernetes", "Microsoft.ContainerService", "Microsoft.KubernetesConfiguration"), "Registered"
        )

    def list_clusters(self) -> list[Cluster]:
        return list(self.clusters)

    def get_cluster(self, ref: ClusterRef) -> Cluster:
        return next(c for c in self.clusters if c.ref == ref)

    def provider_states(self, subscription_id: str) -> dict[str, str]:
        return dict(self.states)


class FakeFluxIndex:
    """bot.ports.FluxIndex over the fakes' configurations and extensions: what Resource Graph would answer,
    narrowed as the real query narrows (name case-insensitive, the Git URL containing ``repository``)."""

    def __init__(self, flux: FakeFluxConfigs, extensions: FakeExtensions) -> None:
        self.flux = flux
        self.extensions_of = extensions
        self.calls: list[tuple[str, str | None]] = []

    def configurations(
        self, *, name: str | None = None, repository: str | None = None, clusters: Sequence[ClusterRef] = ()
    ) -> list[FluxConfigState]:
        self.calls.append(("configurations", repository or name))
        on = {c.arm_id.lower() for c in clusters}
        found = []
        for (cluster, config), entry in self.flux.configs.items():
            url = entry.spec.source.url if isinstance(entry.spec.source, GitSource) else ""
            if name is not None and config.lower() != name.lower():
                continue
            if repository is not None and repository.lower() not in url.lower():
                continue
            state = self.flux.read(cluster, config)
            if not on or state.cluster.arm_id.lower() in on:
                found.append(state)
        return found

    def extensions(self, *, extension_type: str = "microsoft.flux") -> list[ExtensionState]:
        self.calls.append(("extensions", extension_type))
        wanted = extension_type.lower()
        return [x for x in self.extensions_of.extensions.values() if x.extension_type.lower() == wanted]


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

    def put_many(self, job_id: str, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self.put(job_id, key, value)

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


class FakeKeyMaker:
    """bot.ports.KeyMaker, deterministic: key n (from 1) is "PRIVATE-n" in OpenSSH armour, its public half
    "ssh-ed25519 AAAAfake-n", its fingerprint "SHA256:fake-n"."""

    def __init__(self) -> None:
        self.made: list[GeneratedKey] = []

    def generate(self) -> GeneratedKey:
        n = len(self.made) + 1
        private = f"-----BEGIN OPENSSH PRIVATE KEY-----\nPRIVATE-{n}\n-----END OPENSSH PRIVATE KEY-----\n"
        key = GeneratedKey(Secret(private), f"ssh-ed25519 AAAAfake-{n}", f"SHA256:fake-{n}")
        self.made.append(key)
        return key

    def public_of(self, private: Secret | None) -> str | None:
        """The public half of a private half this maker made."""
        return next((k.public_key for k in self.made if k.private_key == private), None)

    def private_texts(self) -> list[str]:
        """Every private half made, as text (to check that none leaks), with its distinctive line alone too."""
        texts = [k.private_key.reveal() for k in self.made]
        return texts + [f"PRIVATE-{n}" for n in range(1, len(self.made) + 1)]


class FakeKeyRegistry:
    """bot.ports.KeyRegistry in dicts; ``seal`` keeps the Secret as it is. The configuration index moves as
    RedisKeyRegistry's does: to a record that gains the user, away only from the record it points to."""

    def __init__(self) -> None:
        self.records: dict[str, DeployKeyRecord] = {}
        self.sealed: dict[str, Secret] = {}
        self.uses: dict[str, CredentialUse] = {}
        self.index: dict[str, str] = {}  # KeyUser.key -> key id

    def save(self, record: DeployKeyRecord) -> None:
        old = self.records.get(record.key_id)
        before = {u.key for u in old.users} if old is not None else set()
        after = {u.key for u in record.users}
        for user in after:
            if user not in before or user not in self.index:
                self.index[user] = record.key_id
        for user in before - after:
            if self.index.get(user) == record.key_id:
                del self.index[user]
        self.records[record.key_id] = record

    def get(self, key_id: str) -> DeployKeyRecord | None:
        return self.records.get(key_id)

    def update(
        self,
        key_id: str,
        change: Callable[[DeployKeyRecord], DeployKeyRecord],
        *,
        default: DeployKeyRecord | None = None,
    ) -> DeployKeyRecord | None:
        base = self.records.get(key_id, default)
        if base is None:
            return None
        record = change(base)
        self.save(record)
        return record

    def all(self) -> list[DeployKeyRecord]:
        return sorted(self.records.values(), key=lambda r: (r.created_at, r.key_id))

    def delete(self, key_id: str) -> None:
        self.records.pop(key_id, None)
        self.sealed.pop(key_id, None)
        for user in [u for u, k in self.index.items() if k == key_id]:
            del self.index[user]

    def for_config(self, cluster_id: str, config: str) -> DeployKeyRecord | None:
        user = KeyUser(cluster_id, config).key
        record = self.records.get(self.index.get(user, ""))
        return record if record is not None and any(u.key == user for u in record.users) else None

    def for_repository(self, host: str, full_name: str) -> list[DeployKeyRecord]:
        wanted = (host.lower(), full_name.lower())
        return [r for r in self.all() if (r.host.lower(), r.full_name.lower()) == wanted]

    def seal(self, name: str, secret: Secret) -> None:
        self.sealed[name] = secret

    def unseal(self, name: str) -> Secret | None:
        return self.sealed.get(name)

    def destroy(self, name: str) -> None:
        self.sealed.pop(name, None)

    def credential_use(self, ref: str) -> CredentialUse:
        return self.uses.get(ref, CredentialUse(ref))

    def save_credential_use(self, use: CredentialUse) -> None:
        self.uses[use.ref] = use

    def update_credential_use(self, ref: str, change: Callable[[CredentialUse], CredentialUse]) -> CredentialUse:
        use = change(self.credential_use(ref))
        self.save_credential_use(use)
        return use


#: GitHub's published Ed25519 SSH host key
GITHUB_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


class FakeDeployKeys:
    """bot.ports.DeployKeys (GitHub): deploy keys per repository, ids from 101, calls logged.

    ``broken`` public keys stay registered but GitHub refuses fetches with them (a key its policy blocks).
    """

    provider = GITHUB

    def __init__(self) -> None:
        self.keys: dict[str, dict[int, tuple[str, str]]] = {}  # "org/repo" (lower) -> id -> (title, public key)
        self.adds: list[tuple[str, str, str]] = []  # (repository, title, public key) of every add call
        self.removes: list[tuple[str, int]] = []  # (repository, id) of every remove call
        self.broken: set[str] = set()
        self.host_keys = [GITHUB_HOST_KEY]
        self.remove_errors: deque[errors.FluxopsError] = deque()
        #: the worker dies once right after GitHub registered a key (before the job saw its id)
        self.die_after_add = False
        self._ids = itertools.count(101)

    def fail_next_remove(self, error: errors.FluxopsError) -> None:
        """The next ``remove_deploy_key`` raises ``error`` and removes nothing."""
        self.remove_errors.append(error)

    def accepts(self, url: str, public_key: str) -> bool:
        """Whether a fetch of ``url`` with ``public_key`` gets through."""
        repo = canonical_repo(url)
        registered = repo is not None and public_key in {k for _, k in self.keys.get(repo[1], {}).values()}
        return registered and public_key not in self.broken

    def public_keys(self, full_name: str) -> list[str]:
        return [key for _, key in self.keys.get(full_name.lower(), {}).values()]

    def add_deploy_key(self, repo: RepoRef, title: str, public_key: str) -> int:
        self.adds.append((repo.full_name, title, public_key))
        keys = self.keys.setdefault(repo.full_name.lower(), {})
        found = next((i for i, (_, k) in keys.items() if k == public_key), None)
        if found is not None:
            return found
        key_id = next(self._ids)
        keys[key_id] = (title, public_key)
        if self.die_after_add:
            self.die_after_add = False
            raise WorkerDied(f"after registering deploy key {key_id}")
        return key_id

    def remove_deploy_key(self, repo: RepoRef, key_id: int) -> bool:
        self.removes.append((repo.full_name, key_id))
        if self.remove_errors:
            raise self.remove_errors.popleft()
        return self.keys.get(repo.full_name.lower(), {}).pop(key_id, None) is not None

    def deploy_key_ids(self, repo: RepoRef) -> dict[int, str]:
        return {i: k for i, (_, k) in self.keys.get(repo.full_name.lower(), {}).items()}

    def ssh_host_keys(self) -> list[str]:
        return list(self.host_keys)


class FakePullRequests:
    """bot.ports.PullRequests and RepositoryFiles (GitHub) as a test sets them: ``pulls``, ``authors``,
    ``files`` per ref, ``permissions``, ``comments``; ``repositories`` answers ``repository()`` by full name
    (default: the repository asked about, as is). Commits are unrelated unless equal (``is_ancestor``)."""

    provider = GITHUB

    def __init__(self) -> None:
        self.pulls: dict[int, PullRequestInfo] = {}
        self.authors: dict[int, frozenset[str]] = {}
        self.files: dict[str, dict[str, str]] = {}  # ref (branch or sha) -> path -> text
        self.permissions: dict[str, Permission] = {}  # login (folded) -> permission; NONE when absent
        self.repositories: dict[str, RepoRef] = {}  # full name (folded) -> what the host says it is
        self.comments: dict[str, tuple[int, str, str]] = {}  # comment id -> (number, author, body)
        self.acknowledged: list[str] = []
        self._comment_ids = itertools.count(1)

    def repository(self, repo: RepoRef) -> RepoRef:
        return self.repositories.get(repo.full_name.casefold(), repo)

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        prefix = path.strip("/")
        return {p: t for p, t in self.files.get(ref, {}).items() if p == prefix or p.startswith(prefix + "/")}

    def is_ancestor(self, repo: RepoRef, ancestor: str, descendant: str) -> bool:
        return ancestor.lower() == descendant.lower()

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo:
        if number not in self.pulls:
            raise errors.NotFound(f"no pull request #{number} in {repo.full_name}")
        return self.pulls[number]

    def pull_request_authors(self, repo: RepoRef, number: int) -> frozenset[str]:
        return frozenset(a.casefold() for a in self.authors.get(number, frozenset()))

    def permission(self, repo: RepoRef, user: str) -> Permission:
        return self.permissions.get(user.casefold(), Permission.NONE)

    def add_comment(self, number: int, author: str, body: str) -> str:
        """A person comments on pull request ``number``; returns the comment's id."""
        comment_id = str(next(self._comment_ids))
        self.comments[comment_id] = (number, author, body)
        return comment_id

    def said(self, number: int) -> list[str]:
        """What fluxops wrote on pull request ``number``, oldest first."""
        return [body for n, author, body in self.comments.values() if n == number and author == "fluxops"]

    def comment(self, repo: RepoRef, number: int, body: str, *, reply_to: CommentRef | None = None) -> CommentRef:
        return CommentRef(self.add_comment(number, "fluxops", body))

    def edit_comment(self, repo: RepoRef, number: int, ref: CommentRef, body: str) -> None:
        n, author, _ = self.comments[ref.id]
        self.comments[ref.id] = (n, author, body)

    def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        for comment_id, (n, author, body) in self.comments.items():
            if n == number and author == "fluxops" and marker in body:
                return CommentRef(comment_id)
        return None

    def get_comment(self, repo: RepoRef, number: int, ref: CommentRef) -> CommentInfo:
        if ref.id not in self.comments:
            raise errors.NotFound(f"no comment {ref.id}")
        _, author, body = self.comments[ref.id]
        return CommentInfo(ref=ref, author=author, body=body)

    def acknowledge(self, repo: RepoRef, number: int, ref: CommentRef) -> None:
        self.acknowledged.append(ref.id)


class FakeGitHost(FakeDeployKeys, FakePullRequests):
    """GitHub as the use-case tests see it: deploy keys, pull requests and repository files; no commit
    statuses (bot.git_capabilities refuses them, as for a host without them)."""

    def __init__(self) -> None:
        FakeDeployKeys.__init__(self)
        FakePullRequests.__init__(self)


class FakeClaims:
    """bot.ports.ClusterClaims in a dict: cluster id -> the pull request holding it."""

    def __init__(self) -> None:
        self.held: dict[str, str] = {}

    def claim(self, cluster_id: str, holder: str) -> str:
        return self.held.setdefault(cluster_id.lower(), holder)

    def holder(self, cluster_id: str) -> str | None:
        return self.held.get(cluster_id.lower())

    def release_all(self, holder: str) -> list[str]:
        released = [c for c, h in self.held.items() if h == holder]
        for cluster_id in released:
            del self.held[cluster_id]
        return released


def everything_said(world: World) -> str:
    """All text a job left behind: job store values, every message (rendered for Slack and as Markdown),
    private and other channels' messages, the audit log."""
    views: list[JobView | ConfirmView | PushView | TextView] = [*world.reporter.shown, *world.reporter.private_views]
    for reporter in world.channels.values():
        views += [*reporter.shown, *reporter.private_views]
    parts = [*world.jobs.values.values(), *(repr(e) for e in world.audit.entries)]
    for view in views:
        parts += [repr(view), render_markdown(view), *(repr(m) for m in render_slack(view))]
    return "\n".join(parts)


def admins(user: str = "U123") -> Policy:
    """A policy making Slack user ``user`` an admin on every cluster."""
    rule = RoleRule.model_validate({"role": "admin", "slack_users": [user]})
    return Policy(FluxopsConfig(roles=[rule]))


def operators(*clusters: str, user: str = "U123") -> Policy:
    """A policy making Slack user ``user`` an operator on the clusters named (every cluster when none)."""
    selector = {"names": list(clusters)} if clusters else {}
    rule = RoleRule.model_validate({"role": "operator", "slack_users": [user], "clusters": selector})
    return Policy(FluxopsConfig(roles=[rule]))


def known_hosts_line(host: str = "github.com") -> str:
    """What sshKnownHosts should hold: base64 of "<host> <GitHub's host key>"."""
    return base64.b64encode(f"{host} {GITHUB_HOST_KEY}\n".encode()).decode()


class RecordingReporter:
    """bot.ports.Reporter that keeps every view shown and every private message."""

    def __init__(self) -> None:
        self.shown: list[JobView | ConfirmView | PushView | FleetRunView] = []
        self.private_views: list[TextView | JobView] = []

    def show(self, view: JobView | ConfirmView | PushView | FleetRunView) -> None:
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
    #: more clusters, found by name or ARM id
    more_clusters: list[Cluster] = field(default_factory=list)
    heartbeats: list[str] = field(default_factory=list)
    # -- deploy keys
    git: FakeGitHost = field(default_factory=FakeGitHost)
    #: None: FLUXOPS_KEY_ENCRYPTION_KEY is not set
    keys: FakeKeyRegistry | None = field(default_factory=FakeKeyRegistry)
    key_maker: FakeKeyMaker = field(default_factory=FakeKeyMaker)
    key_policy: DeployKeyPolicy = field(default_factory=DeployKeyPolicy)
    #: who may do what: by default U123 (every job's actor) is an admin everywhere
    policy: Policy = field(default_factory=lambda: admins())
    #: model source fetches in FakeFluxConfigs (see ``fetch``)
    fetches: bool = False
    #: HTTPS tokens the Git host takes
    valid_tokens: set[str] = field(default_factory=set)
    #: (job id, step) of every checkpoint reached; ``at_checkpoint`` hooks run once
    checkpoints: list[tuple[str, str]] = field(default_factory=list)
    hooks: dict[str, Callable[[], None]] = field(default_factory=dict)
    #: messages posted into other channels (channel_reporter), by channel
    channels: dict[str, RecordingReporter] = field(default_factory=dict)
    #: the config-as-code repositories (FLUXOPS_CONFIG fleet_repositories)
    fleets: list[FleetRepository] = field(default_factory=list)
    claims: FakeClaims = field(default_factory=lambda: FakeClaims())
    #: the bulk reads (FluxIndex) over the same fakes; None: use-cases read cluster by cluster
    index: FakeFluxIndex | None = None
    #: Flux v1 configurations left on clusters
    v1: FakeV1Configs = field(default_factory=FakeV1Configs)
    #: resource provider registration (``inventory.states``); built over the World's clusters when None
    inventory: FakeInventory | None = None
    #: the clusters' Kubernetes API; None: fluxops has no cluster access
    cluster_api: FakeClusterApi | None = None

    def __post_init__(self) -> None:
        if self.inventory is None:
            self.inventory = FakeInventory([self.cluster, *self.more_clusters])
        if self.index is None:
            self.index = FakeFluxIndex(self.flux, self.extensions)
        self.flux.now = self.wall_clock
        self.extensions.v1 = self.v1
        if self.fetches:
            self.flux.fetches = self.fetch

    @property
    def ref(self) -> ClusterRef:
        return self.cluster.ref

    def resolve(self, target: ClusterTarget) -> ResolvedCluster:
        wanted = target.cluster.casefold()
        for cluster in (self.cluster, *self.more_clusters):
            alias = self.alias if cluster is self.cluster else None
            if wanted in {n.casefold() for n in (cluster.ref.name, cluster.ref.arm_id, alias) if n}:
                return ResolvedCluster(cluster, alias)
        raise errors.NotFound(
            f"fluxops knows no cluster '{target.cluster}'", recommendation="`/flux clusters` lists them"
        )

    def wall_clock(self) -> float:
        return WALL_START + self.clock.now

    def fetch(self, url: str, protected: ProtectedSettings | None) -> str | None:
        """A fetch of ``url`` with ``protected``: an SSH key works when the fake host has its public half
        registered on the repository (and not broken); an HTTPS key when it is one of ``valid_tokens``."""
        if protected is None:
            return None
        if protected.ssh_private_key is not None:
            public = self.key_maker.public_of(protected.ssh_private_key)
            if public is not None and self.git.accepts(url, public):
                return None
            return (
                f"failed to checkout and determine revision: unable to clone '{url}': ssh: handshake failed: "
                "ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain"
            )
        if protected.https_key is not None and protected.https_key.reveal() not in self.valid_tokens:
            return f"failed to checkout and determine revision: unable to clone '{url}': authentication required"
        return None

    def at_checkpoint(self, step: str, hook: Callable[[], None]) -> None:
        """Run ``hook`` the first time a job reaches ``step``."""
        self.hooks[step] = hook

    def crash_at(self, step: str) -> None:
        """The worker dies the first time a job reaches ``step``."""

        def die() -> None:
            raise WorkerDied(step)

        self.at_checkpoint(step, die)

    def checkpoint(self, job_id: str, step: str) -> None:
        self.checkpoints.append((job_id, step))
        hook = self.hooks.pop(step, None)
        if hook is not None:
            hook()

    def channel_reporter(self, record: JobRecord, channel: str) -> RecordingReporter:
        return self.channels.setdefault(channel, RecordingReporter())

    def ports(self) -> JobPorts:
        return JobPorts(
            flux=self.flux,
            extensions=self.extensions,
            jobs=self.jobs,
            locks=self.locks,
            audit=self.audit,
            clusters=self,
            keys=KeyPorts(
                credentials=self.credentials, registry=self.keys, maker=self.key_maker, policy=self.key_policy
            ),
            policy=self.policy,
            git=GitPorts(host=self.git_host, fleet_repository=self.fleet_repository),
            chat=ChatPorts(channel_reporter=self.channel_reporter),
            claims=self.claims,
            fleet=FleetPorts(index=self.index),
            v1=self.v1,
            inventory=self.inventory,
            cluster_api=self.cluster_api,
            pace=Pacing(
                clock=self.clock,
                sleep=self.clock.sleep,
                wall_clock=self.wall_clock,
                heartbeat=self.heartbeats.append,
                checkpoint=self.checkpoint,
                watch=self.watch,
            ),
        )

    # -- the World is its own cluster directory (bot.usecases.context.ClusterDirectory) --

    def rows(self, selector: Sequence[tuple[str, str]]) -> list[ClusterRow]:
        """The World's own cluster, and those of ``more_clusters`` whose tags match every pair of ``selector``."""
        more = [c for c in self.more_clusters if all(c.tags.get(k) == v for k, v in selector)]
        return [ClusterRow(self.cluster, self.alias, FLUX_VERSION), *(ClusterRow(c, None, None) for c in more)]

    def all(self) -> list[ResolvedCluster]:
        """The World's clusters (the tutorial's and ``more_clusters``): a push is traced across them."""
        return [
            ResolvedCluster(c, self.alias if c is self.cluster else None) for c in (self.cluster, *self.more_clusters)
        ]

    def fleet_repository(self, url: str) -> FleetRepository | None:
        key = canonical_repo(url)
        return next((f for f in self.fleets if canonical_repo(f.repository) == key), None)

    def git_host(self, provider: str) -> FakeGitHost:
        if provider != GITHUB:
            raise errors.ConfigurationError(f"fluxops is not connected to {provider}")
        return self.git

    def record(self, text: str, *, job_id: str = "j-1", confirmed_by: str = "") -> JobRecord:
        """The job record intake would write for U123 typing ``text`` in Slack, with its decision."""
        record = JobRecord(
            job_id=job_id,
            text=text,
            platform="slack",
            actor="U123",
            channel="C123",
            confirmed_by=confirmed_by,
            decision=self.decision(text, Identity("slack", "U123")),
            command=typed(text),
        )
        self.jobs.records[job_id] = record
        return record

    def decision(self, text: str, identity: Identity) -> str:
        """What intake decides about ``identity`` typing ``text`` (bot.decision), as a job record keeps it."""
        parsed = parse(text)
        if not isinstance(parsed, Run):  # intake would not have enqueued it; the worker must still cope
            return ""
        return decide(self.policy, identity, parsed.command, text, resolve=self.resolve).to_json()

    def run(self, text: str, *, job_id: str = "j-1", confirmed_by: str = "") -> Phase:
        """Run the job for ``text`` (again, when ``job_id`` ran before) to its end or its Confirm button."""
        return self.run_record(self.record(text, job_id=job_id, confirmed_by=confirmed_by))

    def run_record(self, record: JobRecord) -> Phase:
        """Run a job whose record the test made (another platform, the scheduler)."""
        self.jobs.records[record.job_id] = record
        return run_job(record, self.ports(), self.reporter)


def typed(text: str) -> str:
    """The parsed command (or reply) intake stores in a job record for ``text`` (bot.command_codec)."""
    return encode_parsed(parse(text))
