"""The reconcile scheduler: one loop per flux configuration, fetching and applying on Flux's intervals.

Per configuration, as the Azure flux agent and the Flux controllers would: fetch the source
(:mod:`sandbox.fluxsim.sources`), then build and "apply" each kustomization in dependsOn order
(:mod:`sandbox.fluxsim.kustomize`), one step at a time, and report everything in the configuration's
``statuses`` (:mod:`sandbox.fluxsim.reporting`). Git and YAML work runs in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sandbox.fluxsim.dependencies import blocking_dependency, dependency_order, go_duration
from sandbox.fluxsim.kube_objects import flux_revision
from sandbox.fluxsim.kube_view import KubeView
from sandbox.fluxsim.kustomize import BuildCache
from sandbox.fluxsim.reporting import mark_suspended, publish, release_statuses
from sandbox.fluxsim.source_kinds import prepare_fetch, ready_message
from sandbox.fluxsim.sources import (
    SOURCE_KEYS,
    SOURCE_OBJECT_KIND,
    SourceFetcher,
    credentials,
    failed_reason,
    repository_ref,
)
from sandbox.fluxsim.state import (
    Artifact,
    ConfigState,
    Credentials,
    FetchAttempt,
    ObjectStatus,
    Stale,
    mapping,
)
from sandbox.git_access import GitAccess
from sandbox.gitrepos import RefKind, RepoStore, canonical_repo
from sandbox.kubeapi.store import ClusterKey, KubeStore
from sandbox.source_servers import SourceAccess
from sandbox.world import Cluster, FluxConfigRecord, World, utc_now_iso

DEFAULT_INTERVAL = 600  # ARM's default syncIntervalInSeconds
#: each interval is stretched or shrunk by up to this fraction, drawn anew every time, as Flux's controllers
#: jitter their requeues: a fleet created at once does not then reconcile in lock-step for ever after
INTERVAL_JITTER = 0.05
#: threads doing git and YAML work; a fleet queues there instead of crowding the loop's default executor
WORKER_THREADS = 4
_log = logging.getLogger(__name__)
T = TypeVar("T")


class FluxSimulator:
    """Reconciles every flux configuration of every cluster, on the sandbox's event loop."""

    def __init__(
        self,
        *,
        world: World,
        repos: RepoStore,
        access: GitAccess,
        time_scale: float = 1.0,
        step_seconds: float = 0.7,
        fetch_log_limit: int = 100_000,
        kube: KubeStore | None = None,
    ) -> None:
        self.world = world
        #: where the clusters' Flux objects and events are written for the sandbox's Kubernetes API
        self.kube = kube
        self.repos = repos
        self.access = access
        self.sources = SourceFetcher(repos=repos, access=access, log_limit=fetch_log_limit)
        #: the sandbox's Bucket / Azure Blob / OCI servers and what reads them (None: Git sources only)
        self.source_access: SourceAccess | None = None
        self.time_scale = time_scale
        self.step_seconds = step_seconds
        self._states: dict[tuple[tuple[str, ...], str], ConfigState] = {}
        self._tasks: dict[tuple[tuple[str, ...], str], asyncio.Task[None]] = {}
        self._builds = BuildCache()
        #: called with (cluster, configuration name, commit) when a pass has applied a revision, whatever the
        #: outcome: the moment the configuration's statuses in ARM say how that commit went (benchmarks time it)
        self.on_applied: Callable[[Cluster, str, str], None] | None = None
        self._pool: ThreadPoolExecutor | None = None  # made on first use, ended by stop()
        self._random = random.Random()
        #: the clusters' Kubernetes objects and events (None: no KubeStore, nothing shown)
        self.view: KubeView | None = None
        if kube is not None:
            self.view = KubeView(kube, on_request=self._reconcile_requested)
            self.view.seed(world)
        #: notification-controller Receivers: when False, a push reaches no configuration until its interval or
        #: a reconcile request (per repository: :meth:`set_receiver`)
        self.receivers = True
        self._receivers_off: set[tuple[str, str]] = set()
        #: injected HelmRelease failures, (configuration or "" for any, release name) in lower case -> message:
        #: a failure no push caused (``PUT /_sandbox/helm-faults``)
        self.helm_faults: dict[tuple[str, str], str] = {}

    def stats(self) -> dict[str, int]:
        """Work counters: fetches made, git reads they needed, kustomization builds and build cache hits.

        A fleet tracking one repository fetches once per configuration but checks out and builds each
        commit once: ``checkouts`` and ``builds`` grow with commits, not with configurations."""
        return {
            "configurations": len(self._tasks),
            "fetches": self.sources.fetches,
            "checkouts": self.repos.counters["checkouts"],
            "ref_reads": self.repos.counters["ref_reads"],
            "builds": self._builds.misses,
            "build_hits": self._builds.hits,
        }

    @property
    def fetch_log(self) -> list[FetchAttempt]:
        """Every source fetch attempt, oldest first: the newest ``fetch_log_limit`` (a tenth more between trims)."""
        return self.sources.log

    # -- what the ARM emulator calls ----------------------------------------------------------

    def config_changed(self, cluster: Cluster, name: str) -> None:
        """A PUT/PATCH of configuration ``name`` succeeded: report Pending and reconcile anew (a change of the
        protected settings alone keeps what the objects report and fetches again at once)."""
        key = (cluster.key, name.lower())
        self._cancel(key)
        record = cluster.flux_configs.get(name.lower())
        if record is None:
            return
        if record.properties.get("suspend"):
            mark_suspended(record)
            if self.view is not None:
                self.view.suspended(cluster, name)
            return
        previous = self._states.get(key)
        if previous is not None and _spec(previous.record) == _spec(record):
            # Only the protected settings changed (a key or token rotated): the Flux objects' specs are as
            # they were, so they stay as Ready as they were; the source fetches at once with the new secret.
            state = dataclasses.replace(previous, record=record, waiter=None, fetch_requested=True)
            self._states[key] = state
        else:
            state = self._state_for(cluster, record, reset=True)
        self._publish(cluster, state)
        self._tasks[key] = asyncio.get_running_loop().create_task(
            self._run(cluster, state), name=f"fluxsim {cluster.name}/{record.name}"
        )

    def config_deleted(self, cluster: Cluster, name: str) -> None:
        """Configuration ``name`` is gone: stop reconciling it and forget its state."""
        key = (cluster.key, name.lower())
        self._cancel(key)
        self._states.pop(key, None)
        if self.view is not None:
            self.view.config_deleted(cluster, name)

    def extension_changed(self, cluster: Cluster) -> None:
        """An extension operation on the cluster ended: the Flux controllers and CRDs follow microsoft.flux."""
        if self.view is not None:
            self.view.extension_changed(cluster)

    def v1_config_deleted(self, cluster: Cluster, name: str) -> None:
        """Flux v1 configuration ``name`` was deleted: its operator leaves the cluster."""
        if self.view is not None:
            self.view.v1_config_deleted(cluster, name)

    def cluster_changed(self, cluster: Cluster) -> None:
        """The cluster's extensions or Flux v1 configurations were changed outside ARM (by a test, a seed):
        its controllers, CRDs and Flux v1 operators follow."""
        if self.view is not None:
            self.view.cluster_changed(cluster)

    def set_receiver(self, url: str | None, enabled: bool) -> None:
        """Turn the push Receiver of repository ``url`` (None: of every repository) on or off."""
        if url is None:
            self.receivers = enabled
            return
        key = canonical_repo(url)
        if key is None:
            raise ValueError(f"not a repository URL: {url!r}")
        if enabled:
            self._receivers_off.discard(key)
        else:
            self._receivers_off.add(key)

    def set_helm_fault(self, release: str, message: str | None, config: str | None = None) -> int:
        """Make every HelmRelease named ``release`` (of configuration ``config`` only, when given) fail to install
        or upgrade with ``message`` (None: succeed again), as helm-controller reports a chart that stops
        installing; those configurations apply again at once so it shows. Returns how many were nudged."""
        key = (config or "").lower(), release.lower()
        if message is None:
            self.helm_faults.pop(key, None)
        else:
            self.helm_faults[key] = message
        nudged = 0
        for state in self._states.values():
            if config is None or state.record.name.lower() == key[0]:
                state.request_apply()
                nudged += 1
        return nudged

    def _helm_faults(self, state: ConfigState) -> dict[str, str]:
        """Release name -> injected failure, for ``state``'s configuration."""
        config = state.record.name.lower()
        return {release: message for (scope, release), message in self.helm_faults.items() if scope in ("", config)}

    async def reconcile_now(self, cluster: Cluster, name: str) -> None:
        """Fetch and apply configuration ``name`` once, without pacing; return when done."""
        record = cluster.flux_configs.get(name.lower())
        if record is None:
            raise KeyError(f"no flux configuration {name!r} on cluster {cluster.name!r}")
        if record.properties.get("suspend"):
            mark_suspended(record)
            return
        state = self._state_for(cluster, record, reset=False)
        with contextlib.suppress(Stale):
            await self._pass(cluster, state, fetch=True, apply=True, paced=False)

    def receiver_enabled(self, url: str) -> bool:
        """A push to repository ``url`` nudges the configurations tracking it."""
        return self.receivers and canonical_repo(url) not in self._receivers_off

    def repository_pushed(self, url: str, branch: str) -> int:
        """Commits were pushed to ``branch`` of the repository ``url`` names: every configuration that
        tracks it fetches now instead of at its next interval, as Flux does when a notification-controller
        Receiver gets the Git host's push webhook. Returns how many configurations were nudged."""
        key = canonical_repo(url)
        if not self.receiver_enabled(url):
            return 0
        nudged = 0
        for state in self._states.values():
            git = mapping(state.record.properties.get("gitRepository"))
            ref_kind, ref_value = repository_ref(mapping(git.get("repositoryRef")))
            if key is None or canonical_repo(str(git.get("url") or "")) != key:
                continue
            if ref_kind != "branch" or ref_value != branch:
                continue
            state.request_fetch()
            nudged += 1
        return nudged

    async def stop(self) -> None:
        """Cancel every reconcile loop and wait for them to end."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def fetch_attempts(
        self, *, cluster_name: str | None = None, config: str | None = None, since_wall: float | None = None
    ) -> list[FetchAttempt]:
        """The logged fetch attempts, oldest first, of a cluster (by name, the last segment of its id)
        and configuration (both case-insensitive), made at or after wall-clock ``since_wall``."""
        attempts = self.sources.attempts()
        return [
            a
            for a in attempts
            if (cluster_name is None or a.cluster_id.rsplit("/", 1)[-1].casefold() == cluster_name.casefold())
            and (config is None or a.config.casefold() == config.casefold())
            and (since_wall is None or a.wall >= since_wall)
        ]

    # -- loop ---------------------------------------------------------------------------------

    def _cancel(self, key: tuple[tuple[str, ...], str]) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def _state_for(self, cluster: Cluster, record: FluxConfigRecord, *, reset: bool) -> ConfigState:
        """The state of ``record``; rebuilt (kept artifact and Helm history) when the record is new."""
        key = (cluster.key, record.name.lower())
        state = self._states.get(key)
        if state is not None and state.record is record and not reset:
            return state
        props = record.properties
        namespace = str(props.get("namespace") or "flux-system")
        kind = str(props.get("sourceKind") or "GitRepository")
        source = ObjectStatus(kind=SOURCE_OBJECT_KIND.get(kind, kind), name=record.name, namespace=namespace)
        source.set("Unknown", "Progressing", "Reconciliation in progress")
        fresh = ConfigState(record=record, source=source)
        if state is not None:
            # One lock per configuration, whatever its generation; and the cluster still holds
            # what the previous generation applied (artifact, Helm release history).
            fresh.lock, fresh.artifact = state.lock, state.artifact
            fresh.source_updated_at, fresh.helm_revisions = state.source_updated_at, state.helm_revisions
            # What the objects in the cluster show carries over, and requests not handled yet stay asked for.
            fresh.source_requested, fresh.source_handled = state.source_requested, state.source_handled
            fresh.ks_requested, fresh.ks_handled = state.ks_requested, state.ks_handled
            fresh.ks_revisions = state.ks_revisions
        for ks_name in mapping(props.get("kustomizations")):
            obj = ObjectStatus(kind="Kustomization", name=f"{record.name}-{ks_name}", namespace=namespace)
            obj.set("Unknown", "Progressing", "Reconciliation in progress")
            fresh.kustomizations[ks_name] = obj
            if state is not None and ks_name in state.releases:
                fresh.releases[ks_name] = state.releases[ks_name]
        self._states[key] = fresh
        return fresh

    async def _run(self, cluster: Cluster, state: ConfigState) -> None:
        """Reconcile until cancelled or superseded: fetch every source interval, apply every
        kustomization interval (and whenever a new revision arrives)."""
        loop = asyncio.get_running_loop()
        while True:
            props = state.record.properties
            source = mapping(props.get(SOURCE_KEYS.get(str(props.get("sourceKind")), "gitRepository")))
            fetch_due = state.fetched_at + self._scaled(source.get("syncIntervalInSeconds")) * state.fetch_jitter
            if state.fetch_requested:
                fetch_due = -math.inf
            apply_due = state.applied_at + self._scaled(self._apply_interval(state)) * state.apply_jitter
            if state.apply_requested:
                apply_due = -math.inf
            now = loop.time()
            if now < min(fetch_due, apply_due) - 1e-3:
                await self._sleep_until(state, min(fetch_due, apply_due))
                continue
            try:
                await self._pass(
                    cluster, state, fetch=now >= fetch_due - 1e-3, apply=now >= apply_due - 1e-3, paced=True
                )
            except Stale:
                return
            except Exception:
                # A bug here must not silently end this configuration's reconciling.
                _log.exception("reconcile of %s/%s failed", cluster.name, state.record.name)
                state.fetched_at = state.applied_at = loop.time()

    @staticmethod
    async def _sleep_until(state: ConfigState, deadline: float) -> None:
        """Sleep until ``deadline`` (loop time) or until a fetch is requested: one timer, no extra task."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        handle = loop.call_at(deadline, _resolve, waiter)
        state.waiter = waiter
        try:
            await waiter
        finally:
            handle.cancel()
            state.waiter = None

    def _jitter(self) -> float:
        return 1.0 + self._random.uniform(-INTERVAL_JITTER, INTERVAL_JITTER)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the simulator's own threads."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="fluxsim")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    @staticmethod
    def _apply_interval(state: ConfigState) -> float:
        """The shortest kustomization interval (its retry interval while one has failed)."""
        intervals = []
        for spec in map(mapping, mapping(state.record.properties.get("kustomizations")).values()):
            interval = spec.get("syncIntervalInSeconds") or DEFAULT_INTERVAL
            intervals.append(float(spec.get("retryIntervalInSeconds") or interval if state.failed else interval))
        return min(intervals, default=DEFAULT_INTERVAL)

    def _scaled(self, seconds: Any) -> float:
        return float(seconds or DEFAULT_INTERVAL) / self.time_scale

    async def _pass(self, cluster: Cluster, state: ConfigState, *, fetch: bool, apply: bool, paced: bool) -> None:
        """One reconcile: fetch (if due), then apply when the revision moved on or ``apply`` is due."""
        loop = asyncio.get_running_loop()
        async with state.lock:
            self._check_live(cluster, state)
            if fetch:
                if paced:
                    await asyncio.sleep(self.step_seconds)
                # A push (or reconcile request) landing while this fetch runs asks for another one.
                state.fetch_requested = False
                requested = state.source_requested
                await self._fetch(cluster, state)
                state.fetched_at, state.fetch_jitter = loop.time(), self._jitter()
                if requested is not None:
                    # source-controller copies the request it acted on once the fetch is done
                    state.source_handled = requested
                    if state.source_requested == requested:
                        state.source_requested = None
                    self._publish(cluster, state)
            new_revision = state.artifact is not None and state.artifact.sha != state.applied_sha
            if apply or new_revision:
                state.apply_requested = False
                await self._apply(cluster, state, paced=paced)
                state.applied_at, state.apply_jitter = loop.time(), self._jitter()

    def _check_live(self, cluster: Cluster, state: ConfigState) -> None:
        """Raise Stale unless ``state`` still describes the configuration the cluster holds."""
        # The emulator writes a new record (generation + 1) for every accepted change.
        key = (cluster.key, state.record.name.lower())
        current = cluster.flux_configs.get(key[1])
        if (
            current is not state.record
            or current.generation != state.record.generation
            or self._states.get(key) is not state
        ):
            raise Stale

    def _publish(self, cluster: Cluster, state: ConfigState) -> None:
        """Statuses into the ARM record, and the Flux objects into the cluster's Kubernetes API."""
        publish(state)
        if self.view is not None:
            self.view.publish(cluster, state)

    @staticmethod
    def _record_revisions(state: ConfigState, ks_name: str, obj: ObjectStatus, revision: str | None) -> bool:
        """Set the kustomization's lastAppliedRevision / lastAttemptedRevision; True when something new was
        applied or it became Ready again (what kustomize-controller announces with an event)."""
        applied, attempted = state.ks_revisions.get(ks_name, (None, None))
        if revision is None:
            return False
        if obj.status == "True":
            state.ks_revisions[ks_name] = (revision, revision)
            return applied != revision or attempted != applied
        state.ks_revisions[ks_name] = (applied, revision)
        return False

    def _reconcile_requested(self, cluster_key: ClusterKey, config: str, ks_name: str | None, value: str) -> None:
        """A client set ``reconcile.fluxcd.io/requestedAt`` on a source (fetch now) or a Kustomization (apply
        now): as Flux's controllers, reconcile at once and copy the value into ``lastHandledReconcileAt`` when
        done. A suspended configuration handles nothing."""
        state = self._states.get((cluster_key, config))
        cluster = self.world.clusters.get(cluster_key)
        current = cluster.flux_configs.get(config) if cluster is not None else None
        if state is None or current is None or current.properties.get("suspend"):
            return
        if ks_name is None:
            state.source_requested = value
            state.request_fetch()
        elif ks_name in state.kustomizations:
            state.ks_requested[ks_name] = value
            state.request_apply()

    # -- source -------------------------------------------------------------------------------

    async def _fetch(self, cluster: Cluster, state: ConfigState) -> None:
        record, source = state.record, state.source
        props = record.properties
        kind = str(props.get("sourceKind") or "GitRepository")
        result: Artifact | str
        reason = failed_reason(kind)
        if kind == "GitRepository":
            git = mapping(props.get("gitRepository"))
            url = str(git.get("url") or "")
            ref_kind, ref_value = repository_ref(mapping(git.get("repositoryRef")))
            creds = credentials(cluster, record)
            result = await self._in_thread(self._fetch_git, cluster.id, record.name, url, ref_kind, ref_value, creds)
        else:
            prepared = prepare_fetch(kind, cluster, record, self.source_access)
            result = await self._in_thread(prepared.run)
            self.sources.log_fetch(cluster.id, record.name, prepared.url, prepared.auth_method, result)
            reason = "AuthenticationFailed" if prepared.auth_error else reason
        self._check_live(cluster, state)
        new_artifact = False
        if isinstance(result, Artifact):
            if state.artifact is None or state.artifact.sha != result.sha:
                state.source_updated_at = utc_now_iso(time.time())
                new_artifact = True
            state.artifact = result
            if kind == "GitRepository":
                source.set("True", "GitOperationSucceed", f"Fetched revision: {result.revision}")
            else:
                source.set("True", "Succeeded", ready_message(kind, result))
        else:
            source.set("False", reason, result)
        self._publish(cluster, state)
        if self.view is not None:
            self.view.fetched(cluster, state, new_artifact=new_artifact)

    def _fetch_git(
        self, cluster_id: str, config: str, url: str, ref_kind: RefKind, ref_value: str, creds: Credentials
    ) -> Artifact | str:
        """One fetch by :class:`SourceFetcher` (in a worker thread); the seam tests wrap to watch fetches."""
        return self.sources.fetch_git(cluster_id, config, url, ref_kind, ref_value, creds)

    # -- kustomizations -----------------------------------------------------------------------

    async def _apply(self, cluster: Cluster, state: ConfigState, *, paced: bool) -> None:
        props = state.record.properties
        namespace = str(props.get("namespace") or "flux-system")
        specs = {name: mapping(spec) for name, spec in mapping(props.get("kustomizations")).items()}
        artifact = state.artifact
        # requests made before this apply began are handled by it (later ones by the next)
        requests = dict(state.ks_requested)
        revision = flux_revision(artifact.revision) if artifact else None
        for ks_name in dependency_order(specs):
            if paced:
                await asyncio.sleep(self.step_seconds)
            self._check_live(cluster, state)
            started = time.monotonic()
            obj = state.kustomizations[ks_name]
            spec = specs[ks_name]
            blocker = blocking_dependency(spec, state, namespace, state.record.name)
            if artifact is None:
                retry = spec.get("retryIntervalInSeconds") or spec.get("syncIntervalInSeconds") or DEFAULT_INTERVAL
                obj.set("False", "ArtifactFailed", f"Source artifact not found, retrying in {go_duration(retry)}")
            elif blocker:
                obj.set("False", "DependencyNotReady", blocker)
            else:
                # A fleet on one commit builds each kustomization once: later ones are read on the loop.
                build = self._builds.cached(artifact, spec, namespace, obj.name)
                if build is None:
                    build = await self._in_thread(self._builds.build, artifact, spec, namespace, obj.name)
                    self._check_live(cluster, state)
                if build.error:
                    obj.set("False", build.reason, build.error)
                else:
                    obj.set("True", "ReconciliationSucceeded", f"Applied revision: {artifact.revision}")
                    state.releases[ks_name] = release_statuses(state, build, obj, namespace, self._helm_faults(state))
            changed = self._record_revisions(state, ks_name, obj, revision)
            if ks_name in requests:
                state.ks_handled[ks_name] = requests[ks_name]
                if state.ks_requested.get(ks_name) == requests[ks_name]:
                    del state.ks_requested[ks_name]
            self._publish(cluster, state)
            if self.view is not None:
                self.view.applied(cluster, state, ks_name, changed=changed, seconds=time.monotonic() - started)
        state.applied_sha = artifact.sha if artifact else None
        state.failed = any(o.status != "True" for o in state.kustomizations.values())
        if artifact is not None and self.on_applied is not None:
            self.on_applied(cluster, state.record.name, artifact.sha)


#: what the agent reports in a configuration's properties, not part of what was asked for
_STATUS_KEYS = frozenset(
    {
        "statuses",
        "complianceState",
        "sourceSyncedCommitId",
        "sourceUpdatedAt",
        "statusUpdatedAt",
        "errorMessage",
        "provisioningState",
        "repositoryPublicKey",
    }
)


def _spec(record: FluxConfigRecord) -> dict[str, Any]:
    return {k: v for k, v in record.properties.items() if k not in _STATUS_KEYS}


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
