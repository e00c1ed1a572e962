"""The simulated Flux agent: each cluster's flux configurations reconciled against real git repositories.

Per configuration, as the Azure flux agent and the Flux controllers would: fetch the source (auth
checked by :class:`~sandbox.git_access.GitAccess`), then build and "apply" each kustomization in
dependsOn order, one step at a time, and report everything in the configuration's ``statuses``
with the compliance roll-up ARM shows. Nothing is applied anywhere: a kustomization succeeds when
its path exists and every manifest under it builds and parses. Git and YAML work runs in threads.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import math
import posixpath
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from sandbox.git_access import AccessResult, GitAccess
from sandbox.gitrepos import (
    GitError,
    RefKind,
    RepoHandle,
    RepoStore,
    SemverError,
    canonical_repo,
    parse_repo_url,
    redact_url,
)
from sandbox.world import Cluster, FluxConfigRecord, World, utc_now_iso

DEFAULT_INTERVAL = 600  # ARM's default syncIntervalInSeconds
_BUILD_CACHE_SIZE = 1024
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MANIFEST_SUFFIXES = (".yaml", ".yml")
_SUBSTITUTION = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}")
_CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
}
_log = logging.getLogger(__name__)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: fleets build a lot


@dataclass(frozen=True)
class FetchAttempt:
    """One source fetch attempt: never key material or tokens, only a key fingerprint."""

    monotonic: float
    wall: float
    cluster_id: str
    config: str
    url: str  # credentials removed
    auth_method: str  # "ssh-key" | "https-token" | "anonymous"
    fingerprint: str | None
    ok: bool
    revision: str | None  # "main/<sha>" when ok
    message: str  # the failure as Flux reports it, "" when ok


# ---------------------------------------------------------------------------------------------
# Status objects, rendered exactly as ARM returns them under properties.statuses
# ---------------------------------------------------------------------------------------------


@dataclass
class _ObjectStatus:
    kind: str
    name: str
    namespace: str
    status: str = "Unknown"  # Ready condition: "True" | "False" | "Unknown"
    reason: str = "Progressing"
    message: str = "Reconciliation in progress"
    since: str = ""
    applied_by: dict[str, str] | None = None
    helm: dict[str, Any] | None = None

    def set(self, status: str, reason: str, message: str) -> None:
        if status != self.status or not self.since:
            self.since = utc_now_iso(time.time())
        self.status, self.reason, self.message = status, reason, message

    @property
    def compliance(self) -> str:
        return {"True": "Compliant", "False": "Non-Compliant"}.get(self.status, "Pending")

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "kind": self.kind,
            "complianceState": self.compliance,
            "appliedBy": dict(self.applied_by) if self.applied_by else None,
            "helmReleaseProperties": json.loads(json.dumps(self.helm)) if self.helm else None,
            "statusConditions": [
                {
                    "lastTransitionTime": self.since,
                    "message": self.message,
                    "reason": self.reason,
                    "status": self.status,
                    "type": "Ready",
                }
            ],
        }


@dataclass(frozen=True)
class _Artifact:
    repo: Path
    sha: str
    revision: str  # as sourceSyncedCommitId shows it
    tree: Mapping[str, bytes]


@dataclass(frozen=True)
class _Credentials:
    ssh_key: str | None = field(default=None, repr=False)  # text or base64 of the text, for GitAccess
    username: str | None = None
    token: str | None = field(default=None, repr=False)
    known_hosts: str | None = field(default=None, repr=False)  # gitRepository.sshKnownHosts (base64)
    error: str | None = None  # e.g. the localAuthRef secret does not exist


@dataclass(frozen=True)
class _Release:
    namespace: str
    name: str
    digest: str  # of the spec: a change is an upgrade


@dataclass(frozen=True)
class _Build:
    releases: tuple[_Release, ...] = ()
    reason: str = ""  # failure reason, "" when the build succeeded
    error: str = ""


@dataclass
class _ConfigState:
    record: FluxConfigRecord
    source: _ObjectStatus
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    kustomizations: dict[str, _ObjectStatus] = field(default_factory=dict)
    releases: dict[str, list[_ObjectStatus]] = field(default_factory=dict)
    helm_revisions: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    artifact: _Artifact | None = None  # the last good one survives a failed fetch, as in Flux
    applied_sha: str | None = None
    source_updated_at: str | None = None
    fetched_at: float = -math.inf
    applied_at: float = -math.inf
    failed: bool = False
    #: set to make the reconcile loop look again now (a notification Receiver's webhook)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class _Stale(Exception):
    """The configuration was deleted or rewritten while a reconcile was under way."""


# ---------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------


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
    ) -> None:
        self.world = world
        self.repos = repos
        self.access = access
        self.time_scale = time_scale
        self.step_seconds = step_seconds
        #: every source fetch attempt, oldest first (trimmed to the newest ``fetch_log_limit``)
        self.fetch_log: list[FetchAttempt] = []
        self._fetch_log_limit = fetch_log_limit
        self._log_lock = threading.Lock()
        self._states: dict[tuple[tuple[str, ...], str], _ConfigState] = {}
        self._tasks: dict[tuple[tuple[str, ...], str], asyncio.Task[None]] = {}
        self._builds: OrderedDict[tuple[object, ...], _Build] = OrderedDict()
        self._build_lock = threading.Lock()

    # -- what the ARM emulator calls ----------------------------------------------------------

    def config_changed(self, cluster: Cluster, name: str) -> None:
        """A PUT/PATCH of configuration ``name`` succeeded: report Pending and reconcile anew."""
        key = (cluster.key, name.lower())
        self._cancel(key)
        record = cluster.flux_configs.get(name.lower())
        if record is None:
            return
        if record.properties.get("suspend"):
            _mark_suspended(record)
            return
        state = self._state_for(cluster, record, reset=True)
        self._publish(state)
        self._tasks[key] = asyncio.get_running_loop().create_task(
            self._run(cluster, state), name=f"fluxsim {cluster.name}/{record.name}"
        )

    def config_deleted(self, cluster: Cluster, name: str) -> None:
        """Configuration ``name`` is gone: stop reconciling it and forget its state."""
        key = (cluster.key, name.lower())
        self._cancel(key)
        self._states.pop(key, None)

    async def reconcile_now(self, cluster: Cluster, name: str) -> None:
        """Fetch and apply configuration ``name`` once, without pacing; return when done."""
        record = cluster.flux_configs.get(name.lower())
        if record is None:
            raise KeyError(f"no flux configuration {name!r} on cluster {cluster.name!r}")
        if record.properties.get("suspend"):
            _mark_suspended(record)
            return
        state = self._state_for(cluster, record, reset=False)
        with contextlib.suppress(_Stale):
            await self._pass(cluster, state, fetch=True, apply=True, paced=False)

    def repository_pushed(self, url: str, branch: str) -> int:
        """Commits were pushed to ``branch`` of the repository ``url`` names: every configuration that
        tracks it fetches now instead of at its next interval, as Flux does when a notification-controller
        Receiver gets the Git host's push webhook. Returns how many configurations were nudged."""
        key = canonical_repo(url)
        nudged = 0
        for state in list(self._states.values()):
            git = _mapping(state.record.properties.get("gitRepository"))
            ref_kind, ref_value = _repository_ref(_mapping(git.get("repositoryRef")))
            if key is None or canonical_repo(str(git.get("url") or "")) != key:
                continue
            if ref_kind != "branch" or ref_value != branch:
                continue
            state.fetched_at = -math.inf
            state.wake.set()
            nudged += 1
        return nudged

    async def stop(self) -> None:
        """Cancel every reconcile loop and wait for them to end."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def fetch_attempts(
        self, *, cluster_name: str | None = None, config: str | None = None, since_wall: float | None = None
    ) -> list[FetchAttempt]:
        """The logged fetch attempts, oldest first, of a cluster (by name, the last segment of its id)
        and configuration (both case-insensitive), made at or after wall-clock ``since_wall``."""
        with self._log_lock:
            attempts = list(self.fetch_log)
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

    def _state_for(self, cluster: Cluster, record: FluxConfigRecord, *, reset: bool) -> _ConfigState:
        """The state of ``record``; rebuilt (kept artifact and Helm history) when the record is new."""
        key = (cluster.key, record.name.lower())
        state = self._states.get(key)
        if state is not None and state.record is record and not reset:
            return state
        props = record.properties
        namespace = str(props.get("namespace") or "flux-system")
        kind = str(props.get("sourceKind") or "GitRepository")
        source = _ObjectStatus(kind=_SOURCE_OBJECT_KIND.get(kind, kind), name=record.name, namespace=namespace)
        source.set("Unknown", "Progressing", "Reconciliation in progress")
        fresh = _ConfigState(record=record, source=source)
        if state is not None:
            # One lock per configuration, whatever its generation; and the cluster still holds
            # what the previous generation applied (artifact, Helm release history).
            fresh.lock, fresh.artifact = state.lock, state.artifact
            fresh.source_updated_at, fresh.helm_revisions = state.source_updated_at, state.helm_revisions
        for ks_name in _mapping(props.get("kustomizations")):
            obj = _ObjectStatus(kind="Kustomization", name=f"{record.name}-{ks_name}", namespace=namespace)
            obj.set("Unknown", "Progressing", "Reconciliation in progress")
            fresh.kustomizations[ks_name] = obj
            if state is not None and ks_name in state.releases:
                fresh.releases[ks_name] = state.releases[ks_name]
        self._states[key] = fresh
        return fresh

    async def _run(self, cluster: Cluster, state: _ConfigState) -> None:
        """Reconcile until cancelled or superseded: fetch every source interval, apply every
        kustomization interval (and whenever a new revision arrives)."""
        loop = asyncio.get_running_loop()
        while True:
            props = state.record.properties
            source = _mapping(props.get(_SOURCE_KEYS.get(str(props.get("sourceKind")), "gitRepository")))
            fetch_due = state.fetched_at + self._scaled(source.get("syncIntervalInSeconds"))
            apply_due = state.applied_at + self._scaled(self._apply_interval(state))
            now = loop.time()
            if now < min(fetch_due, apply_due) - 1e-3:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.wake.wait(), min(fetch_due, apply_due) - now)
                state.wake.clear()
                continue
            try:
                await self._pass(
                    cluster, state, fetch=now >= fetch_due - 1e-3, apply=now >= apply_due - 1e-3, paced=True
                )
            except _Stale:
                return
            except Exception:
                # A bug here must not silently end this configuration's reconciling.
                _log.exception("reconcile of %s/%s failed", cluster.name, state.record.name)
                state.fetched_at = state.applied_at = loop.time()

    @staticmethod
    def _apply_interval(state: _ConfigState) -> float:
        """The shortest kustomization interval (its retry interval while one has failed)."""
        intervals = []
        for spec in map(_mapping, _mapping(state.record.properties.get("kustomizations")).values()):
            interval = spec.get("syncIntervalInSeconds") or DEFAULT_INTERVAL
            intervals.append(float(spec.get("retryIntervalInSeconds") or interval if state.failed else interval))
        return min(intervals, default=DEFAULT_INTERVAL)

    def _scaled(self, seconds: Any) -> float:
        return float(seconds or DEFAULT_INTERVAL) / self.time_scale

    async def _pass(self, cluster: Cluster, state: _ConfigState, *, fetch: bool, apply: bool, paced: bool) -> None:
        """One reconcile: fetch (if due), then apply when the revision moved on or ``apply`` is due."""
        loop = asyncio.get_running_loop()
        async with state.lock:
            self._check_live(cluster, state)
            if fetch:
                if paced:
                    await asyncio.sleep(self.step_seconds)
                await self._fetch(cluster, state)
                state.fetched_at = loop.time()
            new_revision = state.artifact is not None and state.artifact.sha != state.applied_sha
            if apply or new_revision:
                await self._apply(cluster, state, paced=paced)
                state.applied_at = loop.time()

    def _check_live(self, cluster: Cluster, state: _ConfigState) -> None:
        """Raise _Stale unless ``state`` still describes the configuration the cluster holds."""
        # The emulator writes a new record (generation + 1) for every accepted change.
        key = (cluster.key, state.record.name.lower())
        current = cluster.flux_configs.get(key[1])
        if (
            current is not state.record
            or current.generation != state.record.generation
            or self._states.get(key) is not state
        ):
            raise _Stale

    # -- source -------------------------------------------------------------------------------

    async def _fetch(self, cluster: Cluster, state: _ConfigState) -> None:
        record, source = state.record, state.source
        props = record.properties
        kind = str(props.get("sourceKind") or "GitRepository")
        if kind != "GitRepository":
            source.set("False", _SOURCE_FAILED_REASON.get(kind, "ReconciliationFailed"), _not_served(kind))
            self._publish(state)
            return
        git = _mapping(props.get("gitRepository"))
        url = str(git.get("url") or "")
        ref_kind, ref_value = _repository_ref(_mapping(git.get("repositoryRef")))
        creds = _credentials(cluster, record)
        result = await asyncio.to_thread(self._fetch_git, cluster.id, record.name, url, ref_kind, ref_value, creds)
        self._check_live(cluster, state)
        if isinstance(result, _Artifact):
            if state.artifact is None or state.artifact.sha != result.sha:
                state.source_updated_at = utc_now_iso(time.time())
            state.artifact = result
            source.set("True", "GitOperationSucceed", f"Fetched revision: {result.revision}")
        else:
            source.set("False", "GitOperationFailed", result)
        self._publish(state)

    def _fetch_git(
        self, cluster_id: str, config: str, url: str, ref_kind: RefKind, ref_value: str, creds: _Credentials
    ) -> _Artifact | str:
        """Check access, resolve the ref and read the tree (in a worker thread); log the attempt."""
        parsed = parse_repo_url(url)
        handle = self.repos.resolve_url(url)
        ssh = parsed is not None and parsed[0] == "ssh"
        method = "ssh-key" if ssh else "https-token" if creds.token else "anonymous"
        outcome: _Artifact | str
        access: AccessResult | None = None
        if parsed is None:
            outcome = f"failed to checkout and determine revision: unable to clone '{redact_url(url)}': invalid URL"
        elif creds.error:
            outcome = creds.error
        elif not self.repos.knows_host(parsed[1]):
            host = parsed[1].split(":")[0]
            outcome = (
                f"failed to checkout and determine revision: unable to clone '{redact_url(url)}': "
                f"dial tcp: lookup {host}: no such host"
            )
        elif ssh and creds.known_hosts and (refused := self._check_host_key(url, creds.known_hosts)):
            # The host key is checked in the handshake, before any key is offered.
            outcome = f"failed to checkout and determine revision: unable to clone '{redact_url(url)}': {refused}"
        elif handle is None:
            access = self.access.check_unknown(url, ssh_key=creds.ssh_key, token=creds.token)
            outcome = access.message
        else:
            if ssh:
                access = self.access.check_ssh(handle, creds.ssh_key)
            else:
                access = self.access.check_https(handle, creds.username, creds.token)
            outcome = access.message
            if access.ok:
                outcome = self._checkout(handle, ref_kind, ref_value)
        if access is not None:
            method = access.method
        ok = isinstance(outcome, _Artifact)
        self._log(
            FetchAttempt(
                monotonic=time.monotonic(),
                wall=time.time(),
                cluster_id=cluster_id,
                config=config,
                url=redact_url(url),
                auth_method=method,
                fingerprint=access.fingerprint if access else None,
                ok=ok,
                revision=outcome.revision if isinstance(outcome, _Artifact) else None,
                message="" if isinstance(outcome, _Artifact) else outcome,
            )
        )
        return outcome

    def _check_host_key(self, url: str, known_hosts_b64: str) -> str | None:
        """Flux's known_hosts check of the SSH server ``url`` names: None or the failure detail."""
        host, port = _ssh_endpoint(url)
        return self.access.check_known_hosts(host, port, known_hosts_b64)

    def _checkout(self, handle: RepoHandle, ref_kind: RefKind, value: str) -> _Artifact | str:
        failed = "failed to checkout and determine revision"
        url = handle.url
        try:
            ref = self.repos.resolve_ref(handle, ref_kind, value)
            tree = self.repos.read_tree(handle, ref.sha) if ref else None
        except SemverError as exc:
            return f"{failed}: semver parse error: {exc}"
        except GitError as exc:
            return f"{failed}: unable to clone '{url}': {exc}"
        if ref is None:
            if ref_kind == "semver":
                return f"{failed}: no match found for semver: {value}"
            if ref_kind == "commit":
                return f"{failed}: unable to resolve commit object for '{value}': object not found"
            where = "heads" if ref_kind == "branch" else "tags"
            return f"{failed}: unable to clone '{url}': couldn't find remote ref \"refs/{where}/{value}\""
        revision = ref.sha if ref.name is None else f"{ref.name}/{ref.sha}"
        assert tree is not None
        return _Artifact(repo=handle.path, sha=ref.sha, revision=revision, tree=tree)

    def _log(self, attempt: FetchAttempt) -> None:
        with self._log_lock:
            self.fetch_log.append(attempt)
            if len(self.fetch_log) > self._fetch_log_limit:
                del self.fetch_log[: len(self.fetch_log) - self._fetch_log_limit]

    # -- kustomizations -----------------------------------------------------------------------

    async def _apply(self, cluster: Cluster, state: _ConfigState, *, paced: bool) -> None:
        props = state.record.properties
        namespace = str(props.get("namespace") or "flux-system")
        specs = {name: _mapping(spec) for name, spec in _mapping(props.get("kustomizations")).items()}
        artifact = state.artifact
        for ks_name in _dependency_order(specs):
            if paced:
                await asyncio.sleep(self.step_seconds)
            self._check_live(cluster, state)
            obj = state.kustomizations[ks_name]
            spec = specs[ks_name]
            blocker = _blocking_dependency(spec, state, namespace, state.record.name)
            if artifact is None:
                retry = spec.get("retryIntervalInSeconds") or spec.get("syncIntervalInSeconds") or DEFAULT_INTERVAL
                obj.set("False", "ArtifactFailed", f"Source artifact not found, retrying in {_go_duration(retry)}")
            elif blocker:
                obj.set("False", "DependencyNotReady", blocker)
            else:
                build = await asyncio.to_thread(self._build_cached, artifact, spec, namespace, obj.name)
                self._check_live(cluster, state)
                if build.error:
                    obj.set("False", build.reason, build.error)
                else:
                    obj.set("True", "ReconciliationSucceeded", f"Applied revision: {artifact.revision}")
                    state.releases[ks_name] = self._release_statuses(state, build, obj, namespace)
            self._publish(state)
        state.applied_sha = artifact.sha if artifact else None
        state.failed = any(o.status != "True" for o in state.kustomizations.values())

    def _release_statuses(
        self, state: _ConfigState, build: _Build, applied_by: _ObjectStatus, namespace: str
    ) -> list[_ObjectStatus]:
        """HelmRelease statuses for what a kustomization applied; a changed spec is an upgrade."""
        previous = {(o.namespace, o.name): o for objs in state.releases.values() for o in objs}
        out = []
        for release in build.releases:
            key = (release.namespace, release.name)
            digest, revision = state.helm_revisions.get(key, ("", 0))
            if digest != release.digest:
                revision += 1
                state.helm_revisions[key] = (release.digest, revision)
            obj = previous.get(key) or _ObjectStatus(kind="HelmRelease", name=release.name, namespace=release.namespace)
            obj.set(
                "True",
                "InstallSucceeded" if revision == 1 else "UpgradeSucceeded",
                "Release reconciliation succeeded",
            )
            obj.applied_by = {"name": applied_by.name, "namespace": applied_by.namespace}
            obj.helm = {
                "lastRevisionApplied": revision,
                "helmChartRef": {"name": f"{release.namespace}-{release.name}", "namespace": namespace},
                "failureCount": 0,
                "installFailureCount": 0,
                "upgradeFailureCount": 0,
            }
            out.append(obj)
        return out

    def _build_cached(self, artifact: _Artifact, spec: Mapping[str, Any], namespace: str, obj_name: str) -> _Build:
        """Build a kustomization, cached: a fleet applies the same commit many times."""
        substitute = _mapping(_mapping(spec.get("postBuild")).get("substitute"))
        variables = tuple(sorted((str(k), str(v)) for k, v in substitute.items()))
        path = str(spec.get("path") or "./")
        key = (artifact.repo, artifact.sha, path, variables, namespace, obj_name)
        with self._build_lock:
            hit = self._builds.get(key)
            if hit is not None:
                self._builds.move_to_end(key)
                return hit
        build = build_kustomization(
            artifact.tree,
            path,
            dict(variables),
            namespace,
            # Flux builds in a temp dir named like this; a stable number keeps messages stable.
            f"/tmp/kustomization-{zlib.crc32(obj_name.encode())}",  # noqa: S108 - only shown in messages
        )
        with self._build_lock:
            self._builds[key] = build
            while len(self._builds) > _BUILD_CACHE_SIZE:
                self._builds.popitem(last=False)
        return build

    # -- reporting ----------------------------------------------------------------------------

    def _publish(self, state: _ConfigState) -> None:
        """Write statuses and the compliance roll-up into the record's properties."""
        props = state.record.properties
        objects = [
            state.source,
            *state.kustomizations.values(),
            *(o for ks in state.kustomizations for o in state.releases.get(ks, [])),
        ]
        failed = next((o for o in objects if o.status == "False"), None)
        if props.get("suspend"):
            compliance = "Suspended"
        elif failed is not None:
            compliance = "Non-Compliant"
        elif any(o.status != "True" for o in objects):
            compliance = "Pending"
        else:
            compliance = "Compliant"
        props["statuses"] = [o.entry() for o in objects]
        props["complianceState"] = compliance
        props["sourceSyncedCommitId"] = state.artifact.revision if state.artifact else None
        props["sourceUpdatedAt"] = state.source_updated_at
        props["statusUpdatedAt"] = utc_now_iso(time.time())
        props["errorMessage"] = (
            f"{failed.kind} '{failed.namespace}/{failed.name}': {failed.message}"
            if failed is not None and compliance == "Non-Compliant"
            else ""
        )


# ---------------------------------------------------------------------------------------------
# Building a kustomization (pure: tree in, releases or an error out)
# ---------------------------------------------------------------------------------------------


class _BuildFailed(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def build_kustomization(
    tree: Mapping[str, bytes], path: str, substitute: Mapping[str, str], namespace: str, tmp_dir: str
) -> _Build:
    """Build ``path`` of ``tree`` as kustomize-controller would and return the HelmReleases in it.

    With a kustomization file its ``resources`` are followed; without one every manifest below the
    path is taken (directories with their own kustomization file as a unit), as Flux generates it.
    ``postBuild.substitute`` variables are replaced before parsing. Objects without a namespace
    land in ``namespace`` (the configuration's). ``tmp_dir`` only shapes error messages.
    """
    root = _clean(path)
    builder = _Builder(tree, substitute, tmp_dir)
    try:
        if not builder.is_dir(root):
            raise _BuildFailed(
                "ArtifactFailed",
                f"kustomization path not found: stat {posixpath.join(tmp_dir, root)}: no such file or directory",
            )
        docs = builder.directory(root, generated=True, trail=())
        _check_unique(docs)
    except _BuildFailed as exc:
        return _Build(reason=exc.reason, error=str(exc))
    releases = []
    for doc in docs:
        if doc["kind"] == "HelmRelease" and str(doc["apiVersion"]).startswith("helm.toolkit.fluxcd.io/"):
            meta = doc["metadata"]
            digest = hashlib.sha256(json.dumps(doc.get("spec"), sort_keys=True, default=str).encode()).hexdigest()
            releases.append(_Release(str(meta.get("namespace") or namespace), str(meta["name"]), digest))
    return _Build(releases=tuple(releases))


class _Builder:
    def __init__(self, tree: Mapping[str, bytes], substitute: Mapping[str, str], tmp_dir: str) -> None:
        self.tree = tree
        self.substitute = substitute
        self.tmp_dir = tmp_dir
        self.dirs = {posixpath.dirname(p) for p in tree} | {""}
        for d in list(self.dirs):
            while d:
                d = posixpath.dirname(d)
                self.dirs.add(d)

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def kustomization_file(self, directory: str) -> str | None:
        return next((f for f in (posixpath.join(directory, n) for n in _KUSTOMIZATION_FILES) if f in self.tree), None)

    def directory(self, directory: str, *, generated: bool, trail: tuple[str, ...]) -> list[dict[str, Any]]:
        if directory in trail:
            raise self.fail(f"cycle detected: {' -> '.join([*trail, directory])}")
        kfile = self.kustomization_file(directory)
        if kfile is not None:
            return self.kustomize(directory, kfile, (*trail, directory))
        if not generated:
            raise self.fail(
                f"unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' "
                f"in directory '{posixpath.join(self.tmp_dir, directory)}'"
            )
        # Flux's generated kustomization: manifests here, then each subdirectory in turn.
        docs: list[dict[str, Any]] = []
        prefix = f"{directory}/" if directory else ""
        for file in sorted(p for p in self.tree if posixpath.dirname(p) == directory):
            if file.endswith(_MANIFEST_SUFFIXES):
                docs += self.manifest(file)
        children = sorted(d for d in self.dirs if d and d.startswith(prefix) and "/" not in d[len(prefix) :])
        for child in children:
            docs += self.directory(child, generated=True, trail=(*trail, directory))
        return docs

    def kustomize(self, directory: str, kfile: str, trail: tuple[str, ...]) -> list[dict[str, Any]]:
        spec = self.parse_one(kfile)
        docs: list[dict[str, Any]] = []
        entries = [*_list(spec.get("resources")), *_list(spec.get("bases")), *_list(spec.get("components"))]
        for entry in entries:
            if not isinstance(entry, str):
                raise self.fail(f"{kfile}: invalid resource entry {entry!r}")
            if "://" in entry or entry.startswith(("github.com/", "git@")):
                raise self.fail(
                    f"accumulating resources from '{entry}': remote resources are not served by the sandbox"
                )
            target = posixpath.normpath(posixpath.join(directory, entry))
            if target == ".." or target.startswith("../"):
                raise self.fail(f"accumulating resources from '{entry}': security; '{target}' is outside the source")
            target = "" if target == "." else target
            if target in self.tree:
                docs += self.manifest(target)
            elif self.is_dir(target):
                docs += self.directory(target, generated=False, trail=trail)
            else:
                raise self.fail(
                    f"accumulating resources: accumulation err='accumulating resources from '{entry}': "
                    f"open {posixpath.join(self.tmp_dir, target)}: no such file or directory'"
                )
        for patch in [*_list(spec.get("patches")), *_list(spec.get("patchesStrategicMerge"))]:
            patch_path = patch.get("path") if isinstance(patch, dict) else patch
            if isinstance(patch_path, str) and "\n" not in patch_path:
                file = posixpath.normpath(posixpath.join(directory, patch_path))
                if file not in self.tree:
                    raise self.fail(f"{kfile}: patch file '{patch_path}' not found")
                self.parse_all(file)
        return self.transform(docs, spec)

    def transform(self, docs: list[dict[str, Any]], spec: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The kustomization's namespace, namePrefix and nameSuffix, applied to copies."""
        namespace, prefix, suffix = (
            spec.get("namespace"),
            spec.get("namePrefix") or "",
            spec.get("nameSuffix") or "",
        )
        if not (namespace or prefix or suffix):
            return docs
        out = []
        for doc in docs:
            meta = dict(doc["metadata"])
            if doc["kind"] != "Namespace":
                meta["name"] = f"{prefix}{meta['name']}{suffix}"
            if namespace and doc["kind"] not in _CLUSTER_SCOPED:
                meta["namespace"] = namespace
            out.append({**doc, "metadata": meta})
        return out

    def manifest(self, file: str) -> list[dict[str, Any]]:
        """The objects in one manifest file, after variable substitution."""
        docs = []
        for index, doc in enumerate(self.parse_all(file, substitute=True)):
            if doc is None:
                continue
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
                raise self.fail(f"{file}: document {index + 1}: missing apiVersion or kind")
            if not isinstance(meta, dict) or not meta.get("name"):
                raise self.fail(f"{file}: {doc['kind']} in document {index + 1}: missing metadata.name")
            docs.append(doc)
        return docs

    def parse_all(self, file: str, *, substitute: bool = False) -> list[Any]:
        try:
            text = self.tree[file].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{file}: not UTF-8 text") from None
        if substitute:
            text = _substitute(text, self.substitute)
        try:
            return list(yaml.load_all(text, Loader=_Loader))
        except yaml.YAMLError as exc:
            raise self.fail(f"{file}: {_yaml_message(exc)}") from None

    def parse_one(self, file: str) -> Mapping[str, Any]:
        docs = [d for d in self.parse_all(file) if d is not None]
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise self.fail(f"{file}: a kustomization file must hold one YAML mapping")
        return docs[0]

    @staticmethod
    def fail(message: str) -> _BuildFailed:
        return _BuildFailed("BuildFailed", f"kustomize build failed: {message}")


def _substitute(text: str, variables: Mapping[str, str]) -> str:
    """Flux's post-build substitution: ${var}, ${var:=default}, ${var:-default}; $${var} is literal."""

    def replace(m: re.Match[str]) -> str:
        if m[1]:
            return m[0][1:]
        if m[2] in variables:
            return variables[m[2]]
        return m[4] if m[3] is not None else ""

    return _SUBSTITUTION.sub(replace, text)


def _yaml_message(exc: yaml.YAMLError) -> str:
    """A parser error as one line, like Go's yaml package prints it: 'yaml: line 3: ...'."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f"yaml: line {exc.problem_mark.line + 1}: {exc.problem}"
    return f"yaml: {exc}"


def _check_unique(docs: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for doc in docs:
        meta = doc["metadata"]
        group = str(doc["apiVersion"]).rpartition("/")[0]
        key = (group, str(doc["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))
        if key in seen:
            version = str(doc["apiVersion"]).rpartition("/")[2]
            ident = f"{doc['kind']}.{version}.{group}/{meta['name']}.{meta.get('namespace') or '[noNs]'}"
            raise _Builder.fail(f"may not add resource with an already registered id: {ident}")
        seen.add(key)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

_SOURCE_KEYS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}
_SOURCE_OBJECT_KIND = {"AzureBlob": "Bucket"}  # Azure Blob sources are Flux Buckets
_SOURCE_FAILED_REASON = {
    "Bucket": "BucketOperationFailed",
    "AzureBlob": "BucketOperationFailed",
    "OCIRepository": "OCIArtifactPullFailed",
}


def _mark_suspended(record: FluxConfigRecord) -> None:
    """Suspended: the agent leaves the last statuses as they were and reconciles nothing."""
    record.properties["complianceState"] = "Suspended"
    record.properties["statusUpdatedAt"] = utc_now_iso(time.time())


def _not_served(kind: str) -> str:
    return f"{kind} sources are not served by the sandbox: only GitRepository sources are fetched"


def _mapping(value: Any) -> dict[str, Any]:
    """ARM returns null for absent objects; treat null and non-objects as empty."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _clean(path: str) -> str:
    """A kustomization path relative to the repository root ("" for the root), kept inside it."""
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def _repository_ref(ref: Mapping[str, Any]) -> tuple[RefKind, str]:
    """Flux's precedence: commit, then semver, then tag, then branch (default "master")."""
    kinds: tuple[RefKind, ...] = ("commit", "semver", "tag", "branch")
    for kind in kinds:
        if ref.get(kind):
            return kind, str(ref[kind])
    return "branch", "master"


def _credentials(cluster: Cluster, record: FluxConfigRecord) -> _Credentials:
    """What the agent would authenticate with (read on the loop: the world belongs to it)."""
    props = record.properties
    git = _mapping(props.get("gitRepository"))
    raw_known_hosts = git.get("sshKnownHosts")
    known_hosts = raw_known_hosts if isinstance(raw_known_hosts, str) and raw_known_hosts else None
    secret_name = git.get("localAuthRef")
    if secret_name:
        namespace = str(props.get("namespace") or "flux-system")
        secret = cluster.secrets.get(f"{namespace}/{secret_name}")
        if secret is None:
            return _Credentials(
                error=f"failed to get secret '{namespace}/{secret_name}': secrets \"{secret_name}\" not found"
            )
        return _Credentials(
            ssh_key=secret.get("identity"),
            username=secret.get("username"),
            token=secret.get("password"),
            known_hosts=known_hosts,
        )
    token = None
    if record.protected.get("httpsKey"):
        try:
            token = base64.b64decode(record.protected["httpsKey"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return _Credentials(error="invalid 'httpsKey' in configurationProtectedSettings: not base64 text")
    return _Credentials(
        ssh_key=record.protected.get("sshPrivateKey"),
        username=git.get("httpsUser") or None,
        token=token,
        known_hosts=known_hosts,
    )


def _ssh_endpoint(url: str) -> tuple[str, int | None]:
    """The SSH server an SSH URL names, as the client dials it: (host, port or None for the default)."""
    url = url.strip()
    if "://" not in url:  # scp-like: git@github.com:org/repo.git
        return url.split("@", 1)[-1].split(":", 1)[0].lower(), None
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port


def _dependency_order(specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Kustomization names, each after its dependencies; members of a cycle come last."""
    done: list[str] = []
    remaining = list(specs)
    while remaining:
        ready = [n for n in remaining if all(d in done or d not in specs for d in _list(specs[n].get("dependsOn")))]
        if not ready:
            return done + remaining
        done += ready
        remaining = [n for n in remaining if n not in ready]
    return done


def _blocking_dependency(spec: Mapping[str, Any], state: _ConfigState, namespace: str, config: str) -> str:
    """Why a dependency blocks this kustomization, or "" when all are Ready."""
    for dep in _list(spec.get("dependsOn")):
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


def _go_duration(seconds: Any) -> str:
    """Seconds as Go prints a time.Duration: 600 -> "10m0s", 30 -> "30s", 3600 -> "1h0m0s"."""
    total = int(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
