"""Core v1 Events about Flux objects, recorded as Flux's controllers record them.

client-go's event recorder aggregates: the same reason and message about the same object again raises
``count`` and ``lastTimestamp`` of the one Event instead of writing a new one. Events expire after an hour
(the API server's default ``--event-ttl``): older ones are dropped whenever an event is written.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sandbox.kubeapi import resources
from sandbox.kubeapi.store import ClusterKey, KubeStore

EVENT_TTL = 3600.0
SOURCE_CONTROLLER = "source-controller"
KUSTOMIZE_CONTROLLER = "kustomize-controller"
HELM_CONTROLLER = "helm-controller"


@dataclass(frozen=True)
class Involved:
    """The object an event is about."""

    kind: str
    name: str
    namespace: str
    api_version: str
    uid: str = ""


def _timestamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


@dataclass
class _Recorded:
    name: str
    namespace: str
    last: float


class EventRecorder:
    """Writes aggregated Events into the KubeStore and drops those older than :data:`EVENT_TTL`."""

    def __init__(self, kube: KubeStore, *, ttl: float = EVENT_TTL) -> None:
        self.kube = kube
        self.ttl = ttl
        #: (cluster, involved, type, reason, message) -> the Event written for it, oldest first
        self._events: OrderedDict[tuple[ClusterKey, Involved, str, str, str], _Recorded] = OrderedDict()
        self._sequence = 0

    def record(
        self,
        cluster: ClusterKey,
        involved: Involved,
        *,
        type_: str,
        reason: str,
        message: str,
        component: str,
        now: float | None = None,
    ) -> dict[str, Any]:
        """Write an event (or count one more of the same); returns the Event as stored."""
        now = time.time() if now is None else now
        self._expire(now)
        key = (cluster, involved, type_, reason, message)
        seen = self._events.get(key)
        if seen is not None:
            current = self.kube.get(cluster, resources.EVENTS, seen.namespace, seen.name)
            if current is not None:
                current["count"] = int(current.get("count") or 1) + 1
                current["lastTimestamp"] = _timestamp(now)
                seen.last = now
                self._events.move_to_end(key)
                return self.kube.put(cluster, resources.EVENTS, current)
            del self._events[key]
        self._sequence += 1
        # As client-go names them: the object's name and a unique hexadecimal suffix.
        name = f"{involved.name}.{int(now * 1e9) + self._sequence:x}"
        namespace = involved.namespace or "default"
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "kind": involved.kind,
                "name": involved.name,
                "namespace": involved.namespace,
                "uid": involved.uid,
                "apiVersion": involved.api_version,
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "count": 1,
            "firstTimestamp": _timestamp(now),
            "lastTimestamp": _timestamp(now),
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": f"{component}-sandbox",
        }
        self._events[key] = _Recorded(name, namespace, now)
        return self.kube.put(cluster, resources.EVENTS, event)

    def _expire(self, now: float) -> None:
        while self._events:
            key, seen = next(iter(self._events.items()))
            if now - seen.last < self.ttl:
                return
            del self._events[key]
            self.kube.delete(key[0], resources.EVENTS, seen.namespace, seen.name)
