"""bot.ports.ClusterApi with the official ``kubernetes`` client: Flux objects, events, controllers, CRDs.

One ``ApiClient`` per cluster, cached (Celery runs tasks on threads: the cache is locked, and a cluster's
credentials are fetched by one thread while the others wait for them). Credentials come from ARM
(workers/kube_credentials.py) and are fetched again when they age out, when an Entra token nears its expiry
(only the token is renewed), and once when the API answers 401 (the cluster's token was rotated).

Every call has a connect and a read timeout. Responses are read as JSON and mapped by workers/kube_objects.py,
so fields the client's models do not know (or a CRD's status they would reject) never break a read.
"""

from __future__ import annotations

import json
import logging
import threading
import time
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._timeouts = timeouts
        self._pool_size = pool_size
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._fetching: dict[str, threading.Lock] = {}
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
        """One list per namespace asked about (one object: a field selector picks its events on the server)."""
        if namespace is not None:
            namespaces: list[str | None] = [namespace]
            if involved and not (involved := [ref for ref in involved if ref.namespace == namespace]):
                return []  # objects asked about, none of them in this namespace
        elif involved:
            namespaces = sorted({ref.namespace for ref in involved})  # type: ignore[assignment]
        else:
            namespaces = [None]
        items: list[dict[str, Any]] = []
        for ns in namespaces:
            wanted = [ref for ref in involved if ns is None or ref.namespace == ns]
            selector = _involved_selector(wanted[0]) if len(wanted) == 1 else None
            items.extend(self._event_items(cluster, ns, selector))
        return kube_objects.events(items, involved=involved, since=since)

    def workloads(self, cluster: ClusterRef, namespace: str) -> list[Workload]:
        call = KubeCall("list", "deployments.apps", namespace=namespace, kind="Deployments")
        doc = self._json(
            cluster, call, lambda api: AppsV1Api(api).list_namespaced_deployment(namespace, **self._options())
        )
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

    def _event_items(self, cluster: ClusterRef, namespace: str | None, selector: str | None) -> list[dict[str, Any]]:
        call = KubeCall("list", "events", namespace=namespace, kind="Events")
        options = self._options()
        if selector:
            options["field_selector"] = selector

        def list_events(api: ApiClient) -> Any:
            if namespace is None:
                return CoreV1Api(api).list_event_for_all_namespaces(**options)
            return CoreV1Api(api).list_namespaced_event(namespace, **options)

        items: list[dict[str, Any]] = self._json(cluster, call, list_events).get("items") or []
        return items

    def _options(self) -> dict[str, Any]:
        return {
            "_request_timeout": (self._timeouts.connect, self._timeouts.read),
            "_preload_content": False,
        }

    def _json(self, cluster: ClusterRef, call: KubeCall, send: Callable[[ApiClient], Any]) -> dict[str, Any]:
        """Run ``send`` with the cluster's client; its JSON answer. A 401 fetches credentials again, once."""
        for attempt in (1, 2):
            client = self._client(cluster)
            try:
                response = send(client.api)
            except ApiException as exc:
                status = ApiStatus.parse(int(exc.status or 0), exc.body, _header(exc, "Retry-After"))
                if status.code == 401 and attempt == 1:
                    log.info("cluster %s refused its token; fetching its credentials again", cluster.name)
                    self._forget(cluster, client)
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
                raise unreachable(_cause(exc), call, cluster, host=host, tls=tls, private=private) from None
            try:
                doc = json.loads(response.data or b"{}")
            except ValueError as exc:
                raise errors.ServiceUnavailable(
                    f"{call.doing(cluster)}: the Kubernetes API answered something that is not JSON",
                    recommendation="fluxops retries",
                ) from exc
            return doc if isinstance(doc, dict) else {}
        raise AssertionError("unreachable: the second attempt returns or raises")

    # -- the client cache ---------------------------------------------------------------------------

    def _client(self, cluster: ClusterRef) -> _Client:
        key = cluster.arm_id.lower()
        with self._lock:
            client = self._clients.get(key)
            if client is not None and self._fresh(client):
                return client
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:  # one thread fetches a cluster's credentials; the others wait and take its client
            with self._lock:
                client = self._clients.get(key)
                if client is not None and self._fresh(client):
                    return client
            access = self._credentials.fetch(cluster)
            client = self._build(access)
            log.info(
                "connected to the Kubernetes API of cluster %s at %s (%s)",
                cluster.name,
                access.kubeconfig.host,
                "Entra ID token" if access.entra else "token from ARM",
            )
            with self._lock:
                self._clients[key] = client
            return client

    def _fresh(self, client: _Client) -> bool:
        return self._clock() - client.fetched_at < self._timeouts.credential_ttl

    def _forget(self, cluster: ClusterRef, client: _Client) -> None:
        """Drop ``client`` (not a newer one another thread already built)."""
        with self._lock:
            if self._clients.get(cluster.arm_id.lower()) is client:
                del self._clients[cluster.arm_id.lower()]

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
            # the client calls this hook before every request (typed None in the client, hence the ignore)
            config.refresh_api_key_hook = lambda cfg: self._renew_entra_token(client)  # type: ignore[assignment]
        return client

    def _renew_entra_token(self, client: _Client) -> None:
        """Before each request: an Entra token close to its expiry is replaced (kubelogin's job, done here)."""
        with client.lock:
            expires_on = client.token_expires_on
            if expires_on is None or expires_on - time.time() > self._timeouts.refresh_margin:
                return
            token, expires = self._credentials.entra_token(client.access.cluster)
            client.config.api_key["BearerToken"] = token
            client.token_expires_on = expires


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
        ("timed out", "timed out"),
        ("certificate verify failed", "certificate verify failed"),
    ):
        if needle in lowered:
            return short
    return redact(text.splitlines()[0] if text else type(reason).__name__)[:200]
