"""An in-memory bot.ports.ClusterApi for use-case tests: Flux objects and events per cluster, no HTTP.

``handle_reconciles`` (default on) makes a reconcile request handled at once, as the simulated Flux does:
``last_handled_reconcile_at`` takes the requested value and ``on_reconcile`` may change the object further
(a new artifact revision, a failure). ``deny`` / ``unreachable`` make every call on a cluster raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot import errors
from bot.cluster_objects import FLUX_KINDS, FluxEvent, FluxObject, ObjectRef, Workload
from bot.models import ClusterRef


@dataclass
class FakeClusterApi:
    objects: dict[tuple[str, ObjectRef], FluxObject] = field(default_factory=dict)
    events_by_cluster: dict[str, list[FluxEvent]] = field(default_factory=dict)
    workloads_by_cluster: dict[str, list[Workload]] = field(default_factory=dict)
    crds_by_cluster: dict[str, list[str]] = field(default_factory=dict)
    handle_reconciles: bool = True
    #: called with the object after a handled request; returns what the controller made of it
    on_reconcile: Callable[[str, FluxObject], FluxObject] | None = None
    deny: set[str] = field(default_factory=set)  # cluster ids answering 403
    unreachable: set[str] = field(default_factory=set)
    requests: list[tuple[str, ObjectRef, str]] = field(default_factory=list)  # (cluster id, ref, requested_at)

    # -- test set-up ------------------------------------------------------------------------

    def add(self, cluster: ClusterRef, obj: FluxObject) -> FluxObject:
        self.objects[(cluster.arm_id.lower(), obj.ref)] = obj
        return obj

    def add_event(self, cluster: ClusterRef, event: FluxEvent) -> None:
        self.events_by_cluster.setdefault(cluster.arm_id.lower(), []).append(event)

    # -- ClusterApi -------------------------------------------------------------------------

    def _check(self, cluster: ClusterRef) -> str:
        key = cluster.arm_id.lower()
        if key in self.deny:
            raise errors.ClusterAccessDenied(
                f"the Kubernetes API of {cluster.name} refused fluxops (403)",
                recommendation="grant fluxops' identity the Azure Kubernetes Service RBAC Reader role",
            )
        if key in self.unreachable:
            raise errors.ClusterUnreachable(f"the Kubernetes API of {cluster.name} cannot be reached")
        return key

    def flux_objects(
        self, cluster: ClusterRef, *, namespace: str | None = None, kinds: Sequence[str] = FLUX_KINDS
    ) -> list[FluxObject]:
        key = self._check(cluster)
        return [
            obj
            for (cid, ref), obj in sorted(self.objects.items(), key=lambda item: str(item[0][1]))
            if cid == key and ref.kind in kinds and (namespace is None or ref.namespace == namespace)
        ]

    def flux_object(self, cluster: ClusterRef, ref: ObjectRef) -> FluxObject:
        key = self._check(cluster)
        obj = self.objects.get((key, ref))
        if obj is None:
            raise errors.NotFound(f"{ref} was not found on {cluster.name}")
        return obj

    def request_reconcile(self, cluster: ClusterRef, ref: ObjectRef, requested_at: str) -> FluxObject:
        key = self._check(cluster)
        obj = self.flux_object(cluster, ref)
        self.requests.append((key, ref, requested_at))
        obj = replace(obj, requested_at=requested_at)
        if self.handle_reconciles:
            obj = replace(obj, last_handled_reconcile_at=requested_at)
            if self.on_reconcile is not None:
                obj = self.on_reconcile(key, obj)
        self.objects[(key, ref)] = obj
        return obj

    def events(
        self,
        cluster: ClusterRef,
        *,
        namespace: str | None = None,
        involved: Sequence[ObjectRef] = (),
        since: str | None = None,
    ) -> list[FluxEvent]:
        key = self._check(cluster)
        found = [
            e
            for e in self.events_by_cluster.get(key, [])
            if (namespace is None or e.involved.namespace == namespace)
            and (not involved or e.involved in involved)
            and (since is None or instant(e.last_seen) >= instant(since))
        ]
        return sorted(found, key=lambda e: e.last_seen)  # oldest first, as the port promises

    def workloads(self, cluster: ClusterRef, namespace: str | None, *, selector: str = "") -> list[Workload]:
        key = self._check(cluster)
        return [
            w
            for w in self.workloads_by_cluster.get(key, [])
            if namespace in (None, w.namespace) and _matches(selector, dict(w.labels))
        ]

    def custom_resource_definitions(self, cluster: ClusterRef) -> list[str]:
        return list(self.crds_by_cluster.get(self._check(cluster), []))


def instant(text: str) -> datetime:
    """An RFC 3339 time as the Kubernetes API compares it; a time without a zone (or not a time) fails the test,
    so a use case passing ``since`` in another format is caught here rather than on a real cluster."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time: it has no zone")
    return moment


def _matches(selector: str, labels: dict[str, str]) -> bool:
    """A label selector's equality (``k=v``), set (``k in (a,b)``) and existence (``k``) terms, as the API server
    reads them; any other term fails the test rather than match by accident."""
    for term in re.split(r",(?![^()]*\))", selector) if selector else []:
        term = term.strip()
        found = re.fullmatch(r"([\w./-]+)\s+in\s+\(([^)]*)\)", term)
        if found:
            if labels.get(found[1]) not in {v.strip() for v in found[2].split(",")}:
                return False
        elif "=" in term:
            key, _, value = term.partition("=")
            if labels.get(key.strip()) != value.strip():
                return False
        elif re.fullmatch(r"[\w./-]+", term):
            if term not in labels:
                return False
        else:
            raise ValueError(f"the fake reads no selector term {term!r}")
    return True
