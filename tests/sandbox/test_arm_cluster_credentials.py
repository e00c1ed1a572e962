"""listClusterUserCredential through the real Azure SDK clients: kubeconfigs for AKS and Arc clusters."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
import yaml
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient
from azure.mgmt.hybridkubernetes.models import ListClusterUserCredentialProperties

from sandbox.arm.cluster_credentials import AKS_SERVER_APP, ARC_SERVER_APP
from sandbox.credential import SandboxCredential
from sandbox.runtime import Endpoints, SandboxThread
from sandbox.seed import TUTORIAL_AKS, TUTORIAL_ARC, TUTORIAL_RG
from sandbox.world import Cluster, cluster_key
from workers.azure_connection import ArmConnection


def sdk_kwargs(endpoints: Endpoints) -> dict[str, Any]:
    connection = ArmConnection(
        endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file)
    )
    return connection.client_kwargs()


def cluster(thread: SandboxThread, endpoints: Endpoints, ctype: str, name: str, rg: str = TUTORIAL_RG) -> Cluster:
    return thread.call(lambda sb: sb.world.clusters[cluster_key(endpoints.subscription_id, rg, ctype, name)])


def decode(value: bytes | str) -> dict[str, Any]:
    """A kubeconfig as the SDK hands it over (bytes, already base64-decoded) or as the wire carries it."""
    text = value.decode() if isinstance(value, bytes) else base64.b64decode(value).decode()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@pytest.fixture(scope="module")
def aks(endpoints: Endpoints) -> ContainerServiceClient:
    return ContainerServiceClient(SandboxCredential(), endpoints.subscription_id, **sdk_kwargs(endpoints))


@pytest.fixture(scope="module")
def arc(endpoints: Endpoints) -> ConnectedKubernetesClient:
    return ConnectedKubernetesClient(SandboxCredential(), endpoints.subscription_id, **sdk_kwargs(endpoints))


def test_arc_token_kubeconfig(
    arc: ConnectedKubernetesClient, sandbox_thread: SandboxThread, endpoints: Endpoints
) -> None:
    result = arc.connected_cluster.list_cluster_user_credential(
        TUTORIAL_RG,
        TUTORIAL_ARC,
        ListClusterUserCredentialProperties(authentication_method="Token", client_proxy=False),
    )
    assert result.kubeconfigs is not None and len(result.kubeconfigs) == 1
    assert result.kubeconfigs[0].value is not None
    config = decode(result.kubeconfigs[0].value)
    target = cluster(sandbox_thread, endpoints, "connectedClusters", TUTORIAL_ARC)
    world_url = sandbox_thread.call(lambda sb: sb.world.kube_api_url)
    [entry] = config["clusters"]
    assert entry["cluster"]["server"] == f"{world_url}/clusters/{target.kube_slug}"
    ca = base64.b64decode(entry["cluster"]["certificate-authority-data"]).decode()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    assert ca == sandbox_thread.call(lambda sb: sb.arm.kube_ca_pem)
    [user] = config["users"]
    assert user["user"] == {"token": target.kube_token}
    assert config["current-context"] == config["contexts"][0]["name"] == TUTORIAL_ARC


def test_arc_aad_kubeconfig_names_kubelogin(arc: ConnectedKubernetesClient) -> None:
    result = arc.connected_cluster.list_cluster_user_credential(
        TUTORIAL_RG, TUTORIAL_ARC, ListClusterUserCredentialProperties(authentication_method="AAD", client_proxy=False)
    )
    assert result.kubeconfigs is not None and result.kubeconfigs[0].value is not None
    user = decode(result.kubeconfigs[0].value)["users"][0]["user"]
    assert user["exec"]["command"] == "kubelogin"
    assert ARC_SERVER_APP in user["exec"]["args"]


def test_aks_entra_kubeconfig_names_kubelogin(aks: ContainerServiceClient) -> None:
    result = aks.managed_clusters.list_cluster_user_credentials(TUTORIAL_RG, TUTORIAL_AKS)
    assert result.kubeconfigs is not None and result.kubeconfigs[0].name == "clusterUser"
    value = result.kubeconfigs[0].value
    assert value is not None
    config = decode(value)
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_["command"] == "kubelogin"
    assert exec_["args"][:1] == ["get-token"]
    assert exec_["args"][exec_["args"].index("--server-id") + 1] == AKS_SERVER_APP
    assert "token" not in config["users"][0]["user"]


def test_aks_token_and_private_clusters(
    aks: ContainerServiceClient, sandbox_thread: SandboxThread, endpoints: Endpoints
) -> None:
    sub = endpoints.subscription_id

    def add(sb: Any) -> None:
        sb.world.add_cluster(Cluster(sub, "creds-rg", "managedClusters", "plain-aks"))
        sb.world.add_cluster(Cluster(sub, "creds-rg", "managedClusters", "private-aks", private_cluster=True))

    sandbox_thread.call(add)
    plain = cluster(sandbox_thread, endpoints, "managedClusters", "plain-aks", "creds-rg")
    result = aks.managed_clusters.list_cluster_user_credentials("creds-rg", "plain-aks")
    assert result.kubeconfigs is not None and result.kubeconfigs[0].value is not None
    assert decode(result.kubeconfigs[0].value)["users"][0]["user"] == {"token": plain.kube_token}

    result = aks.managed_clusters.list_cluster_user_credentials("creds-rg", "private-aks")
    assert result.kubeconfigs is not None and result.kubeconfigs[0].value is not None
    server = decode(result.kubeconfigs[0].value)["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://private-aks-") and server.endswith(".privatelink.westeurope.azmk8s.io:443")


def test_unknown_cluster_and_bad_body(endpoints: Endpoints, aks: ContainerServiceClient) -> None:
    with pytest.raises(HttpResponseError) as missing:
        aks.managed_clusters.list_cluster_user_credentials(TUTORIAL_RG, "no-such-aks")
    assert missing.value.status_code == 404
    path = (
        f"{endpoints.arm_url}/subscriptions/{endpoints.subscription_id}/resourceGroups/{TUTORIAL_RG}"
        f"/providers/Microsoft.Kubernetes/connectedClusters/{TUTORIAL_ARC}/listClusterUserCredential"
    )
    bad = requests.post(
        path,
        params={"api-version": "2026-05-01"},
        json={"authenticationMethod": "Password"},
        headers={"Authorization": "Bearer x"},
        verify=str(endpoints.ca_file),
        timeout=10,
    )
    assert bad.status_code == 400 and "authenticationMethod" in bad.json()["error"]["message"]
