"""``listClusterUserCredential``: the kubeconfig ARM hands out for a cluster, as az aks / az connectedk8s get it.

- ``POST .../Microsoft.ContainerService/managedClusters/{name}/listClusterUserCredential`` answers
  ``{"kubeconfigs": [{"name": "clusterUser", "value": <base64 kubeconfig>}]}``. A cluster with Microsoft Entra
  ID authentication (``entra_auth``) gets the kubelogin exec plugin as user (``format=exec``, the service's
  default); others a bearer token. A private cluster's server is its private-link FQDN, which resolves only
  inside its virtual network.
- ``POST .../Microsoft.Kubernetes/connectedClusters/{name}/listClusterUserCredential`` with
  ``{"authenticationMethod": "Token" | "AAD", "clientProxy": bool}`` answers ``{"kubeconfigs": [...]}``
  (cluster connect: token auth carries the cluster's bearer token, AAD the kubelogin plugin).

The server is the sandbox's Kubernetes API (``{world.kube_api_url}/clusters/{cluster.kube_slug}``), trusted
through the sandbox CA (``certificate-authority-data``).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import yaml
from aiohttp import web

from sandbox.arm.endpoints import Endpoints, read_json, reply
from sandbox.arm.errors import ArmError, bad_request
from sandbox.arm.resource_graph import TENANT
from sandbox.world import Cluster

#: the Entra application of the AKS API servers (what ``kubelogin --server-id`` names)
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
#: the Azure CLI's public client, which az writes as kubelogin's client id
AZ_CLI_CLIENT = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
#: the Entra application of Arc cluster connect
ARC_SERVER_APP = "6256c85f-0aad-4d50-b960-e6e9b21efe35"


def kubelogin(server_id: str) -> dict[str, Any]:
    """The kubelogin exec plugin as az writes it into a kubeconfig."""
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "kubelogin",
            "args": [
                "get-token",
                "--environment",
                "AzurePublicCloud",
                "--server-id",
                server_id,
                "--client-id",
                AZ_CLI_CLIENT,
                "--tenant-id",
                TENANT,
                "--login",
                "devicecode",
            ],
            "env": None,
            "installHint": (
                "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                "To learn more, please go to https://aka.ms/aks/kubelogin\n"
            ),
            "provideClusterInfo": False,
            "interactiveMode": "IfNeeded",
        }
    }


def private_fqdn(cluster: Cluster) -> str:
    """A private AKS cluster's API server name (private link; does not resolve outside its network)."""
    suffix = hashlib.sha256(cluster.id.lower().encode()).hexdigest()[:8]
    return f"{cluster.name.lower()}-{suffix}.privatelink.{cluster.location}.azmk8s.io"


def kubeconfig(cluster: Cluster, *, server: str, ca_pem: str, user: dict[str, Any]) -> str:
    """A kubeconfig with one cluster, user and context, as YAML."""
    user_name = f"clusterUser_{cluster.resource_group}_{cluster.name}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster.name,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode(),
                },
            }
        ],
        "contexts": [{"name": cluster.name, "context": {"cluster": cluster.name, "user": user_name}}],
        "current-context": cluster.name,
        "preferences": {},
        "users": [{"name": user_name, "user": user}],
    }
    return yaml.safe_dump(config, sort_keys=False)


class ClusterCredentials(Endpoints):
    """``listClusterUserCredential`` of both cluster types."""

    async def list_user_credential(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        if request.method != "POST":
            raise ArmError(405, "MethodNotAllowed", "listClusterUserCredential is called with POST.")
        cluster = self._cluster(parts)
        if cluster.cluster_type.lower() == "managedclusters":
            return self._managed(request, cluster)
        return await self._connected(request, cluster)

    def _server(self, cluster: Cluster) -> str:
        if cluster.private_cluster:
            return f"https://{private_fqdn(cluster)}:443"
        return f"{self.arm.world.kube_api_url}/clusters/{cluster.kube_slug}"

    def _managed(self, request: web.Request, cluster: Cluster) -> web.Response:
        fmt = request.query.get("format", "exec").lower()
        if fmt not in ("exec", "azure"):
            raise bad_request(f"The format '{request.query['format']}' is not supported: use exec or azure.")
        user = kubelogin(AKS_SERVER_APP) if cluster.entra_auth else {"token": cluster.kube_token}
        config = kubeconfig(cluster, server=self._server(cluster), ca_pem=self.arm.kube_ca_pem, user=user)
        return reply(200, {"kubeconfigs": [{"name": "clusterUser", "value": _b64(config)}]})

    async def _connected(self, request: web.Request, cluster: Cluster) -> web.Response:
        body = await read_json(request)
        method = body.get("authenticationMethod")
        if method not in ("Token", "AAD"):
            raise bad_request(
                "The 'authenticationMethod' must be 'Token' or 'AAD'.", code="InvalidAuthenticationMethod"
            )
        if not isinstance(body.get("clientProxy"), bool):
            raise bad_request("The 'clientProxy' property is required (true or false).")
        user = {"token": cluster.kube_token} if method == "Token" else kubelogin(ARC_SERVER_APP)
        config = kubeconfig(cluster, server=self._server(cluster), ca_pem=self.arm.kube_ca_pem, user=user)
        return reply(200, {"kubeconfigs": [{"name": "credentialName1", "value": _b64(config)}]})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
