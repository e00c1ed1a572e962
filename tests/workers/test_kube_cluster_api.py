"""The Kubernetes adapter against the real sandbox: credentials from the ARM emulator through the Azure SDK,
the real ``kubernetes`` client over HTTPS to the sandbox's Kubernetes API, objects from the simulated Flux."""

from __future__ import annotations

import json
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import pytest

from bot import errors
from bot.cluster_objects import FluxObject, ObjectRef
from bot.models import ClusterRef, ClusterType, ExtensionSpec, FluxConfigSpec, Kustomization
from bot.settings import Settings
from cli.demo import TUTORIAL_SPEC
from sandbox.runtime import Endpoints, SandboxThread
from sandbox.seed import TUTORIAL_URL
from sandbox.world import Cluster
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs
from workers.kube_cluster_api import KubeClusterApi, KubeTimeouts
from workers.kube_credentials import KubeCredentials
from workers.kubeconfig import AKS_SERVER_SCOPE
from workers.wiring import cluster_api_from_settings

T = TypeVar("T")
FINAL = ("Compliant", "Non-Compliant")
RG = "kube-tests-rg"


def wait_for(read: Callable[[], T], done: Callable[[T], bool], seconds: float = 20.0) -> T:
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value):
        assert time.monotonic() < deadline, f"gave up waiting; last: {value}"
        time.sleep(0.05)
        value = read()
    return value


def _admin(url: str, endpoints: Endpoints, method: str = "GET", body: object = None) -> Any:
    context = ssl.create_default_context(cafile=str(endpoints.ca_file))
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


def credential_calls(endpoints: Endpoints, cluster: ClusterRef) -> int:
    """How many times ARM was asked for the cluster's kubeconfig (the emulator's request log)."""
    suffix = f"/{cluster.name}/listClusterUserCredential".lower()
    seen = _admin(f"{endpoints.arm_url}/_sandbox/requests", endpoints)
    return sum(1 for r in seen if r["method"] == "POST" and r["path"].lower().endswith(suffix))


def kube_requests(endpoints: Endpoints, cluster: str) -> list[dict[str, Any]]:
    seen = _admin(f"{endpoints.kube_api_url}/_sandbox/requests", endpoints)
    return [r for r in seen if r.get("cluster") == cluster]


@pytest.fixture
def kube_faults(sandbox_thread: SandboxThread) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """Set the Kubernetes API's fault rules for one test; cleared after it."""

    def set_faults(rules: list[dict[str, Any]]) -> None:
        sandbox_thread.call(lambda sb: sb.kube_api.set_faults(rules))

    yield set_faults
    set_faults([])


@pytest.fixture
def arm_faults(endpoints: Endpoints) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    def set_faults(rules: list[dict[str, Any]]) -> None:
        _admin(f"{endpoints.arm_url}/_sandbox/faults", endpoints, "PUT", {"faults": rules})

    yield set_faults
    set_faults([])


@pytest.fixture
def kube(connection: ArmConnection) -> KubeClusterApi:
    """A fresh adapter (its own client cache) per test."""
    return KubeClusterApi(credentials=KubeCredentials(connection=connection), timeouts=KubeTimeouts(connect=2, read=5))


def add_cluster(sandbox_thread: SandboxThread, endpoints: Endpoints, name: str, cluster_type: ClusterType, **kw: Any):
    sandbox_thread.call(
        lambda sb: sb.world.add_cluster(Cluster(endpoints.subscription_id, RG, cluster_type.value, name, **kw))
    )
    return ClusterRef(endpoints.subscription_id, RG, cluster_type, name)


@pytest.fixture(scope="module")
def tutorial_arc(
    sandbox_thread: SandboxThread, endpoints: Endpoints, flux: AzureFluxConfigs, extensions: AzureExtensions
) -> ClusterRef:
    """An Arc cluster with Flux and the tutorial's configuration, Compliant; and a broken one beside it."""
    cluster = add_cluster(sandbox_thread, endpoints, "kube-arc", ClusterType.CONNECTED)
    extensions.begin_create(cluster, ExtensionSpec()).result(30)
    flux.begin_create_or_update(cluster, TUTORIAL_SPEC).result(30)
    broken = FluxConfigSpec(
        name="broken",
        namespace="broken",
        source=replace(TUTORIAL_SPEC.source),
        kustomizations=(Kustomization(name="apps", path="./apps/no-such-env"),),
    )
    flux.begin_create_or_update(cluster, broken).result(30)
    for name in (TUTORIAL_SPEC.name, "broken"):
        wait_for(lambda n=name: flux.get(cluster, n), lambda s: s.compliance_state in FINAL)  # type: ignore[misc]
    return cluster


def by_ref(objects: list[FluxObject]) -> dict[tuple[str, str], FluxObject]:
    return {(o.ref.kind, o.ref.name): o for o in objects}


def test_flux_objects_of_a_configuration(kube: KubeClusterApi, tutorial_arc: ClusterRef, sandbox_thread):
    namespace = TUTORIAL_SPEC.namespace
    found = by_ref(kube.flux_objects(tutorial_arc, namespace=namespace))

    head = sandbox_thread.call(lambda sb: sb.repos.head(sb.repos.resolve_url(TUTORIAL_URL), "main"))
    source = found[("GitRepository", TUTORIAL_SPEC.name)]
    assert source.ref.namespace == namespace
    assert source.revision is not None and source.revision.endswith(head)
    assert source.ready is not None and source.ready.status == "True"
    infra = found[("Kustomization", f"{TUTORIAL_SPEC.name}-infra")]
    apps = found[("Kustomization", f"{TUTORIAL_SPEC.name}-apps")]
    assert apps.depends_on == (infra.ref,)
    assert apps.source_ref == infra.source_ref == source.ref
    assert apps.path == "./apps/staging" and apps.revision == source.revision
    assert {o.ref.kind for o in found.values()} >= {"GitRepository", "Kustomization"}
    # every namespace, one kind
    everywhere = kube.flux_objects(tutorial_arc, kinds=["Kustomization"])
    assert {o.ref.namespace for o in everywhere} == {namespace, "broken"}
    assert kube.flux_object(tutorial_arc, apps.ref) == apps


def test_request_reconcile_is_handled(kube: KubeClusterApi, tutorial_arc: ClusterRef, endpoints: Endpoints):
    ref = ObjectRef("GitRepository", TUTORIAL_SPEC.name, TUTORIAL_SPEC.namespace)
    requested_at = f"2030-01-01T00:00:{time.time() % 60:09.6f}Z"

    patched = kube.request_reconcile(tutorial_arc, ref, requested_at)

    assert patched.requested_at == requested_at
    handled = wait_for(lambda: kube.flux_object(tutorial_arc, ref), lambda o: o.handled(requested_at))
    assert handled.ready is not None and handled.ready.status == "True"
    patches = [r for r in kube_requests(endpoints, "kube-arc") if r["method"] == "PATCH"]
    assert patches and patches[-1]["status"] == 200


def test_events_explain_a_broken_path(kube: KubeClusterApi, tutorial_arc: ClusterRef):
    apps = ObjectRef("Kustomization", "broken-apps", "broken")

    found = kube.events(tutorial_arc, involved=[apps])

    assert found and all(e.involved == apps for e in found)
    warning = found[-1]
    assert warning.type == "Warning" and "apps/no-such-env" in warning.message
    assert warning.source == "kustomize-controller"
    assert [e.last_seen for e in found] == sorted(e.last_seen for e in found)
    assert kube.events(tutorial_arc, involved=[apps], since="2999-01-01T00:00:00Z") == []
    # several objects in two namespaces: one list per namespace
    source = ObjectRef("GitRepository", TUTORIAL_SPEC.name, TUTORIAL_SPEC.namespace)
    both = kube.events(tutorial_arc, involved=[apps, source])
    assert {e.involved for e in both} == {apps, source}


def test_controllers_and_crds(kube: KubeClusterApi, tutorial_arc: ClusterRef):
    workloads = {w.name: w for w in kube.workloads(tutorial_arc, "flux-system")}
    assert {"source-controller", "kustomize-controller", "helm-controller"} <= set(workloads)
    assert all(w.ready for w in workloads.values())
    crds = kube.custom_resource_definitions(tutorial_arc)
    assert "gitrepositories.source.toolkit.fluxcd.io" in crds
    assert "kustomizations.kustomize.toolkit.fluxcd.io" in crds


def test_client_is_cached_per_cluster(kube: KubeClusterApi, tutorial_arc: ClusterRef, endpoints: Endpoints):
    before = credential_calls(endpoints, tutorial_arc)
    for _ in range(3):
        kube.flux_objects(tutorial_arc, kinds=["GitRepository"])
    kube.workloads(tutorial_arc, "flux-system")
    assert credential_calls(endpoints, tutorial_arc) == before + 1


def test_expired_token_is_fetched_again_transparently(
    kube: KubeClusterApi, tutorial_arc: ClusterRef, endpoints: Endpoints, kube_faults
):
    kube.flux_objects(tutorial_arc, kinds=["GitRepository"])
    before = credential_calls(endpoints, tutorial_arc)
    kube_faults([{"cluster": "kube-arc", "fault": "expire"}])

    assert kube.flux_objects(tutorial_arc, kinds=["GitRepository"])

    assert credential_calls(endpoints, tutorial_arc) == before + 1
    statuses = [r["status"] for r in kube_requests(endpoints, "kube-arc")[-2:]]
    assert statuses == [401, 200]


def test_forbidden_names_the_role_to_grant(kube: KubeClusterApi, tutorial_arc: ClusterRef, kube_faults):
    kube_faults([{"cluster": "kube-arc", "fault": "forbidden", "verb": "patch"}])
    ref = ObjectRef("GitRepository", TUTORIAL_SPEC.name, TUTORIAL_SPEC.namespace)

    with pytest.raises(errors.ClusterAccessDenied) as refused:
        kube.request_reconcile(tutorial_arc, ref, "2030-01-01T00:00:00Z")

    err = refused.value
    assert not err.retryable
    assert 'cannot patch resource "gitrepositories"' in err.message
    assert '"Azure Arc Kubernetes Writer"' in err.recommendation
    assert "kubectl create rolebinding fluxops-edit --clusterrole=edit" in err.recommendation
    kube.flux_object(tutorial_arc, ref)  # reads still allowed


def test_entra_cluster_is_reached_with_the_identitys_token(
    kube: KubeClusterApi, sandbox_thread: SandboxThread, endpoints: Endpoints, kube_faults
):
    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-entra", ClusterType.MANAGED, entra_auth=True)

    assert kube.custom_resource_definitions(aks) == []  # no Flux installed: none, but the API let us in

    kube_faults([{"cluster": "kube-aks-entra", "fault": "forbidden", "verb": "list"}])
    with pytest.raises(errors.ClusterAccessDenied) as refused:
        kube.flux_objects(aks, kinds=["Kustomization"])
    assert '"Azure Kubernetes Service RBAC Reader"' in refused.value.recommendation
    assert f"--scope {aks.arm_id}" in refused.value.recommendation
    kube_faults([{"cluster": "kube-aks-entra", "fault": "expire"}])  # Entra tokens issued so far are refused
    assert kube.flux_objects(aks, kinds=["Kustomization"]) == []


def test_arm_refusing_credentials_names_the_cluster_user_role(
    kube: KubeClusterApi, sandbox_thread: SandboxThread, endpoints: Endpoints, arm_faults
):
    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-denied", ClusterType.MANAGED)
    arm_faults(
        [
            {
                "method": "POST",
                "path": "kube-aks-denied/listClusterUserCredential",
                "respond": 403,
                "code": "AuthorizationFailed",
                "message": "The client does not have authorization to perform action "
                "'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action'.",
            }
        ]
    )
    with pytest.raises(errors.ClusterAccessDenied) as refused:
        kube.workloads(aks, "flux-system")
    assert "listClusterUserCredential" in refused.value.message
    assert '"Azure Kubernetes Service Cluster User Role"' in refused.value.recommendation


def test_unreachable_cluster(kube: KubeClusterApi, tutorial_arc: ClusterRef, kube_faults):
    kube.flux_objects(tutorial_arc, kinds=["GitRepository"])
    kube_faults([{"cluster": "kube-arc", "fault": "unreachable"}])

    with pytest.raises(errors.ClusterUnreachable) as failed:
        kube.flux_objects(tutorial_arc, kinds=["GitRepository"])

    assert failed.value.retryable and failed.value.code == "Unreachable"
    assert "az connectedk8s show -g kube-tests-rg -n kube-arc" in failed.value.recommendation


def test_private_cluster_says_where_to_run(kube: KubeClusterApi, sandbox_thread: SandboxThread, endpoints: Endpoints):
    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-private", ClusterType.MANAGED, private_cluster=True)

    with pytest.raises(errors.ClusterUnreachable) as failed:
        kube.flux_objects(aks)

    err = failed.value
    assert err.code == "PrivateCluster" and not err.retryable
    assert "'kube-aks-private' is a private cluster" in err.message and "privatelink" in err.message
    assert "az aks command invoke -g kube-tests-rg -n kube-aks-private" in err.recommendation


def test_missing_object_is_not_found(kube: KubeClusterApi, tutorial_arc: ClusterRef):
    with pytest.raises(errors.NotFound) as missing:
        kube.flux_object(tutorial_arc, ObjectRef("Kustomization", "nope", "broken"))
    assert "Kustomization broken/nope does not exist on cluster 'kube-arc'" in missing.value.message


def test_wiring_follows_the_cluster_access_setting(connection: ArmConnection):
    on = Settings(AZURE_SUBSCRIPTION_IDS="x")
    off = Settings(AZURE_SUBSCRIPTION_IDS="x", FLUXOPS_CLUSTER_ACCESS="off")
    assert isinstance(cluster_api_from_settings(on, connection), KubeClusterApi)
    assert cluster_api_from_settings(off, connection) is None


def test_arm_says_which_aks_clusters_are_private(connection: ArmConnection, sandbox_thread, endpoints: Endpoints):
    """When a private cluster's server name does not say so (a public FQDN resolving privately), ARM does."""
    private = add_cluster(sandbox_thread, endpoints, "kube-aks-private2", ClusterType.MANAGED, private_cluster=True)
    public = add_cluster(sandbox_thread, endpoints, "kube-aks-public", ClusterType.MANAGED)
    credentials = KubeCredentials(connection=connection)
    assert credentials.is_private(private) and not credentials.is_private(public)


def test_threads_share_one_credential_fetch(connection: ArmConnection, sandbox_thread, endpoints: Endpoints):
    """Celery runs tasks on threads: the first calls to a cluster fetch its kubeconfig once between them."""
    from concurrent.futures import ThreadPoolExecutor

    arc = add_cluster(sandbox_thread, endpoints, "kube-arc-threads", ClusterType.CONNECTED)
    kube = KubeClusterApi(credentials=KubeCredentials(connection=connection))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: kube.custom_resource_definitions(arc), range(16)))
    assert results == [[]] * 16
    assert credential_calls(endpoints, arc) == 1


# -- hardening: the client cache, remembered refusals, paged events, fresh Entra tokens ------------------------


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_at_most_max_clients_are_kept_and_dropped_ones_are_closed(
    connection: ArmConnection, sandbox_thread, endpoints: Endpoints
):
    arcs = [add_cluster(sandbox_thread, endpoints, f"kube-lru-{i}", ClusterType.CONNECTED) for i in range(3)]
    kube = KubeClusterApi(credentials=KubeCredentials(connection=connection), max_clients=2)
    kube.custom_resource_definitions(arcs[0])
    first = kube._clients[arcs[0].arm_id.lower()].api
    assert first.rest_client.pool_manager.pools  # a connection pool to the cluster
    kube.custom_resource_definitions(arcs[1])
    kube.custom_resource_definitions(arcs[0])  # used again: arcs[1] is now the least recently used
    kube.custom_resource_definitions(arcs[2])

    assert list(kube._clients) == [arcs[0].arm_id.lower(), arcs[2].arm_id.lower()]
    assert first.rest_client.pool_manager.pools  # still in use
    kube.custom_resource_definitions(arcs[1])  # fetched again (its client was dropped), dropping arcs[0]'s
    assert credential_calls(endpoints, arcs[1]) == 2 and credential_calls(endpoints, arcs[0]) == 1
    assert len(kube._clients) == 2 and not first.rest_client.pool_manager.pools  # closed


def test_a_client_replaced_after_a_401_is_closed(
    kube: KubeClusterApi, tutorial_arc: ClusterRef, endpoints: Endpoints, kube_faults
):
    kube.flux_objects(tutorial_arc, kinds=["GitRepository"])
    old = kube._clients[tutorial_arc.arm_id.lower()].api
    kube_faults([{"cluster": "kube-arc", "fault": "expire"}])
    kube.flux_objects(tutorial_arc, kinds=["GitRepository"])
    assert kube._clients[tutorial_arc.arm_id.lower()].api is not old
    assert not old.rest_client.pool_manager.pools


def test_events_are_listed_per_object_with_a_selector_and_a_limit(
    kube: KubeClusterApi, tutorial_arc: ClusterRef, endpoints: Endpoints
):
    namespace = TUTORIAL_SPEC.namespace
    refs = [
        ObjectRef("GitRepository", TUTORIAL_SPEC.name, namespace),
        ObjectRef("Kustomization", f"{TUTORIAL_SPEC.name}-apps", namespace),
    ]
    before = len(kube_requests(endpoints, "kube-arc"))

    found = kube.events(tutorial_arc, namespace=namespace, involved=refs)

    lists = [r for r in kube_requests(endpoints, "kube-arc")[before:] if r["path"].endswith("/events")]
    assert len(lists) == 2
    for ref, request in zip(refs, lists, strict=True):
        query = urllib.parse.parse_qs(request["query"])
        assert query["fieldSelector"] == [
            f"involvedObject.kind={ref.kind},involvedObject.name={ref.name},involvedObject.namespace={namespace}"
        ]
        assert query["limit"] == ["250"]
    assert found and {e.involved for e in found} <= set(refs)


def test_events_are_paged_and_capped(kube: KubeClusterApi, tutorial_arc: ClusterRef, endpoints: Endpoints, monkeypatch):
    import workers.kube_cluster_api as adapter

    monkeypatch.setattr(adapter, "EVENT_PAGE", 2)
    monkeypatch.setattr(adapter, "EVENT_CAP", 5)
    before = len(kube_requests(endpoints, "kube-arc"))

    kube.events(tutorial_arc)

    lists = [r for r in kube_requests(endpoints, "kube-arc")[before:] if r["path"].endswith("/events")]
    limits = [urllib.parse.parse_qs(r["query"])["limit"] for r in lists]
    assert limits == [["2"], ["2"], ["1"]]  # 5 events at most, 2 a page
    assert all("continue" in urllib.parse.parse_qs(r["query"]) for r in lists[1:])


def test_a_refused_credential_fetch_is_remembered_for_a_while(
    connection: ArmConnection, sandbox_thread: SandboxThread, endpoints: Endpoints, arm_faults
):
    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-refused", ClusterType.MANAGED)
    arm_faults([{"method": "POST", "path": "kube-aks-refused/listClusterUserCredential", "respond": 403}])
    clock = FakeClock()
    kube = KubeClusterApi(
        credentials=KubeCredentials(connection=connection), timeouts=KubeTimeouts(remember_refusal=120), clock=clock
    )
    for _ in range(3):
        with pytest.raises(errors.ClusterAccessDenied) as refused:
            kube.workloads(aks, "flux-system")
        assert '"Azure Kubernetes Service Cluster User Role"' in refused.value.recommendation
    assert credential_calls(endpoints, aks) == 1

    clock.now += 121
    arm_faults([])
    assert kube.workloads(aks, "flux-system") == []
    assert credential_calls(endpoints, aks) == 2


def test_a_private_cluster_is_remembered_as_out_of_reach(
    connection: ArmConnection, sandbox_thread: SandboxThread, endpoints: Endpoints, monkeypatch
):
    import socket

    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-private3", ClusterType.MANAGED, private_cluster=True)
    kube = KubeClusterApi(credentials=KubeCredentials(connection=connection), clock=FakeClock())
    lookups: list[str] = []
    resolve = socket.getaddrinfo

    def counting(host: Any, *args: Any, **kwargs: Any) -> Any:
        if "privatelink" in str(host):
            lookups.append(str(host))
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    tries: list[int] = []
    for _ in range(2):
        with pytest.raises(errors.ClusterUnreachable) as failed:
            kube.custom_resource_definitions(aks)
        assert failed.value.code == "PrivateCluster"
        tries.append(len(lookups))
    assert tries[0] >= 1 and tries[1] == tries[0]  # the second call did not try to reach the cluster again
    assert credential_calls(endpoints, aks) == 1


class CachingCredential:
    """As azure-identity does: the same token per scope until it nears its expiry (on ``wall``) or claims ask
    otherwise. Counts the tokens issued and the claims asked with, for the AKS server application."""

    def __init__(self, inner: Any, wall: FakeClock, lifetime: float = 3600.0) -> None:
        self.inner, self.wall, self.lifetime = inner, wall, lifetime
        self.cached: dict[str, Any] = {}
        self.issued = 0
        self.claims: list[str | None] = []

    def get_token(self, *scopes: str, claims: str | None = None, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        aks = scopes[0] == AKS_SERVER_SCOPE
        if aks:
            self.claims.append(claims)
        cached = self.cached.get(scopes[0])
        if cached is None or claims or cached.expires_on - self.wall() < 300:
            cached = AccessToken(self.inner.get_token(*scopes).token, int(self.wall() + self.lifetime))
            self.cached[scopes[0]] = cached
            self.issued += aks
        return cached


def test_a_refused_entra_token_is_replaced_by_a_fresh_one_not_the_cached_one(
    connection: ArmConnection, sandbox_thread: SandboxThread, endpoints: Endpoints, kube_faults
):
    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-entra-cached", ClusterType.MANAGED, entra_auth=True)
    credential = CachingCredential(connection.credential, FakeClock(time.time()))
    kube = KubeClusterApi(credentials=KubeCredentials(connection=replace(connection, credential=credential)))
    assert kube.custom_resource_definitions(aks) == []
    time.sleep(0.01)
    kube_faults([{"cluster": "kube-aks-entra-cached", "fault": "expire"}])  # tokens issued so far are refused

    assert kube.custom_resource_definitions(aks) == []

    assert credential.issued == 2 and credential.claims[0] is None
    assert credential.claims[-1] is not None and '"nbf"' in credential.claims[-1]


def test_entra_token_renewed_within_the_margin_and_credentials_after_their_ttl(
    connection: ArmConnection, sandbox_thread: SandboxThread, endpoints: Endpoints
):
    aks = add_cluster(sandbox_thread, endpoints, "kube-aks-entra-clock", ClusterType.MANAGED, entra_auth=True)
    wall, clock = FakeClock(time.time()), FakeClock()
    credential = CachingCredential(connection.credential, wall)
    kube = KubeClusterApi(
        credentials=KubeCredentials(connection=replace(connection, credential=credential)),
        timeouts=KubeTimeouts(refresh_margin=300, credential_ttl=900),
        clock=clock,
        wall_clock=wall,
    )
    kube.custom_resource_definitions(aks)
    wall.now += 3000  # 600 s left: not yet within the margin
    kube.custom_resource_definitions(aks)
    assert credential.issued == 1
    wall.now += 400  # 200 s left: renewed before the request, without fetching the kubeconfig again
    kube.custom_resource_definitions(aks)
    assert credential.issued == 2 and credential_calls(endpoints, aks) == 1
    clock.now += 901  # the kubeconfig aged out: fetched again
    kube.custom_resource_definitions(aks)
    assert credential_calls(endpoints, aks) == 2
