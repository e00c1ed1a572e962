"""What fluxops reads from a cluster's Kubernetes API: Flux objects, their events, the controllers.

Plain values, shaped after the Kubernetes objects (``source.toolkit.fluxcd.io/v1`` GitRepository and the other
sources, ``kustomize.toolkit.fluxcd.io/v1`` Kustomization, ``helm.toolkit.fluxcd.io/v2`` HelmRelease, core
``v1`` Event, ``apps/v1`` Deployment). The adapter (workers/) builds them; use-cases read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models import arm_time

#: the annotation ``flux reconcile`` sets: the object's controller reconciles it at once and copies the value
#: into ``status.lastHandledReconcileAt`` when it has
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"

SOURCE_KINDS = ("GitRepository", "Bucket", "HelmRepository", "HelmChart", "OCIRepository")
KUSTOMIZATION = "Kustomization"
HELM_RELEASE = "HelmRelease"
FLUX_KINDS = (*SOURCE_KINDS, KUSTOMIZATION, HELM_RELEASE)

#: kind -> (API group, version, plural) as Flux v2 serves them
FLUX_RESOURCES: dict[str, tuple[str, str, str]] = {
    "GitRepository": ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
    "Bucket": ("source.toolkit.fluxcd.io", "v1", "buckets"),
    "HelmRepository": ("source.toolkit.fluxcd.io", "v1", "helmrepositories"),
    "HelmChart": ("source.toolkit.fluxcd.io", "v1", "helmcharts"),
    "OCIRepository": ("source.toolkit.fluxcd.io", "v1", "ocirepositories"),
    "Kustomization": ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
    "HelmRelease": ("helm.toolkit.fluxcd.io", "v2", "helmreleases"),
}


@dataclass(frozen=True)
class ObjectRef:
    """A namespaced object by kind (``GitRepository``, ``Kustomization``, ...), name and namespace."""

    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Condition:
    """One entry of ``status.conditions``."""

    type: str  # "Ready", "Reconciling", "Stalled", ...
    status: str  # "True" | "False" | "Unknown"
    reason: str = ""
    message: str = ""
    last_transition_time: str = ""  # RFC 3339


@dataclass(frozen=True)
class FluxObject:
    """A Flux custom resource as its controller last reported it."""

    ref: ObjectRef
    generation: int = 0
    observed_generation: int = 0
    conditions: tuple[Condition, ...] = ()
    suspended: bool = False
    #: metadata.annotations[REQUESTED_AT], the last reconcile asked for (None: never)
    requested_at: str | None = None
    #: status.lastHandledReconcileAt: the last request the controller handled
    last_handled_reconcile_at: str | None = None
    #: sources: status.artifact.revision ("main@sha1:abc..."); Kustomizations: status.lastAppliedRevision;
    #: HelmReleases: the chart version last applied
    revision: str | None = None
    #: Kustomizations: status.lastAttemptedRevision (what the last try used, applied or not)
    last_attempted_revision: str | None = None
    #: Kustomizations and HelmReleases: spec.sourceRef (the namespace filled in when the spec leaves it out)
    source_ref: ObjectRef | None = None
    #: Kustomizations and HelmReleases: spec.dependsOn (same kind as this object)
    depends_on: tuple[ObjectRef, ...] = ()
    #: Kustomizations: spec.path
    path: str | None = None
    interval: str | None = None  # spec.interval as written ("10m0s")

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def ready(self) -> Condition | None:
        return self.condition("Ready")

    def handled(self, requested_at: str, *, before: str | None = None) -> bool:
        """The controller has handled the reconcile asked for at ``requested_at``, or a later one.

        As ``flux reconcile`` decides it: someone else may ask again meanwhile, and the controller then copies
        their newer value, never ours. So besides the exact value, a ``lastHandledReconcileAt`` at or after
        ``requested_at`` (compared as RFC 3339 times) counts, and so does one that differs from ``before``, the
        value read just before asking ("" when there was none; None when not known)."""
        handled = self.last_handled_reconcile_at
        if handled is None:
            return False
        if handled == requested_at or (before is not None and handled != before):
            return True
        ours, theirs = rfc3339_instant(requested_at), rfc3339_instant(handled)
        return ours is not None and theirs is not None and theirs >= ours


@dataclass(frozen=True)
class FluxEvent:
    """A core/v1 Event about a Flux object, as ``flux events`` / ``kubectl describe`` show them."""

    involved: ObjectRef
    type: str  # "Normal" | "Warning"
    reason: str  # "BuildFailed", "GitOperationFailed", "ReconciliationSucceeded", ...
    message: str
    count: int = 1
    first_seen: str = ""  # RFC 3339
    last_seen: str = ""  # RFC 3339
    source: str = ""  # the reporting controller: "kustomize-controller"


@dataclass(frozen=True)
class Workload:
    """A Deployment on the cluster (the Flux controllers, a Flux v1 operator)."""

    name: str
    namespace: str
    replicas: int
    ready_replicas: int
    image: str = ""
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def ready(self) -> bool:
        return self.replicas > 0 and self.ready_replicas >= self.replicas


def rfc3339_instant(text: str) -> datetime | None:
    """An RFC 3339 time as an aware datetime (UTC without a zone); None when ``text`` is not a time."""
    return arm_time(text)
