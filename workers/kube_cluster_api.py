"""bot.ports.ClusterApi with the official ``kubernetes`` client: Flux objects, events, controllers, CRDs.

One ``ApiClient`` per cluster, cached (Celery runs tasks on threads: the cache is locked, and a cluster's
credentials are fetched by one thread while the others wait for them). Credentials come from ARM
(workers/kube_credentials.py) and are fetched again when they age out, when an Entra token nears its expiry
(only the token is renewed), and once when the API answers 401 (the cluster's token was rotated).

Every call has a connect and a read timeout, and an overall deadline (a server dripping its answer a byte at a
time never trips a read timeout). Responses are read as JSON and mapped by workers/kube_objects.py, so fields the
client's models do not know (or a CRD's status they would reject) never break a read.

At most ``max_clients`` clients are kept (least recently used dropped first); a dropped, replaced or forgotten
client's connections are closed. A cluster whose credentials ARM refused (or that cannot be reached from here at
all) is remembered for ``remember_refusal`` seconds: asking again meanwhile fails at once, without ARM.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import urllib3
from kubernetes.client import ApiClient, ApiextensionsV1Api, AppsV1Api, Configuration, CoreV1Api, CustomObjectsApi
from kubernetes.client.exceptions import ApiException
from urllib3.util.retry import Retry

from bot import errors
from bot.cluster_objects import FLUX_KINDS, FLUX_RESOURCES, REQUESTED_AT, FluxEvent, FluxObject, ObjectRef, Workload
from bot.models import ClusterRef
from bot.redact import redact
from workers import kube_objects
from workers.kube_credentials import ClusterAccess, KubeCredentials
from workers.kube_errors import ApiStatus, KubeCall, http_error, unreachable
from workers.kubeconfig import is_private_server

log = logging.getLogger(__name__)

T = TypeVar("T")
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class KubeTimeouts:
    connect: float = 3.0
    read: float = 15.0
    #: fetch a cluster's kubeconfig again after this long, whatever happens (seconds)
    credential_ttl: float = 900.0
    #: renew an Entra token this long before it expires (seconds)
    refresh_margin: float = 300.0
    #: a whole call (connect, headers, body) ends by then, however the server drips its answer (seconds)
    total: float = 30.0
    #: how long a refusal of a cluster's credentials (or a cluster unreachable from here) is remembered (seconds)
    remember_refusal: float = 300.0


#: events read per call at most (a page of EVENT_PAGE at a time): enough to say why, never a whole cluster's
EVENT_CAP = 500
EVENT_PAGE = 250
#: read a response's body this much at a time, checking the call's deadline in between
_CHUNK = 64 * 1024


class _Overdue(Exception):
    """The call's deadline passed while its answer was still coming."""


@dataclass
class _Client:
    """A cluster's ApiClient and the credentials it was built from."""

    access: ClusterAccess
    api: ApiClient
    config: Configuration
    fetched_at: float
    token_expires_on: float | None
    lock: threading.Lock = field(default_factory=threading.Lock)


class KubeClusterApi:
    """bot.ports.ClusterApi over each cluster's Kubernetes API, reached as az reaches it."""

    def __init__(
        self,
        *,
        credentials: KubeCredentials,
        timeouts: KubeTimeouts = KubeTimeouts(),
        pool_size: int = 8,
        max_clients: int = 64,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = credentials
        self._timeouts = timeouts
        self._pool_size = pool_size
        self._max_clients = max_clients
        self._clock = clock
        self._wall_clock = wall_clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._fetching: dict[str, threading.Lock] = {}
        #: cluster key -> (the error, until when on ``clock``): credentials refused, or a cluster out of reach
        self._refusals: dict[str, tuple[errors.FluxopsError, float]] = {}
        self._lock = threading.Lock()

    # -- the port -----------------------------------------------------------------------------------

    def flux_objects(
        self, cluster: ClusterRef, *, namespace: str | None = None, kinds: Sequence[str] = FLUX_KINDS
    ) -> list[FluxObject]:
        """The Flux objects of ``kinds`` in ``namespace`` (every namespace when None); a kind whose CRD is not
        installed (a controller turned off) has none."""
        found: list[FluxObject] = []
        for kind in kinds:
            group, version, plural = _resource(kind)
            call = KubeCall("list", f"{plural}.{group}", namespace=namespace, kind=kind)

            def list_kind(api: ApiClient, group: str = group, version: str = version, plural: str = plural) -> Any:
                objects = CustomObjectsApi(api)
                if namespace is None:
                    return objects.list_cluster_custom_object(group, version, plural, **self._options())
                return objects.list_namespaced_custom_object(group, version, namespace, plural, **self._options())

            try:
                found.extend(kube_objects.flux_objects(kind, self._json(cluster, call, list_kind)))
            except errors.NotFound:
                continue
        return found

    def flux_object(self, cluster: ClusterRef, ref: ObjectRef) -> FluxObject:
        group, version, plural = _resource(ref.kind)
        call = KubeCall("get", f"{plural}.{group}", namespace=ref.namespace, name=ref.name, kind=ref.kind)
        doc = self._json(
            cluster,
            call,
            lambda api: CustomObjectsApi(api).get_namespaced_custom_object(
                group, version, ref.namespace, plural, ref.name, **self._options()
            ),
        )
        return kube_objects.flux_object(ref.kind, doc)

    def request_reconcile(self, cluster: ClusterRef, ref: ObjectRef, requested_at: str) -> FluxObject:
        """Merge-patch the requestedAt annotation (what ``flux reconcile`` does); the object as patched."""
        group, version, plural = _resource(ref.kind)
        call = KubeCall("patch", f"{plural}.{group}", namespace=ref.namespace, name=ref.name, kind=ref.kind)
        body = {"metadata": {"annotations": {REQUESTED_AT: requested_at}}}
        # the client would pick the content type from the body; a merge patch is what Flux's CLI sends
        doc = self._json(
            cluster,
            call,
            lambda api: CustomObjectsApi(api).patch_namespaced_custom_object(
                group, version, ref.namespace, plural, ref.name, body, _content_type=MERGE_PATCH, **self._options()
            ),
        )
        return kube_objects.flux_object(ref.kind, doc)

    def events(
        self,
        cluster: ClusterRef,
        *,
        namespace: str | None = None,
        involved: Sequence[ObjectRef] = (),
        since: str | None = None,
    ) -> list[FluxEvent]:
        """One list per object asked about (a field selector picks its events on the server; objects are few), or
        of the namespace (every namespace) when none is; paged, at most ``EVENT_CAP`` events in all."""
        if namespace is not None and involved and not (involved := [r for r in involved if r.namespace == namespace]):
            return []  # objects asked about, none of them in this namespace
        items: list[dict[str, Any]] = []
        if involved:
            for ref in dict.fromkeys(involved):
                items.extend(self._event_items(cluster, ref.namespace, _involved_selector(ref), EVENT_CAP - len(items)))
                if len(items) >= EVENT_CAP:
                    break
        else:
            items = self._event_items(cluster, namespace, None, EVENT_CAP)
        return kube_objects.events(items, involved=involved, since=since)

    def workloads(self, cluster: ClusterRef, namespace: str | None, *, selector: str = "") -> list[Workload]:
        call = KubeCall("list", "deployments.apps", namespace=namespace, kind="Deployments")
        options = {**self._options(), **({"label_selector": selector} if selector else {})}

        def read(api: ApiClient) -> object:
            apps = AppsV1Api(api)
            if namespace is None:
                return apps.list_deployment_for_all_namespaces(**options)
            return apps.list_namespaced_deployment(namespace, **options)

        doc = self._json(cluster, call, read)
        return [kube_objects.workload(item) for item in doc.get("items") or ()]

    def custom_resource_definitions(self, cluster: ClusterRef) -> list[str]:
        call = KubeCall("list", "customresourcedefinitions.apiextensions.k8s.io", kind="CustomResourceDefinitions")
        doc = self._json(
            cluster,
            call,
            lambda api: ApiextensionsV1Api(api).list_custom_resource_definition(**self._options()),
        )
        return kube_objects.crd_names(doc)

    # -- calls --------------------------------------------------------------------------------------

    def _event_items(
        self, cluster: ClusterRef, namespace: str | None, selector: str | None, cap: int
    ) -> list[dict[str, Any]]:
        """At most ``cap`` events, a page at a time."""
        call = KubeCall("list", "events", namespace=namespace, kind="Events")
        items: list[dict[str, Any]] = []
        token: str | None = None
        while len(items) < cap:
            options = self._options()
            options["limit"] = min(EVENT_PAGE, cap - len(items))
            if selector:
                options["field_selector"] = selector
            if token:
                options["_continue"] = token

            def list_events(api: ApiClient, options: dict[str, Any] = options) -> Any:
                if namespace is None:
                    return CoreV1Api(api).list_event_for_all_namespaces(**options)
                return CoreV1Api(api).list_namespaced_event(namespace, **options)

            doc = self._json(cluster, call, list_events)
            items.extend(doc.get("items") or [])
            token = (doc.get("metadata") or {}).get("continue")
            if not token:
                break
        return items[:cap]

    def _options(self) -> dict[str, Any]:
        return {
            "_request_timeout": (self._timeouts.connect, self._timeouts.read),
            "_preload_content": False,
        }

    def _json(self, cluster: ClusterRef, call: KubeCall, send: Callable[[ApiClient], Any]) -> dict[str, Any]:
        """Run ``send`` with the cluster's client; its JSON answer. A 401 fetches credentials again, once (a
        fresh Entra token too, not the credential's cached one)."""
        fresh = False
        for attempt in (1, 2):
            client = self._client(cluster, fresh=fresh)
            deadline = time.monotonic() + self._timeouts.total
            try:
                data = _body(send(client.api), deadline)
            except _Overdue:
                raise unreachable(
                    f"no complete answer within {self._timeouts.total:g} s",
                    call,
                    cluster,
                    host=client.access.kubeconfig.host,
                ) from None
            except ApiException as exc:
                status = ApiStatus.parse(int(exc.status or 0), exc.body, _header(exc, "Retry-After"))
                if status.code == 401 and attempt == 1:
                    log.info("cluster %s refused its token; fetching its credentials again", cluster.name)
                    self._forget(cluster, client)
                    fresh = True
                    continue
                if status.code == 0:  # the client's own TLS failure
                    self._forget(cluster, client)
                    raise unreachable(
                        _cause(exc.reason), call, cluster, host=client.access.kubeconfig.host, tls=True
                    ) from None
                raise http_error(status, call, cluster, entra=client.access.entra) from None
            except urllib3.exceptions.HTTPError as exc:
                host = client.access.kubeconfig.host
                tls = isinstance(getattr(exc, "reason", exc), urllib3.exceptions.SSLError)
                if tls:
                    self._forget(cluster, client)
                # a private cluster's server may have a public name (or an IP): ARM knows it is private
                private = not tls and not is_private_server(host) and self._credentials.is_private(cluster)
                error = unreachable(_cause(exc), call, cluster, host=host, tls=tls, private=private)
                if not error.retryable:  # a private cluster: no use trying again soon
                    self._remember(cluster, error)
                raise error from None
            try:
                doc = json.loads(data or b"{}")
            except ValueError as exc:
                raise errors.ServiceUnavailable(
                    f"{call.doing(cluster)}: the Kubernetes API answered something that is not JSON",
                    recommendation="fluxops retries",
                ) from exc
            return doc if isinstance(doc, dict) else {}
        raise AssertionError("unreachable: the second attempt returns or raises")

    # -- the client cache ---------------------------------------------------------------------------

    def _client(self, cluster: ClusterRef, *, fresh: bool = False) -> _Client:
        key = cluster.arm_id.lower()
        with self._lock:
            self._raise_remembered(key)
            client = self._cached(key)
            if client is not None:
                return client
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:  # one thread fetches a cluster's credentials; the others wait and take its client
            with self._lock:
                self._raise_remembered(key)
                client = self._cached(key)
                if client is not None:
                    return client
            try:
                access = self._credentials.fetch(cluster, fresh=fresh)
            except (errors.ClusterAccessDenied, errors.ClusterUnreachable) as error:
                if isinstance(error, errors.ClusterAccessDenied) or not error.retryable:
                    self._remember(cluster, error)
                raise
            client = self._build(access)
            log.info(
                "connected to the Kubernetes API of cluster %s at %s (%s)",
                cluster.name,
                access.kubeconfig.host,
                "Entra ID token" if access.entra else "token from ARM",
            )
            with self._lock:
                replaced = self._clients.pop(key, None)
                self._clients[key] = client
                dropped = [replaced] if replaced is not None else []
                while len(self._clients) > self._max_clients:
                    dropped.append(self._clients.popitem(last=False)[1])
            for old in dropped:
                _close(old)
            return client

    def _cached(self, key: str) -> _Client | None:
        """The cluster's client while its credentials are fresh, now the most recently used (lock held)."""
        client = self._clients.get(key)
        if client is None or self._clock() - client.fetched_at >= self._timeouts.credential_ttl:
            return None
        self._clients.move_to_end(key)
        return client

    def _forget(self, cluster: ClusterRef, client: _Client) -> None:
        """Drop ``client`` (not a newer one another thread already built) and close its connections."""
        with self._lock:
            if self._clients.get(cluster.arm_id.lower()) is client:
                del self._clients[cluster.arm_id.lower()]
        _close(client)

    def _remember(self, cluster: ClusterRef, error: errors.FluxopsError) -> None:
        if self._timeouts.remember_refusal <= 0:
            return
        with self._lock:
            self._refusals[cluster.arm_id.lower()] = (error, self._clock() + self._timeouts.remember_refusal)
            for key in [k for k, (_, until) in self._refusals.items() if until <= self._clock()]:
                del self._refusals[key]

    def _raise_remembered(self, key: str) -> None:
        """Raise the refusal remembered for the cluster, while it is remembered (lock held)."""
        remembered = self._refusals.get(key)
        if remembered is None:
            return
        error, until = remembered
        if self._clock() >= until:
            del self._refusals[key]
            return
        raise copy.copy(error)

    def _build(self, access: ClusterAccess) -> _Client:
        kubeconfig = access.kubeconfig
        config = Configuration(
            host=kubeconfig.server,
            api_key={"BearerToken": access.token},
            api_key_prefix={"BearerToken": "Bearer"},
            ca_cert_data=kubeconfig.ca_pem,
            tls_server_name=kubeconfig.tls_server_name,
        )
        config.verify_ssl = True  # workers/kubeconfig.py refuses kubeconfigs that turn verification off
        config.connection_pool_maxsize = self._pool_size
        # one more try when a connection cannot be made; never resend a request the server may have read
        config.retries = Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0, raise_on_status=False)
        client = _Client(
            access=access,
            api=ApiClient(config),
            config=config,
            fetched_at=self._clock(),
            token_expires_on=access.expires_on,
        )
        if access.entra:
            # the client calls this hook before every request (typed None in the client, hence the ignore); weak
            # references, so a dropped client is not kept alive by its own configuration
            this, owner = weakref.ref(client), weakref.ref(self)

            def renew(_: Configuration) -> None:
                found, api = this(), owner()
                if found is not None and api is not None:
                    api._renew_entra_token(found)

            config.refresh_api_key_hook = renew  # type: ignore[assignment]
        return client

    def _renew_entra_token(self, client: _Client) -> None:
        """Before each request: an Entra token close to its expiry is replaced (kubelogin's job, done here)."""
        with client.lock:
            expires_on = client.token_expires_on
            if expires_on is None or expires_on - self._wall_clock() > self._timeouts.refresh_margin:
                return
            token, expires = self._credentials.entra_token(client.access.cluster)
            client.config.api_key["BearerToken"] = token
            client.token_expires_on = expires


def _body(response: Any, deadline: float) -> bytes:
    """The whole body of a response read without preloading, a chunk at a time (each read has the read timeout),
    by ``deadline`` (``time.monotonic``); the connection is closed when the body is not read to its end."""
    chunks: list[bytes] = []
    done = False
    try:
        while True:
            if time.monotonic() > deadline:
                raise _Overdue
            chunk = response.read1(_CHUNK)
            if not chunk:
                done = True
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        if not done:
            response.close()
        response.release_conn()


def _close(client: _Client) -> None:
    """Close a client's connections (one pool per cluster; idle sockets would stay open otherwise)."""
    try:
        client.api.close()  # type: ignore[no-untyped-call]
    except Exception:  # closing is best effort: a socket already gone is what was wanted
        log.debug("closing the Kubernetes client of %s failed", client.access.cluster.name, exc_info=True)


def _resource(kind: str) -> tuple[str, str, str]:
    try:
        return FLUX_RESOURCES[kind]
    except KeyError:
        raise errors.InvalidRequest(
            f"'{kind}' is not a Flux kind fluxops reads",
            recommendation=f"use one of {', '.join(FLUX_RESOURCES)}",
        ) from None


def _involved_selector(ref: ObjectRef) -> str:
    return f"involvedObject.kind={ref.kind},involvedObject.name={ref.name},involvedObject.namespace={ref.namespace}"


def _header(exc: ApiException, name: str) -> str | None:
    headers = exc.headers
    value = headers.get(name) if headers is not None else None
    return str(value) if value is not None else None


def _cause(exc: object) -> str:
    """A short, token-free reason for a failed connection ("connection refused", "name not resolved", ...)."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    lowered = text.lower()
    for needle, short in (
        ("name or service not known", "the name does not resolve"),
        ("nodename nor servname", "the name does not resolve"),
        ("failed to resolve", "the name does not resolve"),
        ("temporary failure in name resolution", "the name does not resolve"),
        ("connection refused", "connection refused"),
        ("closed connection without response", "the connection was closed without an answer"),
        ("connection reset", "the connection was reset mid-answer"),
        ("connection broken", "the connection broke mid-answer"),
        ("timed out", "timed out"),
        ("certificate verify failed", "certificate verify failed"),
    ):
        if needle in lowered:
            return short
    return redact(text.splitlines()[0] if text else type(reason).__name__)[:200]
