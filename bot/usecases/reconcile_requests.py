"""Asking Flux on a cluster to reconcile one object now, and following it until its controller has answered.

What ``flux reconcile`` does: set ``reconcile.fluxcd.io/requestedAt`` to the time now (RFC 3339), then wait
until the controller copies that value (or a later one: someone else may ask meanwhile) into
``status.lastHandledReconcileAt`` and its Ready condition says True or False. ``/flux reconcile``
(bot.usecases.cluster_reconcile) and the key rotation's fetch proofs (bot.usecases.key_switching) both use it.
The value asked with (and ``lastHandledReconcileAt`` just before) is saved in the job store before the request,
so a job resumed after its worker died follows the same request instead of losing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot import errors
from bot.cluster_objects import KUSTOMIZATION, SOURCE_KINDS, FluxObject, ObjectRef
from bot.models import ClusterRef, FluxConfigState
from bot.ports import ClusterApi
from bot.usecases.context import Job

#: ARM's ``sourceKind`` -> the Flux source the microsoft.flux agent makes for it (Azure Blob is a Bucket)
_SOURCE_OBJECTS = {"GitRepository": "GitRepository", "Bucket": "Bucket", "AzureBlob": "Bucket"}


def requested_at(epoch: float) -> str:
    """``epoch`` as ``flux reconcile`` writes the annotation (Go's RFC3339Nano in UTC: trailing zeros of the
    fraction dropped): "2025-06-15T15:06:40.5Z"."""
    moment = datetime.fromtimestamp(epoch, UTC)
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def source_object(state: FluxConfigState) -> ObjectRef:
    """The Flux source a configuration's agent made: named after the configuration, in its namespace."""
    kind = _SOURCE_OBJECTS.get(state.source_kind, state.source_kind)
    if kind not in SOURCE_KINDS:
        raise errors.InvalidRequest(
            f"flux configuration '{state.name}' has a source of kind {state.source_kind}, which fluxops cannot "
            "reconcile",
            recommendation="fluxops reconciles GitRepository, Bucket, AzureBlob and OCIRepository sources",
        )
    return ObjectRef(kind, state.name, _namespace(state))


def kustomization_object(state: FluxConfigState, kustomization: str) -> ObjectRef:
    """The Flux Kustomization of one of a configuration's kustomizations: ``<configuration>-<kustomization>``."""
    return ObjectRef(KUSTOMIZATION, f"{state.name}-{kustomization}", _namespace(state))


def _namespace(state: FluxConfigState) -> str:
    return state.spec.namespace if state.spec is not None else "default"


@dataclass(frozen=True)
class Answer:
    """What the controller made of a request: the object as it reports it once handled, or nothing in time."""

    obj: FluxObject | None

    @property
    def ready(self) -> bool:
        return self.obj is not None and self.obj.ready is not None and self.obj.ready.status == "True"

    @property
    def failure(self) -> str:
        """Why it is not Ready, in Flux's words ("" when it is)."""
        if self.obj is None or self.ready:
            return ""
        ready = self.obj.ready
        return (ready.message if ready is not None else "") or "Flux reports it not ready, without a message"


@dataclass(frozen=True)
class Request:
    """A reconcile asked of one object: the annotation's ``value``, and the object's ``lastHandledReconcileAt``
    read just before asking (``before``: "" when it had none, None when not known)."""

    value: str
    before: str | None = None


def settled(obj: FluxObject, request: Request) -> bool:
    """The controller handled ``request`` (or a later one) and says how it went (Ready True or False)."""
    ready = obj.ready
    current = obj.observed_generation >= obj.generation
    handled = obj.handled(request.value, before=request.before)
    return handled and current and ready is not None and ready.status in ("True", "False")


class Requests:
    """Reconcile requests of one job on one cluster, saved under ``key`` in the job store before they are made."""

    def __init__(self, job: Job, api: ClusterApi, cluster: ClusterRef) -> None:
        self.job = job
        self.api = api
        self.cluster = cluster

    def ask(self, ref: ObjectRef, key: str) -> Request:
        """Set the annotation on ``ref``; the request it made (the one saved under ``key`` when this job asked
        before: writing it again changes nothing for a controller that handled it)."""
        jobs = self.job.ports.jobs
        value = jobs.get(self.job.job_id, key)
        before = jobs.get(self.job.job_id, f"{key}:before")
        if value is None:
            before = self.api.flux_object(self.cluster, ref).last_handled_reconcile_at or ""
            jobs.put(self.job.job_id, f"{key}:before", before)
            value = requested_at(self.job.ports.pace.wall_clock())
            jobs.put(self.job.job_id, key, value)
        self.api.request_reconcile(self.cluster, ref, value)
        return Request(value, before)

    def follow(
        self, ref: ObjectRef, requested: Request, *, handled: Callable[[FluxObject], None] | None = None
    ) -> Answer:
        """Poll ``ref`` (backing off as watches do) until it settled for ``requested``; ``Answer(None)`` when it
        did not within the watch timeout. ``handled`` is told once when the request is handled but the object
        is still reconciling."""
        pace = self.job.ports.pace
        deadline = pace.clock() + pace.watch.timeout
        delay = pace.watch.first
        told = False
        while True:
            pace.heartbeat(self.job.job_id)
            obj = self.api.flux_object(self.cluster, ref)
            if settled(obj, requested):
                return Answer(obj)
            if obj.handled(requested.value, before=requested.before) and not told and handled is not None:
                handled(obj)
                told = True
            if pace.clock() >= deadline:
                return Answer(None)
            pace.sleep(delay)
            delay = min(delay * pace.watch.factor, pace.watch.longest)
