"""Why it failed: the Flux events of the failing objects of a Non-Compliant configuration, read from the cluster.

ARM reports a failing object's Ready message; the controllers' events say more (which manifest did not build,
which fetch was refused, how many times). Every place that shows a Non-Compliant result (a job's message, a
traced push, a fleet rollout) asks ``failure_events`` once, at the final result; it never fails the job: when
the cluster's API cannot be read, the result says so in one line instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bot import errors
from bot.cluster_objects import FluxEvent, ObjectRef
from bot.flux_status import failing
from bot.models import ClusterRef, FluxConfigState
from bot.ports import ClusterApi
from bot.usecases.context import JobPorts
from bot.views import EventList

log = logging.getLogger(__name__)

#: the newest Warnings kept per failing object: the controller repeats itself, the last few say it all
PER_OBJECT = 3
#: ARM's sourceKind -> the Flux kind of the source object (an Azure Blob source is a Flux Bucket)
_SOURCE_KINDS = {"AzureBlob": "Bucket"}
WARNING = "Warning"


def rfc3339(epoch: float) -> str:
    """Epoch seconds as Kubernetes writes event times (UTC, whole seconds, trailing Z)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _namespace(state: FluxConfigState) -> str:
    if state.spec is not None:
        return state.spec.namespace
    return next((obj.namespace for obj in state.statuses if obj.namespace), "default")


def config_objects(state: FluxConfigState, name: str = "") -> list[ObjectRef]:
    """The Flux objects of configuration ``name``: its source (named after the configuration), its Kustomizations
    (``{config}-{kustomization}``) and every object its statuses list (the HelmReleases they applied)."""
    namespace = _namespace(state)
    name = name or state.name
    refs = [ObjectRef(_SOURCE_KINDS.get(state.source_kind, state.source_kind), name, namespace)]
    if state.spec is not None:
        refs += [ObjectRef("Kustomization", f"{name}-{k.name}", namespace) for k in state.spec.kustomizations]
    refs += [ObjectRef(obj.kind, obj.name, obj.namespace or namespace) for obj in state.statuses if obj.kind]
    return list(dict.fromkeys(refs))


def failing_refs(state: FluxConfigState) -> list[ObjectRef]:
    """The objects Flux reports failing (bot.flux_status.failing), as references."""
    namespace = _namespace(state)
    refs = [ObjectRef(obj.kind, obj.name, obj.namespace or namespace) for obj in state.statuses if failing(obj)]
    return list(dict.fromkeys(refs))


def read_events(
    api: ClusterApi, cluster: ClusterRef, refs: Sequence[ObjectRef], *, since: str | None = None
) -> list[FluxEvent]:
    """The events about ``refs`` in one call (in their namespace when they share one; across namespaces the port
    lists each namespace of ``refs``, never the whole cluster), oldest first."""
    if not refs:
        return []
    namespaces = {ref.namespace for ref in refs}
    namespace = next(iter(namespaces)) if len(namespaces) == 1 else None
    found = api.events(cluster, namespace=namespace, involved=refs, since=since)
    wanted = set(refs)
    return [e for e in found if e.involved in wanted]  # in the port's order: oldest first


def newest_per_object(events: Iterable[FluxEvent], limit: int = PER_OBJECT) -> tuple[FluxEvent, ...]:
    """At most ``limit`` different events per object, the newest, still oldest first. An event that says what a
    newer one says (an object deleted and created again under the same name keeps its old events for an hour)
    is left out."""
    ordered = list(events)
    kept: list[FluxEvent] = []
    per_object: dict[ObjectRef, int] = {}
    said: set[tuple[ObjectRef, str, str, str]] = set()
    for event in reversed(ordered):
        key = (event.involved, event.type, event.reason, event.message)
        if key in said or per_object.get(event.involved, 0) >= limit:
            continue
        said.add(key)
        per_object[event.involved] = per_object.get(event.involved, 0) + 1
        kept.append(event)
    return tuple(reversed(kept))


def event_line(event: FluxEvent) -> str:
    """One event on one line, naming its object as ARM's statuses do:
    ``Kustomization apps-apps: BuildFailed: kustomize build failed: ... (3 times)``."""
    message = " ".join(event.message.split())
    times = f" ({event.count} times)" if event.count > 1 else ""
    return f"{event.involved.kind} {event.involved.name}: {event.reason}: {message}{times}"


def failure_events(ports: JobPorts, cluster: ClusterRef, state: FluxConfigState) -> EventList | None:
    """The Warning events of the objects failing in ``state`` (at most ``PER_OBJECT`` each); None when fluxops
    has no cluster access or nothing is failing. A cluster API error becomes ``EventList.problem``."""
    api = ports.cluster_api
    refs = failing_refs(state)
    if api is None or not refs:
        return None
    as_of = rfc3339(ports.pace.wall_clock())
    try:
        events = read_events(api, cluster, refs)
    except errors.FluxopsError as error:
        log.warning("events of %s on %s could not be read: %s", state.name, cluster.name, error.message)
        return EventList(as_of=as_of, problem=f"Flux's events could not be read: {error.user_text()}")
    except Exception:  # an adapter's bug or an unmapped failure: the result still stands, without the events
        log.exception("events of %s on %s could not be read", state.name, cluster.name)
        return EventList(as_of=as_of, problem="Flux's events could not be read: an unexpected error (see the logs)")
    warnings = newest_per_object(e for e in events if e.type == WARNING)
    return EventList(events=warnings, as_of=as_of)
