"""Kubernetes objects (JSON as the API serves them) -> bot/cluster_objects.py values.

Pure functions: the adapter (workers/kube_cluster_api.py) reads the raw JSON and hands it here, so what the
cluster serves and what fluxops makes of it are tested apart from HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.cluster_objects import (
    HELM_RELEASE,
    KUSTOMIZATION,
    REQUESTED_AT,
    SOURCE_KINDS,
    Condition,
    FluxEvent,
    FluxObject,
    ObjectRef,
    Workload,
)
from bot.models import arm_time

Json = Mapping[str, Any]


def _dict(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return 0


def conditions(status: Json) -> tuple[Condition, ...]:
    """``status.conditions`` as Condition values (entries without a type are skipped)."""
    out: list[Condition] = []
    for raw in status.get("conditions") or ():
        entry = _dict(raw)
        if not entry.get("type"):
            continue
        out.append(
            Condition(
                type=str(entry["type"]),
                status=str(entry.get("status") or "Unknown"),
                reason=str(entry.get("reason") or ""),
                message=str(entry.get("message") or ""),
                last_transition_time=str(entry.get("lastTransitionTime") or ""),
            )
        )
    return tuple(out)


def flux_object(kind: str, obj: Json) -> FluxObject:
    """A Flux custom resource of ``kind`` (the list's kind: items of a list often omit their own)."""
    meta, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    namespace = str(meta.get("namespace") or "")
    ref = ObjectRef(kind=str(obj.get("kind") or kind), name=str(meta.get("name") or ""), namespace=namespace)
    annotations = _dict(meta.get("annotations"))
    revision: str | None = None
    last_attempted: str | None = None
    if ref.kind in SOURCE_KINDS:
        revision = _str(_dict(status.get("artifact")).get("revision"))
    elif ref.kind == KUSTOMIZATION:
        revision = _str(status.get("lastAppliedRevision"))
        last_attempted = _str(status.get("lastAttemptedRevision"))
    elif ref.kind == HELM_RELEASE:
        revision = _helm_revision(status)
        last_attempted = _str(status.get("lastAttemptedRevision"))
    return FluxObject(
        ref=ref,
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
        conditions=conditions(status),
        suspended=bool(spec.get("suspend", False)),
        requested_at=_str(annotations.get(REQUESTED_AT)),
        last_handled_reconcile_at=_str(status.get("lastHandledReconcileAt")),
        revision=revision,
        last_attempted_revision=last_attempted,
        source_ref=_source_ref(ref, spec),
        depends_on=_depends_on(ref, spec),
        path=_str(spec.get("path")) if ref.kind == KUSTOMIZATION else None,
        interval=_str(spec.get("interval")),
    )


def _helm_revision(status: Json) -> str | None:
    """The chart version last applied: ``status.history[0].chartVersion`` (helm-controller v2), else the older
    ``lastAppliedRevision``."""
    history = status.get("history") or ()
    if history:
        version = _str(_dict(history[0]).get("chartVersion"))
        if version:
            return version
    return _str(status.get("lastAppliedRevision"))


def _source_ref(ref: ObjectRef, spec: Json) -> ObjectRef | None:
    if ref.kind == KUSTOMIZATION:
        raw = _dict(spec.get("sourceRef"))
    elif ref.kind == HELM_RELEASE:
        # spec.chartRef (an OCIRepository or HelmChart) or spec.chart.spec.sourceRef (a HelmRepository, ...)
        raw = _dict(spec.get("chartRef")) or _dict(_dict(_dict(spec.get("chart")).get("spec")).get("sourceRef"))
    else:
        return None
    if not raw.get("kind") or not raw.get("name"):
        return None
    return ObjectRef(kind=str(raw["kind"]), name=str(raw["name"]), namespace=str(raw.get("namespace") or ref.namespace))


def _depends_on(ref: ObjectRef, spec: Json) -> tuple[ObjectRef, ...]:
    if ref.kind not in (KUSTOMIZATION, HELM_RELEASE):
        return ()
    out: list[ObjectRef] = []
    for raw in spec.get("dependsOn") or ():
        entry = _dict(raw)
        if entry.get("name"):
            out.append(ObjectRef(ref.kind, str(entry["name"]), str(entry.get("namespace") or ref.namespace)))
    return tuple(out)


def flux_objects(kind: str, object_list: Json) -> list[FluxObject]:
    """The items of a list response for ``kind``."""
    return [flux_object(kind, _dict(item)) for item in object_list.get("items") or ()]


def event(obj: Json) -> FluxEvent:
    """A core/v1 Event (or events.k8s.io/v1 fields where the core ones are missing)."""
    involved = _dict(obj.get("involvedObject")) or _dict(obj.get("regarding"))
    meta = _dict(obj.get("metadata"))
    source = _dict(obj.get("source"))
    series = _dict(obj.get("series"))
    first = _str(obj.get("firstTimestamp")) or _str(obj.get("eventTime")) or _str(meta.get("creationTimestamp"))
    last = (
        _str(obj.get("lastTimestamp"))
        or _str(series.get("lastObservedTime"))
        or _str(obj.get("eventTime"))
        or first
        or ""
    )
    count = _int(obj.get("count")) or _int(series.get("count")) or 1
    return FluxEvent(
        involved=ObjectRef(
            kind=str(involved.get("kind") or ""),
            name=str(involved.get("name") or ""),
            namespace=str(involved.get("namespace") or meta.get("namespace") or ""),
        ),
        type=str(obj.get("type") or "Normal"),
        reason=str(obj.get("reason") or ""),
        message=str(obj.get("message") or obj.get("note") or ""),
        count=count,
        first_seen=first or "",
        last_seen=last,
        source=str(source.get("component") or obj.get("reportingComponent") or obj.get("reportingController") or ""),
    )


def events(items: Iterable[Json], *, involved: Sequence[ObjectRef] = (), since: str | None = None) -> list[FluxEvent]:
    """Events about any of ``involved`` (all when empty), last seen at or after ``since``, oldest first."""
    wanted = set(involved)
    out: list[FluxEvent] = []
    for raw in items:
        found = event(raw)
        if wanted and found.involved not in wanted:
            continue
        if since is not None and not _at_or_after(found.last_seen, since):
            continue
        out.append(found)
    out.sort(key=lambda e: (_instant(e.last_seen), _instant(e.first_seen)))
    return out


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _parse(text: str) -> datetime | None:
    return arm_time(text)


def _instant(text: str) -> datetime:
    return _parse(text) or _EPOCH


def _at_or_after(text: str, since: str) -> bool:
    at, start = _parse(text), _parse(since)
    return at is None or start is None or at >= start  # an event without a readable time is kept, not hidden


def workload(obj: Json) -> Workload:
    """An apps/v1 Deployment."""
    meta, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    containers = _dict(_dict(spec.get("template")).get("spec")).get("containers") or ()
    image = str(_dict(containers[0]).get("image") or "") if containers else ""
    labels = _dict(meta.get("labels"))
    replicas = spec.get("replicas")
    return Workload(
        name=str(meta.get("name") or ""),
        namespace=str(meta.get("namespace") or ""),
        replicas=1 if replicas is None else _int(replicas),  # the API server defaults it to 1
        ready_replicas=_int(status.get("readyReplicas")),
        image=image,
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
    )


def crd_names(object_list: Json) -> list[str]:
    """The names of the CustomResourceDefinitions in a list response, sorted."""
    return sorted(
        str(_dict(item.get("metadata")).get("name") or "") for item in map(_dict, object_list.get("items") or ())
    )
