"""Kubernetes objects per emulated cluster: what the sandbox's Kubernetes API serves.

The simulated Flux writes its objects here (``put`` / ``delete``); the API server reads them, patches them for
clients, and streams changes to watchers. One resourceVersion counter for the whole store (as etcd's revision
is one per cluster; one per store is as good for clients, which treat it as opaque). Owned by the sandbox's
event loop: every method is called on it.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from sandbox.merge_patch import merge_patch as apply_merge_patch
from sandbox.world import utc_now_iso

ClusterKey = tuple[str, str, str, str]
#: how many changes a watch may resume from (older resourceVersions get 410 Gone, as the API server does)
HISTORY = 10_000
#: how many changes a watch may have waiting for its client; a client slower than that loses its watch (the API
#: server closes unresponsive watchers too): the watch ends with a 410 and the client lists again
WATCH_QUEUE = 1_000


@dataclass(frozen=True)
class Resource:
    """A resource type as discovery lists it."""

    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class Change:
    """One change, as a watch streams it."""

    resource_version: int
    cluster: ClusterKey
    resource: Resource
    type: str  # "ADDED" | "MODIFIED" | "DELETED"
    object: dict[str, Any]  # shared with the store: read-only


class Gone(Exception):
    """A watch asked to resume from a resourceVersion older than the history kept, or fell too far behind."""


class InvalidPatch(ValueError):
    """A client patch that would leave the object malformed (the API server answers 422 Invalid)."""


#: (cluster, resource, the object before, the object after) for every client patch
PatchHook = Callable[[ClusterKey, Resource, dict[str, Any], dict[str, Any]], None]


@dataclass
class _Watcher:
    cluster: ClusterKey
    resource: Resource
    namespace: str | None
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(WATCH_QUEUE))
    #: the client fell ``WATCH_QUEUE`` changes behind: changes stopped being queued, the watch ends with 410
    overflowed: bool = False


class KubeStore:
    """Objects keyed by (cluster, resource, namespace, name); stored objects are full Kubernetes objects."""

    def __init__(self, *, history: int = HISTORY, watch_queue: int = WATCH_QUEUE) -> None:
        self._watch_queue = watch_queue
        self._objects: dict[tuple[ClusterKey, Resource], dict[tuple[str, str], dict[str, Any]]] = {}
        self._revision = 0
        #: the last ``history`` changes, which watches may resume from
        self._history: deque[Change] = deque(maxlen=history)
        self._watchers: list[_Watcher] = []
        self._patch_hooks: list[PatchHook] = []

    @property
    def resource_version(self) -> str:
        return str(self._revision)

    # -- reads ------------------------------------------------------------------------------

    def get(self, cluster: ClusterKey, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects.get((cluster, resource), {}).get((namespace, name))
        return _copy(obj) if obj is not None else None

    def list(self, cluster: ClusterKey, resource: Resource, namespace: str | None = None) -> list[dict[str, Any]]:
        """The objects (copies), by namespace then name; every namespace when ``namespace`` is None."""
        objects = self._objects.get((cluster, resource), {})
        return [_copy(obj) for (ns, _), obj in sorted(objects.items()) if namespace is None or ns == namespace]

    # -- writes by the sandbox ---------------------------------------------------------------

    def put(self, cluster: ClusterKey, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object (its ``metadata.name`` and, when namespaced, ``metadata.namespace``);
        keeps its uid and creationTimestamp, stamps a new resourceVersion, tells watchers. Unchanged: a no-op.
        Returns the object as stored: read it, never change it (watchers and the history share it)."""
        meta = obj.setdefault("metadata", {})
        namespace = str(meta.get("namespace") or "") if resource.namespaced else ""
        name = str(meta["name"])
        objects = self._objects.setdefault((cluster, resource), {})
        before = objects.get((namespace, name))
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        if before is not None:
            meta["uid"] = before["metadata"]["uid"]
            meta["creationTimestamp"] = before["metadata"]["creationTimestamp"]
            meta["resourceVersion"] = before["metadata"]["resourceVersion"]
            if obj == before:
                return before
        else:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", utc_now_iso(time.time())[:19] + "Z")
        stored = _copy(obj)
        self._stamp(stored)
        objects[(namespace, name)] = stored
        self._notify(cluster, resource, "MODIFIED" if before is not None else "ADDED", stored)
        return stored

    def delete(self, cluster: ClusterKey, resource: Resource, namespace: str, name: str) -> bool:
        objects = self._objects.get((cluster, resource), {})
        gone = objects.pop((namespace if resource.namespaced else "", name), None)
        if gone is None:
            return False
        gone = _copy(gone)
        self._stamp(gone)
        self._notify(cluster, resource, "DELETED", gone)
        return True

    def drop_cluster(self, cluster: ClusterKey) -> None:
        """Forget every object of a cluster (no watch events: the cluster is gone)."""
        for key in [k for k in self._objects if k[0] == cluster]:
            del self._objects[key]

    # -- writes by clients -------------------------------------------------------------------

    def on_patch(self, hook: PatchHook) -> None:
        """Call ``hook`` after every client patch (the simulated controllers react to annotations)."""
        self._patch_hooks.append(hook)

    def patch(
        self, cluster: ClusterKey, resource: Resource, namespace: str, name: str, merge_patch: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Apply an RFC 7396 merge patch from a client; None when there is no such object. ``spec`` changes
        raise ``metadata.generation``; ``status`` is not the client's (use the status subresource); identity
        (apiVersion, kind, name, namespace, uid) is kept. :class:`InvalidPatch` when ``metadata`` would not be
        an object."""
        objects = self._objects.get((cluster, resource), {})
        key = (namespace if resource.namespaced else "", name)
        before = objects.get(key)
        if before is None:
            return None
        after = apply_merge_patch(before, merge_patch)
        if not isinstance(after, dict) or not isinstance(after.get("metadata"), dict):
            raise InvalidPatch(f'{resource.kind} "{name}" is invalid: metadata: Invalid value: must be an object')
        after["apiVersion"], after["kind"] = before["apiVersion"], before["kind"]
        after["metadata"]["uid"] = before["metadata"]["uid"]
        after["metadata"]["name"] = before["metadata"]["name"]
        if resource.namespaced:
            after["metadata"]["namespace"] = before["metadata"]["namespace"]
        # the status belongs to the controllers (they write it with put); a client's patch cannot touch it
        after.pop("status", None)
        if "status" in before:
            after["status"] = copy.deepcopy(before["status"])
        if after.get("spec") != before.get("spec"):
            after["metadata"]["generation"] = int(before["metadata"].get("generation") or 1) + 1
        if after != before:
            self._stamp(after)
            objects[key] = after
            self._notify(cluster, resource, "MODIFIED", after)
        for hook in self._patch_hooks:
            hook(cluster, resource, copy.deepcopy(before), copy.deepcopy(after))
        return _copy(objects[key])

    # -- watch -------------------------------------------------------------------------------

    async def watch(
        self, cluster: ClusterKey, resource: Resource, namespace: str | None, since: int | None
    ) -> AsyncIterator[Change]:
        """Changes after resourceVersion ``since`` (None: from now on) until the caller stops iterating.
        Raises :class:`Gone` when ``since`` is older than the history kept."""
        watcher = _Watcher(cluster, resource, namespace, asyncio.Queue(self._watch_queue))
        backlog: list[Change] = []
        if since is not None and since < self._revision:
            oldest = self._history[0].resource_version if self._history else self._revision + 1
            if since + 1 < oldest:
                raise Gone(f"too old resource version: {since} ({oldest - 1})")
            backlog = [c for c in self._history if c.resource_version > since and self._matches(watcher, c)]
        self._watchers.append(watcher)
        try:
            for change in backlog:
                yield change
            while True:
                if watcher.overflowed:
                    raise Gone(f"the watch fell more than {self._watch_queue} changes behind; list again")
                yield await watcher.queue.get()
        finally:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    # -- internals ---------------------------------------------------------------------------

    def _stamp(self, obj: dict[str, Any]) -> None:
        self._revision += 1
        obj["metadata"]["resourceVersion"] = str(self._revision)

    def _notify(self, cluster: ClusterKey, resource: Resource, type_: str, obj: dict[str, Any]) -> None:
        # Stored objects are replaced, never changed in place: the history and the watchers share them.
        change = Change(self._revision, cluster, resource, type_, obj)
        self._history.append(change)
        for watcher in list(self._watchers):
            if self._matches(watcher, change):
                try:
                    watcher.queue.put_nowait(change)
                except asyncio.QueueFull:
                    watcher.overflowed = True
                    self._watchers.remove(watcher)

    @staticmethod
    def _matches(watcher: _Watcher, change: Change) -> bool:
        if watcher.cluster != change.cluster or watcher.resource != change.resource:
            return False
        return watcher.namespace is None or change.object["metadata"].get("namespace") == watcher.namespace


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON object (several times faster than copy.deepcopy: a fleet writes thousands)."""
    copied: dict[str, Any] = orjson.loads(orjson.dumps(obj))
    return copied
