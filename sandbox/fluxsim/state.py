"""What the simulated agent holds per flux configuration, and the status objects it reports.

Status objects are rendered exactly as ARM returns them under ``properties.statuses``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.world import FluxConfigRecord, utc_now_iso


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


@dataclass
class ObjectStatus:
    """One Flux object (source, Kustomization, HelmRelease) and its Ready condition."""

    kind: str
    name: str
    namespace: str
    status: str = "Unknown"  # Ready condition: "True" | "False" | "Unknown"
    reason: str = "Progressing"
    message: str = "Reconciliation in progress"
    since: str = ""
    applied_by: dict[str, str] | None = None
    helm: dict[str, Any] | None = None
    #: the last entry() rendered; any assignment to a field drops it (publishing re-renders only changes)
    _entry: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "_entry":
            object.__setattr__(self, "_entry", None)

    def set(self, status: str, reason: str, message: str) -> None:
        if status != self.status or not self.since:
            self.since = utc_now_iso(time.time())
        if (status, reason, message) != (self.status, self.reason, self.message):
            self.status, self.reason, self.message = status, reason, message

    @property
    def compliance(self) -> str:
        return {"True": "Compliant", "False": "Non-Compliant"}.get(self.status, "Pending")

    def entry(self) -> dict[str, Any]:
        """The status as ARM returns it; the same dict while nothing changed (treat it as read-only)."""
        if self._entry is None:
            self._entry = self._render()
        return self._entry

    def _render(self) -> dict[str, Any]:
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
class Artifact:
    """A fetched revision of a source: its commit and file tree."""

    repo: Path
    sha: str
    revision: str  # as sourceSyncedCommitId shows it
    tree: Mapping[str, bytes]


@dataclass(frozen=True)
class Credentials:
    """What the agent authenticates a fetch with, or why it has nothing to authenticate with."""

    ssh_key: str | None = field(default=None, repr=False)  # text or base64 of the text, for GitAccess
    username: str | None = None
    token: str | None = field(default=None, repr=False)
    known_hosts: str | None = field(default=None, repr=False)  # gitRepository.sshKnownHosts (base64)
    error: str | None = None  # e.g. the localAuthRef secret does not exist


@dataclass(frozen=True)
class Release:
    """A HelmRelease a kustomization build found."""

    namespace: str
    name: str
    digest: str  # of the spec: a change is an upgrade


@dataclass(frozen=True)
class Build:
    """The outcome of building one kustomization: its HelmReleases, or the failure."""

    releases: tuple[Release, ...] = ()
    reason: str = ""  # failure reason, "" when the build succeeded
    error: str = ""


@dataclass
class ConfigState:
    """One configuration as the agent reconciles it: its objects, last artifact and timers."""

    record: FluxConfigRecord
    source: ObjectStatus
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    kustomizations: dict[str, ObjectStatus] = field(default_factory=dict)
    releases: dict[str, list[ObjectStatus]] = field(default_factory=dict)
    helm_revisions: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    artifact: Artifact | None = None  # the last good one survives a failed fetch, as in Flux
    applied_sha: str | None = None
    source_updated_at: str | None = None
    fetched_at: float = -math.inf
    applied_at: float = -math.inf
    failed: bool = False
    #: this reconcile's jitter of the source and kustomization intervals (factors near 1)
    fetch_jitter: float = 1.0
    apply_jitter: float = 1.0
    #: a fetch is wanted now, whatever the interval says (cleared when a fetch starts)
    fetch_requested: bool = False
    #: an apply of every kustomization is wanted now, even of the revision applied last (cleared when it starts)
    apply_requested: bool = False
    #: the reconcile loop's sleep, ended early by :meth:`request_fetch` and :meth:`request_apply`
    waiter: asyncio.Future[None] | None = None
    #: ``reconcile.fluxcd.io/requestedAt`` values: asked for (not yet handled) and last handled, of the source
    #: and of each kustomization (by its name in the configuration)
    source_requested: str | None = None
    source_handled: str | None = None
    ks_requested: dict[str, str] = field(default_factory=dict)
    ks_handled: dict[str, str] = field(default_factory=dict)
    #: per kustomization: (lastAppliedRevision, lastAttemptedRevision) as Flux writes revisions
    ks_revisions: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def request_fetch(self) -> None:
        """Fetch now instead of at the next interval (a notification Receiver got the push webhook)."""
        self.fetch_requested = True
        self._wake()

    def request_apply(self) -> None:
        """Apply now, even when the revision did not change (a Kustomization's requestedAt annotation)."""
        self.apply_requested = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Stale(Exception):
    """The configuration was deleted or rewritten while a reconcile was under way."""


def mapping(value: Any) -> dict[str, Any]:
    """ARM returns null for absent objects; treat null and non-objects as empty."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A JSON list, or empty for anything else."""
    return value if isinstance(value, list) else []
