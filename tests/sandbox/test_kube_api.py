"""The sandbox's Kubernetes API, driven by the official ``kubernetes`` client over HTTPS.

Each test gets clusters of its own in the session sandbox, puts objects into ``sandbox.kube_store`` and reads,
patches and watches them as fluxops' adapter will: discovery, selectors, paging, watch, merge/JSON patches,
bearer and Entra authentication, and the forbidden / unreachable / expire faults.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3
from aiohttp import web
from kubernetes import client, config, dynamic, watch
from kubernetes.client.exceptions import ApiException

from sandbox.credential import SandboxCredential
from sandbox.entra import AKS_SERVER_APP_ID
from sandbox.kubeapi.resources import CRDS, DEPLOYMENTS, EVENTS, FLUX, NAMESPACES
from sandbox.kubeapi.server import KubeApiServer
from sandbox.kubeapi.store import KubeStore, Resource
from sandbox.runtime import Endpoints, Sandbox, SandboxThread
from sandbox.tls import local_tls
from sandbox.world import Cluster

SOURCE = ("source.toolkit.fluxcd.io", "v1")
NS = "flux-system"


class KubeCluster:
    """One test cluster in the session sandbox: its objects, its URL, clients for it."""

    def __init__(self, thread: SandboxThread, endpoints: Endpoints, cluster: Cluster) -> None:
        self.thread = thread
        self.endpoints = endpoints
        self.cluster = cluster
        self.url = f"{endpoints.kube_api_url}/clusters/{cluster.kube_slug}"

    def put(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        return self.thread.call(lambda sb: sb.kube_store.put(self.cluster.key, resource, obj))

    def token(self) -> str:
        return self.thread.call(lambda sb: self.cluster.kube_token)

    def faults(self, *rules: dict[str, Any]) -> None:
        self.thread.call(lambda sb: sb.kube_api.set_faults([{"cluster": self.cluster.name, **r} for r in rules]))

    def api(self, token: str | None = None, retries: int | None = None) -> client.ApiClient:
        conf = client.Configuration(host=self.url)
        conf.ssl_ca_cert = str(self.endpoints.ca_file)
        conf.api_key = {"authorization": f"Bearer {self.token() if token is None else token}"}
        if retries is not None:
            conf.retries = retries
        return client.ApiClient(conf)


@pytest.fixture
def make_cluster(
    sandbox_thread: SandboxThread, endpoints: Endpoints, unique: str
) -> Iterator[Callable[..., KubeCluster]]:
    made: list[Cluster] = []

    def make(suffix: str = "", **fields: Any) -> KubeCluster:
        cluster = Cluster(
            endpoints.subscription_id, "kube-tests-rg", "managedClusters", f"aks-{unique}{suffix}", **fields
        )
        sandbox_thread.call(lambda sb: sb.world.add_cluster(cluster))
        made.append(cluster)
        return KubeCluster(sandbox_thread, endpoints, cluster)

    yield make
    sandbox_thread.call(lambda sb: sb.kube_api.set_faults([]))


def flux_object(kind: str, name: str, namespace: str = NS, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"metadata": meta, "spec": {"interval": "1m"}, "status": {"conditions": [{"type": "Ready"}]}}


def event(name: str, kind: str, obj: str, reason: str, type_: str = "Normal") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS},
        "involvedObject": {"kind": kind, "name": obj, "namespace": NS, "apiVersion": "source.toolkit.fluxcd.io/v1"},
        "reason": reason,
        "type": type_,
        "message": f"{reason} on {obj}",
        "source": {"component": "source-controller"},
    }


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "manager", "image": name}]}},
        },
        "status": {"replicas": 1, "readyReplicas": 1},
    }


def crd() -> dict[str, Any]:
    return {
        "metadata": {
            "name": "gitrepositories.source.toolkit.fluxcd.io",
            "labels": {"app.kubernetes.io/version": "v2.4.0"},
        },
        "spec": {
            "group": SOURCE[0],
            "names": {"kind": "GitRepository", "plural": "gitrepositories", "listKind": "GitRepositoryList"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }


@pytest.fixture
def kube(make_cluster: Callable[..., KubeCluster]) -> KubeCluster:
    """A cluster holding namespaces, Flux objects, events, the controllers' Deployments and CRDs."""
    k = make_cluster()
    for ns in ("default", NS, "team-a"):
        k.put(NAMESPACES, {"metadata": {"name": ns}})
    k.put(FLUX["GitRepository"], flux_object("GitRepository", "apps", labels={"tier": "apps", "owner": "x"}))
    k.put(FLUX["GitRepository"], flux_object("GitRepository", "infra", labels={"tier": "infra"}))
    k.put(FLUX["GitRepository"], flux_object("GitRepository", "team", "team-a"))
    k.put(FLUX["Kustomization"], flux_object("Kustomization", "apps"))
    k.put(EVENTS, event("apps.1", "GitRepository", "apps", "NewArtifact"))
    k.put(EVENTS, event("apps.2", "Kustomization", "apps", "ReconciliationFailed", "Warning"))
    k.put(EVENTS, event("infra.1", "GitRepository", "infra", "NewArtifact"))
    for controller in ("source-controller", "kustomize-controller"):
        k.put(DEPLOYMENTS, deployment(controller))
    k.put(CRDS, crd())
    return k


def status_of(exc: ApiException) -> dict[str, Any]:
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == exc.status
    return body


# -- discovery -------------------------------------------------------------------------------


def test_discovery_documents(kube: KubeCluster) -> None:
    api = kube.api()
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    groups = {g.name: g.preferred_version.version for g in client.ApisApi(api).get_api_versions().groups}
    assert groups["source.toolkit.fluxcd.io"] == "v1" and groups["helm.toolkit.fluxcd.io"] == "v2"
    assert {"apps", "apiextensions.k8s.io", "kustomize.toolkit.fluxcd.io"} <= set(groups)
    core = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert not core["namespaces"].namespaced and core["events"].namespaced and core["events"].kind == "Event"
    sources = client.CustomObjectsApi(api).get_api_resources(*SOURCE).resources
    assert {r.name for r in sources} == {
        "gitrepositories",
        "buckets",
        "helmrepositories",
        "helmcharts",
        "ocirepositories",
    }
    assert all(r.namespaced and {"get", "list", "watch", "patch"} <= set(r.verbs) for r in sources)
    assert client.VersionApi(api).get_code().major == "1"


def test_the_dynamic_client_finds_flux_kinds_through_discovery(kube: KubeCluster) -> None:
    dyn = dynamic.DynamicClient(kube.api())
    repos = dyn.resources.get(api_version="source.toolkit.fluxcd.io/v1", kind="GitRepository")
    assert [i.metadata.name for i in repos.get(namespace=NS).items] == ["apps", "infra"]


# -- reads -----------------------------------------------------------------------------------


def test_core_and_apps_lists(kube: KubeCluster) -> None:
    core = client.CoreV1Api(kube.api())
    assert [n.metadata.name for n in core.list_namespace().items] == ["default", NS, "team-a"]
    assert core.read_namespace(NS).metadata.name == NS
    deployments = client.AppsV1Api(kube.api()).list_namespaced_deployment(NS, label_selector="app=source-controller")
    assert [d.metadata.name for d in deployments.items] == ["source-controller"]


def test_event_field_selectors(kube: KubeCluster) -> None:
    core = client.CoreV1Api(kube.api())
    events = core.list_namespaced_event(
        NS, field_selector="involvedObject.kind=GitRepository,involvedObject.name=apps"
    ).items
    assert [(e.metadata.name, e.reason) for e in events] == [("apps.1", "NewArtifact")]
    warnings = core.list_event_for_all_namespaces(field_selector="type=Warning").items
    assert [e.involved_object.kind for e in warnings] == ["Kustomization"]
    not_artifacts = core.list_namespaced_event(NS, field_selector="reason!=NewArtifact").items
    assert [e.metadata.name for e in not_artifacts] == ["apps.2"]
    with pytest.raises(ApiException) as err:
        core.list_namespaced_event(NS, field_selector="spec.color=red")
    assert err.value.status == 400 and "field label not supported: spec.color" in status_of(err.value)["message"]


def test_custom_objects_get_list_and_label_selectors(kube: KubeCluster) -> None:
    co = client.CustomObjectsApi(kube.api())
    got = co.get_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "apps")
    assert (got["kind"], got["apiVersion"], got["metadata"]["name"]) == (
        "GitRepository",
        "source.toolkit.fluxcd.io/v1",
        "apps",
    )
    listed = co.list_namespaced_custom_object(*SOURCE, NS, "gitrepositories")
    assert listed["kind"] == "GitRepositoryList" and listed["metadata"]["resourceVersion"]
    assert [i["metadata"]["name"] for i in listed["items"]] == ["apps", "infra"]
    everywhere = co.list_cluster_custom_object(*SOURCE, "gitrepositories")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everywhere["items"]] == [
        (NS, "apps"),
        (NS, "infra"),
        ("team-a", "team"),
    ]

    def names(selector: str) -> list[str]:
        return [
            i["metadata"]["name"]
            for i in co.list_cluster_custom_object(*SOURCE, "gitrepositories", label_selector=selector)["items"]
        ]

    assert names("tier=apps") == ["apps"]
    assert names("tier!=apps") == ["infra", "team"]
    assert names("tier") == ["apps", "infra"]
    assert names("!tier") == ["team"]
    assert names("tier in (apps,infra),owner") == ["apps"]
    assert names("tier notin (apps)") == ["infra", "team"]
    by_field = co.list_cluster_custom_object(*SOURCE, "gitrepositories", field_selector="metadata.namespace=team-a")
    assert [i["metadata"]["name"] for i in by_field["items"]] == ["team"]
    with pytest.raises(ApiException) as err:
        co.get_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "missing")
    body = status_of(err.value)
    assert err.value.status == 404 and body["reason"] == "NotFound"
    assert body["message"] == 'gitrepositories.source.toolkit.fluxcd.io "missing" not found'


def test_limit_and_continue_page_through_a_list(kube: KubeCluster) -> None:
    co = client.CustomObjectsApi(kube.api())
    first = co.list_cluster_custom_object(*SOURCE, "gitrepositories", limit=2)
    assert [i["metadata"]["name"] for i in first["items"]] == ["apps", "infra"]
    assert first["metadata"]["remainingItemCount"] == 1 and first["metadata"]["continue"]
    rest = co.list_cluster_custom_object(*SOURCE, "gitrepositories", limit=2, _continue=first["metadata"]["continue"])
    assert [i["metadata"]["name"] for i in rest["items"]] == ["team"] and not rest["metadata"].get("continue")
    with pytest.raises(ApiException) as err:
        co.list_cluster_custom_object(*SOURCE, "gitrepositories", _continue="not-a-token")
    assert err.value.status == 400


def test_custom_resource_definitions(kube: KubeCluster) -> None:
    crds = client.ApiextensionsV1Api(kube.api()).list_custom_resource_definition().items
    assert [(c.metadata.name, c.spec.versions[0].name) for c in crds] == [
        ("gitrepositories.source.toolkit.fluxcd.io", "v1")
    ]


# -- writes ----------------------------------------------------------------------------------


def test_patch_goes_through_the_store_and_its_hooks(kube: KubeCluster) -> None:
    seen: list[dict[str, Any]] = []

    def hook(cluster: Any, resource: Resource, before: dict[str, Any], after: dict[str, Any]) -> None:
        if cluster == kube.cluster.key:
            seen.append(after)

    kube.thread.call(lambda sb: sb.kube_store.on_patch(hook))
    co = client.CustomObjectsApi(kube.api())
    annotation = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "2025-01-01T00:00:00Z"}}}
    patched = co.patch_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "apps", annotation)
    assert patched["metadata"]["annotations"] == annotation["metadata"]["annotations"]
    assert patched["status"] == {"conditions": [{"type": "Ready"}]}  # a client patch leaves the status alone
    assert [a["metadata"]["annotations"] for a in seen] == [annotation["metadata"]["annotations"]]
    strategic = co.patch_namespaced_custom_object(
        *SOURCE,
        NS,
        "gitrepositories",
        "apps",
        {"metadata": {"labels": {"new": "1"}}},
        _content_type="application/strategic-merge-patch+json",
    )
    assert strategic["metadata"]["labels"] == {"tier": "apps", "owner": "x", "new": "1"}
    json_patch = co.patch_namespaced_custom_object(
        *SOURCE,
        NS,
        "gitrepositories",
        "apps",
        [{"op": "replace", "path": "/spec/interval", "value": "5m"}, {"op": "remove", "path": "/metadata/labels/new"}],
        _content_type="application/json-patch+json",
    )
    assert json_patch["spec"]["interval"] == "5m" and "new" not in json_patch["metadata"]["labels"]
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(
            *SOURCE, NS, "gitrepositories", "apps", {"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}}
        )
    assert err.value.status == 409 and status_of(err.value)["reason"] == "Conflict"
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "missing", annotation)
    assert err.value.status == 404


@pytest.mark.parametrize("body", [{"metadata": None}, {"metadata": "x"}])
def test_a_patch_leaving_metadata_not_an_object_is_422(kube: KubeCluster, body: dict[str, Any]) -> None:
    co = client.CustomObjectsApi(kube.api())
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(
            *SOURCE, NS, "gitrepositories", "apps", body, _content_type="application/merge-patch+json"
        )
    assert err.value.status == 422 and status_of(err.value)["reason"] == "Invalid"
    kind = co.patch_namespaced_custom_object(
        *SOURCE, NS, "gitrepositories", "apps", {"kind": "Pod"}, _content_type="application/merge-patch+json"
    )
    assert kind["kind"] == "GitRepository"
    assert co.get_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "apps")["kind"] == "GitRepository"


def test_verbs_not_served_answer_405(kube: KubeCluster) -> None:
    co = client.CustomObjectsApi(kube.api())
    with pytest.raises(ApiException) as err:
        co.delete_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "apps")
    assert err.value.status == 405 and status_of(err.value)["reason"] == "MethodNotAllowed"
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object(*SOURCE, NS, "gitrepositories", flux_object("GitRepository", "x"))
    assert err.value.status == 405


# -- watch -----------------------------------------------------------------------------------


def test_watch_sees_the_objects_then_a_patch(kube: KubeCluster) -> None:
    co = client.CustomObjectsApi(kube.api())
    events: list[tuple[str, str]] = []
    ready = threading.Event()

    def run() -> None:
        w = watch.Watch()
        for e in w.stream(co.list_namespaced_custom_object, *SOURCE, NS, "gitrepositories", timeout_seconds=10):
            events.append((e["type"], e["object"]["metadata"]["name"]))
            if len(events) == 2:
                ready.set()
            if e["type"] == "MODIFIED":
                w.stop()

    watcher = threading.Thread(target=run)
    watcher.start()
    assert ready.wait(10)
    co.patch_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "infra", {"metadata": {"labels": {"x": "y"}}})
    watcher.join(15)
    assert not watcher.is_alive()
    assert events == [("ADDED", "apps"), ("ADDED", "infra"), ("MODIFIED", "infra")]


def test_a_watch_without_timeout_ends_at_the_servers_limit(kube: KubeCluster) -> None:
    co = client.CustomObjectsApi(kube.api())
    kube.thread.call(lambda sb: setattr(sb.kube_api, "watch_timeout", 1.0))
    try:
        started = time.monotonic()
        response = co.list_namespaced_custom_object(
            *SOURCE, NS, "gitrepositories", watch=True, _preload_content=False, _request_timeout=20
        )
        names = [json.loads(line)["object"]["metadata"]["name"] for line in response.data.splitlines()]
        took = time.monotonic() - started
    finally:
        kube.thread.call(lambda sb: setattr(sb.kube_api, "watch_timeout", 1800.0))
    assert names == ["apps", "infra"]
    assert took < 5


def test_watch_from_a_resource_version_and_with_selectors(kube: KubeCluster) -> None:
    core = client.CoreV1Api(kube.api())
    version = core.list_namespaced_event(NS).metadata.resource_version
    kube.put(EVENTS, event("late.1", "GitRepository", "apps", "NewArtifact"))
    kube.put(EVENTS, event("late.2", "Kustomization", "apps", "Progressing"))
    stream = watch.Watch().stream(
        core.list_namespaced_event,
        NS,
        resource_version=version,
        field_selector="involvedObject.kind=Kustomization",
        allow_watch_bookmarks=True,
        timeout_seconds=1,
    )
    assert [(e["type"], e["object"].metadata.name) for e in stream] == [("ADDED", "late.2")]


# -- authentication and faults -------------------------------------------------------------


def test_a_wrong_or_missing_token_is_401_and_an_unknown_cluster_404(kube: KubeCluster) -> None:
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(kube.api(token="wrong")).list_namespace()
    body = status_of(err.value)
    assert err.value.status == 401 and body["reason"] == "Unauthorized"
    anonymous = requests.get(f"{kube.url}/api/v1/namespaces", verify=str(kube.endpoints.ca_file), timeout=10)
    assert anonymous.status_code == 401
    unknown = requests.get(
        f"{kube.endpoints.kube_api_url}/clusters/0000000000000000/api/v1/namespaces",
        verify=str(kube.endpoints.ca_file),
        timeout=10,
    )
    assert unknown.status_code == 404 and unknown.json()["reason"] == "NotFound"


def test_forbidden_fault_is_an_rbac_denial_for_the_chosen_verb(kube: KubeCluster) -> None:
    kube.faults({"fault": "forbidden", "resource": "gitrepositories", "verb": "patch"})
    co = client.CustomObjectsApi(kube.api())
    assert co.get_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "apps")  # get is still allowed
    with pytest.raises(ApiException) as err:
        co.patch_namespaced_custom_object(*SOURCE, NS, "gitrepositories", "apps", {"metadata": {"labels": {"a": "b"}}})
    body = status_of(err.value)
    assert err.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (
        f'gitrepositories.source.toolkit.fluxcd.io "apps" is forbidden: User "clusterUser_kube-tests-rg_'
        f'{kube.cluster.name}" cannot patch resource "gitrepositories" in API group "source.toolkit.fluxcd.io" '
        f'in the namespace "{NS}"'
    )
    kube.faults({"fault": "forbidden", "user": "someone"})
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(kube.api()).list_namespace()
    assert status_of(err.value)["message"] == (
        'namespaces is forbidden: User "someone" cannot list resource "namespaces" in API group "" at the cluster scope'
    )


def test_unreachable_fault_and_private_clusters_drop_the_connection(make_cluster: Callable[..., KubeCluster]) -> None:
    reachable = make_cluster("-up")
    down = make_cluster("-down")
    down.faults({"fault": "unreachable"})
    with pytest.raises(urllib3.exceptions.HTTPError):
        client.CoreV1Api(down.api(retries=0)).list_namespace()
    assert client.CoreV1Api(reachable.api()).list_namespace().items == []  # only the named cluster is down
    private = make_cluster("-private", private_cluster=True)
    with pytest.raises(urllib3.exceptions.HTTPError):
        client.CoreV1Api(private.api(retries=0)).list_namespace()


def test_expire_fault_refuses_credentials_handed_out_before(kube: KubeCluster) -> None:
    old = kube.token()
    kube.faults({"fault": "expire"})
    with pytest.raises(ApiException) as err:
        client.CoreV1Api(kube.api(token=old)).list_namespace()
    assert err.value.status == 401
    assert kube.token() != old
    assert len(client.CoreV1Api(kube.api()).list_namespace().items) == 3  # a fresh credential works
    rules = kube.thread.call(lambda sb: sb.kube_api.faults.rules)
    assert rules == []  # expire acts once and is not kept


def test_entra_clusters_take_tokens_for_the_aks_server_app_only(
    make_cluster: Callable[..., KubeCluster], endpoints: Endpoints
) -> None:
    entra = make_cluster("-entra", entra_auth=True)
    entra.put(NAMESPACES, {"metadata": {"name": NS}})

    def namespaces(token: str) -> list[str]:
        return [n.metadata.name for n in client.CoreV1Api(entra.api(token=token)).list_namespace().items]

    for refused in (entra.token(), SandboxCredential().get_token("https://management.azure.com/.default").token):
        with pytest.raises(ApiException) as err:
            namespaces(refused)
        assert err.value.status == 401
    credential_token = SandboxCredential().get_token(f"{AKS_SERVER_APP_ID}/.default").token
    assert namespaces(credential_token) == [NS]
    identity = requests.get(
        endpoints.identity_endpoint,
        params={"api-version": "2019-08-01", "resource": AKS_SERVER_APP_ID},
        headers={"X-IDENTITY-HEADER": endpoints.identity_header},
        timeout=10,
    ).json()["access_token"]
    assert namespaces(identity) == [NS]
    entra.faults({"fault": "expire"})
    with pytest.raises(ApiException) as err:
        namespaces(identity)
    assert err.value.status == 401
    assert namespaces(SandboxCredential().get_token(f"{AKS_SERVER_APP_ID}/.default").token) == [NS]


def test_a_kubeconfig_works(kube: KubeCluster) -> None:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": kube.cluster.name,
                "cluster": {
                    "server": kube.url,
                    "certificate-authority-data": __import__("base64")
                    .b64encode(Path(kube.endpoints.ca_file).read_bytes())
                    .decode(),
                },
            }
        ],
        "users": [{"name": "clusterUser", "user": {"token": kube.token()}}],
        "contexts": [{"name": kube.cluster.name, "context": {"cluster": kube.cluster.name, "user": "clusterUser"}}],
        "current-context": kube.cluster.name,
    }
    api = config.new_client_from_config_dict(kubeconfig)
    assert [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items] == ["default", NS, "team-a"]


def test_admin_routes_set_faults_and_list_requests(kube: KubeCluster) -> None:
    base, verify = kube.endpoints.kube_api_url, str(kube.endpoints.ca_file)
    bad = requests.put(f"{base}/_sandbox/faults", json={"faults": [{"cluster": "x", "fault": "melt"}]}, verify=verify)
    assert bad.status_code == 400 and "'fault' must be one of" in bad.json()["message"]
    ok = requests.put(
        f"{base}/_sandbox/faults",
        json={"faults": [{"cluster": kube.cluster.kube_slug, "fault": "forbidden", "verb": "list", "times": 1}]},
        verify=verify,
    )
    assert ok.json() == {"faults": 1}
    core = client.CoreV1Api(kube.api())
    with pytest.raises(ApiException):
        core.list_namespace()
    assert len(core.list_namespace().items) == 3  # times: 1
    seen = [
        r for r in requests.get(f"{base}/_sandbox/requests", verify=verify).json() if r["cluster"] == kube.cluster.name
    ]
    assert [(r["method"], r["path"].rsplit("/clusters/", 1)[1], r["status"]) for r in seen][-2:] == [
        ("GET", f"{kube.cluster.kube_slug}/api/v1/namespaces", 403),
        ("GET", f"{kube.cluster.kube_slug}/api/v1/namespaces", 200),
    ]


# -- a watch resuming from a version older than the history ----------------------------------


@pytest.fixture
def short_history_server(sandbox_thread: SandboxThread, tmp_path: Path) -> Iterator[tuple[KubeCluster, KubeStore]]:
    """A second API server on the sandbox's loop whose store remembers only two changes."""
    store = KubeStore(history=2)
    tls = local_tls(tmp_path)
    holder: dict[str, Any] = {}

    async def start() -> str:
        sandbox = sandbox_thread.sandbox
        assert isinstance(sandbox, Sandbox)
        server = KubeApiServer(world=sandbox.world, store=store)
        runner = web.AppRunner(server.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls.context).start()
        holder.update(runner=runner, server=server)
        server.base_url = f"https://127.0.0.1:{runner.addresses[0][1]}"
        return server.base_url

    url = sandbox_thread.run(start)
    endpoints = Endpoints(arm_url="", ca_file=tls.ca_file, subscription_id="", kube_api_url=url)
    cluster = Cluster("sub", "rg", "managedClusters", "short-history")
    sandbox_thread.call(lambda sb: sb.world.add_cluster(cluster))
    yield KubeCluster(sandbox_thread, endpoints, cluster), store

    async def stop() -> None:
        holder["server"].stop_watches()
        await holder["runner"].cleanup()

    sandbox_thread.run(stop)


def test_a_watch_from_a_version_too_old_gets_410(short_history_server: tuple[KubeCluster, KubeStore]) -> None:
    kube, store = short_history_server
    for i in range(5):
        kube.thread.call(lambda sb, i=i: store.put(kube.cluster.key, NAMESPACES, {"metadata": {"name": f"ns{i}"}}))
    core = client.CoreV1Api(kube.api())
    with pytest.raises(ApiException) as err:
        list(watch.Watch().stream(core.list_namespace, resource_version="1", timeout_seconds=2))
    assert err.value.status == 410 and "too old resource version" in str(err.value.reason)
    recent = watch.Watch().stream(core.list_namespace, resource_version="4", timeout_seconds=1)
    assert [e["object"].metadata.name for e in recent] == ["ns4"]
