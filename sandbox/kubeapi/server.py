"""The sandbox's Kubernetes API server: every emulated cluster's API on one HTTPS server.

Cluster C is served under ``/clusters/{C.kube_slug}``, so a kubeconfig ``server:`` of
``https://127.0.0.1:PORT/clusters/<slug>`` works with any client (they append ``/api/v1/...``). What it serves:

- discovery: ``/api``, ``/api/v1``, ``/apis``, ``/apis/{group}``, ``/apis/{group}/{version}``, ``/version``;
- the resources of :mod:`sandbox.kubeapi.resources` (namespaces, events, deployments, CRDs, Flux's kinds),
  read from the :class:`KubeStore`: get; list in a namespace or across all of them, with ``labelSelector``,
  ``fieldSelector``, ``limit`` and ``continue``; watch (``watch=true``; ``resourceVersion``,
  ``timeoutSeconds``, at most and by default 30 minutes; ``allowWatchBookmarks`` is accepted) as JSON lines, a
  too old resourceVersion or a client too far behind ending the stream with an ERROR event carrying a 410
  Expired Status; PATCH (merge, strategic merge as merge, JSON patch)
  through ``KubeStore.patch`` so its hooks fire. Other methods answer 405.
- authentication: ``Authorization: Bearer <token>``; a cluster takes its ``kube_token``, or, with
  ``entra_auth``, only a sandbox Entra token (sandbox/entra.py) for the AKS server application. A
  ``private_cluster`` is unreachable: its connections are closed without an answer.

Administration (no Kubernetes counterpart): ``PUT /_sandbox/faults`` sets faults (see
:mod:`sandbox.kubeapi.faults`), ``GET /_sandbox/requests`` lists the requests seen (method, path, query, status,
cluster name), ``GET /_sandbox/health``. In-process: ``server.faults.configure``/``server.set_faults``,
``server.expire(cluster)``, ``server.requests``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.entra import AKS_SERVER_APP_ID, SANDBOX_PRINCIPAL_ID, read_token
from sandbox.kubeapi import discovery
from sandbox.kubeapi.faults import KubeFault, KubeFaults
from sandbox.kubeapi.patches import merge_patch_for
from sandbox.kubeapi.resources import find
from sandbox.kubeapi.selectors import SelectorError, Selectors, parse_selectors
from sandbox.kubeapi.status import (
    KubeError,
    bad_request,
    forbidden,
    method_not_allowed,
    no_such_path,
    not_found,
    qualified,
    status_body,
    unauthorized,
)
from sandbox.kubeapi.store import Change, ClusterKey, Gone, InvalidPatch, KubeStore, Resource
from sandbox.world import Cluster, World

logger = logging.getLogger(__name__)

#: how often an idle watch checks whether its client went away or the server is stopping
_WATCH_POLL_SECONDS = 1.0
#: a watch ends after this long, with or without ``timeoutSeconds`` (longer ones are cut to it), as the API
#: server's --min-request-timeout (1800 s) ends watches; clients watch again from the last resourceVersion
WATCH_TIMEOUT_SECONDS = 1800.0
_MAX_BODY = 1024 * 1024
_CLUSTER = web.RequestKey("cluster", Cluster)


@dataclass(frozen=True)
class KubeRequestRecord:
    method: str
    path: str
    query: str
    status: int  # 0: the connection was closed without an answer
    cluster: str  # the cluster's name ("" when the path names none)


class _Unreachable(Exception):
    """The request's connection is to be closed without an answer."""


@dataclass(frozen=True)
class _Target:
    """What a resource request asks for."""

    resource: Resource
    namespace: str | None  # None: cluster-scoped, or every namespace
    name: str | None  # None: the collection


class KubeApiServer:
    """The Kubernetes API of every cluster in ``world``, over the objects in ``store``."""

    def __init__(self, *, world: World, store: KubeStore) -> None:
        self.world = world
        self.store = store
        self.faults = KubeFaults()
        self.requests: deque[KubeRequestRecord] = deque(maxlen=20_000)
        self.base_url = ""  # set once the server knows its port
        self._entra_not_before_ms: dict[ClusterKey, int] = {}
        self._slugs: dict[str, ClusterKey] = {}
        self._stopping = asyncio.Event()
        self.watch_timeout = WATCH_TIMEOUT_SECONDS

    def cluster_url(self, cluster: Cluster) -> str:
        return f"{self.base_url}/clusters/{cluster.kube_slug}"

    # -- faults -------------------------------------------------------------------------------

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        """Replace the fault rules (see sandbox.kubeapi.faults); ``expire`` rules act at once."""
        for rule in self.faults.configure(rules):
            for cluster in [c for c in self.world.clusters.values() if rule.names(c)]:
                self.expire(cluster)

    def expire(self, cluster: Cluster) -> None:
        """Refuse the credentials handed out so far: a new ``kube_token``, and older Entra tokens refused."""
        cluster.kube_token = secrets.token_urlsafe(24)
        self._entra_not_before_ms[cluster.key] = int(time.time() * 1000)

    def stop_watches(self) -> None:
        """End every open watch (the server is stopping)."""
        self._stopping.set()

    # -- application --------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY, middlewares=[self._record])
        app.router.add_route("*", "/_sandbox/{tail:.*}", self._admin)
        app.router.add_route("*", "/clusters/{slug}", self._cluster_request)
        app.router.add_route("*", "/clusters/{slug}/{tail:.*}", self._cluster_request)
        app.router.add_route("*", "/{tail:.*}", self._no_cluster)
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        status = 0
        try:
            response = await handler(request)
        except KubeError as err:
            response = err.response()
        except _Unreachable:
            if request.transport is not None:
                request.transport.abort()
            # aiohttp writes nothing to an aborted transport; the client sees the connection drop
            response = web.Response(status=503)
            status = -1
        except web.HTTPException as exc:
            response = exc
        except Exception:
            logger.exception("sandbox Kubernetes API failed on %s %s", request.method, request.path)
            response = KubeError(500, "the sandbox Kubernetes API failed; see its log").response()
        if not request.path.startswith("/_sandbox/"):
            cluster = request.get(_CLUSTER)
            self.requests.append(
                KubeRequestRecord(
                    method=request.method,
                    path=request.path,
                    query=request.query_string,
                    status=0 if status < 0 else response.status,
                    cluster=cluster.name if cluster is not None else "",
                )
            )
        return response

    async def _no_cluster(self, request: web.Request) -> web.StreamResponse:
        raise KubeError(404, f"the sandbox serves clusters under /clusters/<slug>, not at {request.path}")

    # -- administration ------------------------------------------------------------------------

    async def _admin(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if tail == "health":
            return web.json_response({"ok": True})
        if tail == "faults" and request.method == "PUT":
            try:
                body = await request.json()
                self.set_faults(list(body.get("faults", [])))
            except (ValueError, TypeError, AttributeError) as exc:
                raise bad_request(f"faults: {exc}") from None
            return web.json_response({"faults": len(self.faults.rules)})
        if tail == "requests" and request.method == "GET":
            return web.json_response(
                [
                    {"method": r.method, "path": r.path, "query": r.query, "status": r.status, "cluster": r.cluster}
                    for r in self.requests
                ]
            )
        raise KubeError(404, f"no sandbox admin route '{tail}'")

    # -- cluster requests ----------------------------------------------------------------------

    def _cluster_by_slug(self, slug: str) -> Cluster | None:
        key = self._slugs.get(slug)
        cluster = self.world.clusters.get(key) if key is not None else None
        if cluster is None:
            self._slugs = {c.kube_slug: c.key for c in self.world.clusters.values()}
            key = self._slugs.get(slug)
            cluster = self.world.clusters.get(key) if key is not None else None
        return cluster

    async def _cluster_request(self, request: web.Request) -> web.StreamResponse:
        slug = request.match_info["slug"]
        cluster = self._cluster_by_slug(slug)
        if cluster is None:
            raise KubeError(404, f"no cluster is served at /clusters/{slug}")
        request[_CLUSTER] = cluster
        if cluster.private_cluster or self.faults.unreachable(cluster):
            raise _Unreachable
        self._authenticate(cluster, request)
        parts = [p for p in request.match_info.get("tail", "").split("/") if p]
        document = self._discovery(cluster, parts)
        if document is not None:
            if request.method != "GET":
                raise method_not_allowed()
            return web.json_response(document)
        target = self._target(parts)
        verb = self._verb(request, target)
        denial = self.faults.forbidden(cluster, target.resource.plural, verb)
        if denial is not None:
            raise forbidden(self._user(cluster, denial), verb, target.resource, target.namespace, target.name)
        if verb == "get":
            return web.json_response(self._get(cluster, target))
        if verb == "list":
            return web.json_response(self._list(cluster, target, request))
        if verb == "watch":
            return await self._watch(cluster, target, request)
        return web.json_response(await self._patch(cluster, target, request))

    def _authenticate(self, cluster: Cluster, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if cluster.entra_auth:
            entra = read_token(token)
            not_before = self._entra_not_before_ms.get(cluster.key, 0)
            if entra is None or entra.audience != AKS_SERVER_APP_ID or entra.issued_at * 1000 < not_before:
                raise unauthorized()
        elif not token or not secrets.compare_digest(token.encode(), cluster.kube_token.encode()):
            raise unauthorized()

    @staticmethod
    def _user(cluster: Cluster, denial: KubeFault) -> str:
        if denial.user:
            return denial.user
        return SANDBOX_PRINCIPAL_ID if cluster.entra_auth else f"clusterUser_{cluster.resource_group}_{cluster.name}"

    def _discovery(self, cluster: Cluster, parts: list[str]) -> dict[str, Any] | None:
        if parts == ["version"]:
            return dict(discovery.VERSION)
        if parts == ["api"]:
            return discovery.api_versions(self.cluster_url(cluster).split("://", 1)[-1].split("/", 1)[0])
        if parts == ["apis"]:
            return discovery.api_group_list()
        if parts == ["api", "v1"]:
            return discovery.api_resource_list("", "v1")
        if len(parts) == 2 and parts[0] == "apis":
            return discovery.api_group(parts[1]) or _raise(no_such_path())
        if len(parts) == 3 and parts[0] == "apis":
            return discovery.api_resource_list(parts[1], parts[2]) or _raise(no_such_path())
        return None

    @staticmethod
    def _target(parts: list[str]) -> _Target:
        if len(parts) >= 3 and parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 4 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise no_such_path()
        namespace: str | None = None
        if len(rest) in (3, 4) and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if len(rest) not in (1, 2):
            raise no_such_path()
        resource = find(group, version, rest[0])
        if resource is None or (namespace is not None and not resource.namespaced):
            raise no_such_path()
        name = rest[1] if len(rest) == 2 else None
        if name is not None and resource.namespaced and namespace is None:
            raise no_such_path()
        return _Target(resource, namespace, name)

    @staticmethod
    def _verb(request: web.Request, target: _Target) -> str:
        if request.method == "GET":
            if target.name is not None:
                return "get"
            return "watch" if request.query.get("watch", "").lower() in ("true", "1") else "list"
        if request.method == "PATCH" and target.name is not None:
            return "patch"
        raise method_not_allowed()

    # -- verbs --------------------------------------------------------------------------------

    def _get(self, cluster: Cluster, target: _Target) -> dict[str, Any]:
        assert target.name is not None
        obj = self.store.get(cluster.key, target.resource, target.namespace or "", target.name)
        if obj is None:
            raise not_found(target.resource, target.name)
        return obj

    def _list(self, cluster: Cluster, target: _Target, request: web.Request) -> dict[str, Any]:
        selectors = _selectors(target.resource, request)
        resource_version = self.store.resource_version
        items = [o for o in self.store.list(cluster.key, target.resource, target.namespace) if selectors.matches(o)]
        token = request.query.get("continue", "")
        if token:
            after = _read_continue(token)
            items = [o for o in items if _sort_key(o) > after]
        metadata: dict[str, Any] = {"resourceVersion": resource_version}
        limit = _int_param(request, "limit")
        if limit is not None and 0 < limit < len(items):
            items, rest = items[:limit], items[limit:]
            metadata["continue"] = _make_continue(_sort_key(items[-1]))
            metadata["remainingItemCount"] = len(rest)
        return {
            "kind": f"{target.resource.kind}List",
            "apiVersion": target.resource.api_version,
            "metadata": metadata,
            "items": items,
        }

    async def _patch(self, cluster: Cluster, target: _Target, request: web.Request) -> dict[str, Any]:
        assert target.name is not None
        current = self._get(cluster, target)
        try:
            body = json.loads(await request.text())
        except ValueError as exc:
            raise bad_request(f"the patch is not valid JSON: {exc}") from None
        patch = merge_patch_for(request.content_type, body, current)
        meta = patch.get("metadata") if isinstance(patch, dict) else None
        wanted_version = meta.get("resourceVersion") if isinstance(meta, dict) else None
        if wanted_version is not None and str(wanted_version) != current["metadata"]["resourceVersion"]:
            raise KubeError(
                409,
                f'Operation cannot be fulfilled on {qualified(target.resource)} "{target.name}": the object has '
                "been modified; please apply your changes to the latest version and try again",
                reason="Conflict",
                details={"name": target.name, "group": target.resource.group, "kind": target.resource.plural},
            )
        try:
            patched = self.store.patch(cluster.key, target.resource, target.namespace or "", target.name, patch)
        except InvalidPatch as exc:
            raise KubeError(
                422,
                str(exc),
                details={"name": target.name, "group": target.resource.group, "kind": target.resource.kind},
            ) from None
        if patched is None:
            raise not_found(target.resource, target.name)
        return patched

    async def _watch(self, cluster: Cluster, target: _Target, request: web.Request) -> web.StreamResponse:
        selectors = _selectors(target.resource, request)
        since_text = request.query.get("resourceVersion", "")
        if since_text not in ("", "0") and not since_text.isdigit():
            raise bad_request(f"resourceVersion: Invalid value: {since_text!r}: must be a non-negative integer")
        asked = _int_param(request, "timeoutSeconds")
        timeout = min(float(asked), self.watch_timeout) if asked else self.watch_timeout
        deadline = time.monotonic() + timeout
        initial: list[dict[str, Any]] = []
        if since_text in ("", "0"):
            # no resourceVersion: the current objects first, as ADDED, then the changes after them
            since = int(self.store.resource_version)
            initial = [o for o in self.store.list(cluster.key, target.resource, target.namespace)]
        else:
            since = int(since_text)
        changes = self.store.watch(cluster.key, target.resource, target.namespace, since)
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for obj in initial:
                if selectors.matches(obj):
                    await _send(response, "ADDED", obj)
            async for change in self._until_done(changes, request, deadline):
                if selectors.matches(change.object):
                    await _send(response, change.type, change.object)
        except Gone as gone:
            await _send(response, "ERROR", status_body(410, "Expired", str(gone)))
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def _until_done(
        self, changes: AsyncIterator[Change], request: web.Request, deadline: float | None
    ) -> AsyncIterator[Change]:
        """The changes until the deadline, the client leaving or the server stopping."""
        pending: asyncio.Future[Change] | None = None
        try:
            while not self._stopping.is_set():
                transport = request.transport
                if transport is None or transport.is_closing():
                    return
                wait = _WATCH_POLL_SECONDS
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        return
                if pending is None:
                    pending = asyncio.ensure_future(anext(changes))
                done, _ = await asyncio.wait({pending}, timeout=wait)
                if done:
                    change, pending = pending.result(), None
                    yield change
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            aclose = getattr(changes, "aclose", None)
            if aclose is not None:
                await aclose()


def _raise(error: KubeError) -> dict[str, Any]:
    raise error


async def _send(response: web.StreamResponse, type_: str, obj: dict[str, Any]) -> None:
    await response.write(json.dumps({"type": type_, "object": obj}).encode() + b"\n")


def _selectors(resource: Resource, request: web.Request) -> Selectors:
    try:
        return parse_selectors(resource, request.query.get("labelSelector", ""), request.query.get("fieldSelector", ""))
    except SelectorError as exc:
        raise bad_request(str(exc)) from None


def _int_param(request: web.Request, name: str) -> int | None:
    text = request.query.get(name, "")
    if not text:
        return None
    if not text.isdigit():
        raise bad_request(f"{name}: Invalid value: {text!r}: must be a non-negative integer")
    return int(text)


def _sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata", {})
    return (str(meta.get("namespace") or ""), str(meta["name"]))


def _make_continue(after: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "start": list(after)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_continue(token: str) -> tuple[str, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        namespace, name = raw["start"]
        return (str(namespace), str(name))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: the token is not one this server made") from None
