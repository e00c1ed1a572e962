"""A cluster's Kubernetes API credentials, fetched the way az fetches them: ARM ``listClusterUserCredential``.

- AKS (``managedClusters``) through azure-mgmt-containerservice. For Entra-enabled clusters the kubeconfig's user
  is the kubelogin exec plugin; fluxops does not run it but asks its own Azure credential for a token for the
  AKS server application (what kubelogin would do for a managed or workload identity).
- Arc (``connectedClusters``) through azure-mgmt-hybridkubernetes, cluster connect with token authentication
  (``authenticationMethod=Token``, ``clientProxy=false``): the kubeconfig carries the bearer token to use.

The management clients are built like every other ARM adapter's (workers/azure_connection.py): endpoint, CA
bundle, retry and write pacing (ARM counts the POST as a write).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.hybridkubernetes import ConnectedKubernetesClient
from azure.mgmt.hybridkubernetes.models import ListClusterUserCredentialProperties

from bot import errors
from bot.models import ClusterRef, ClusterType
from workers.azure_clients import ClientCache
from workers.azure_connection import ArmConnection
from workers.azure_errors import translate
from workers.kubeconfig import AKS_SERVER_SCOPE, Kubeconfig, KubeconfigInvalid, parse_kubeconfig

log = logging.getLogger(__name__)

#: api-versions of listClusterUserCredential (both GA, both accepted by Azure and the sandbox's emulator)
MANAGED_CLUSTERS_API_VERSION = "2024-09-01"
CONNECTED_CLUSTERS_API_VERSION = "2024-01-01"

#: the Azure role that allows listClusterUserCredential, per cluster type
CREDENTIAL_ROLES = {
    ClusterType.MANAGED: "Azure Kubernetes Service Cluster User Role",
    ClusterType.CONNECTED: "Azure Arc Enabled Kubernetes Cluster User Role",
}


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one cluster's API: its kubeconfig and the bearer token to send (never printed)."""

    cluster: ClusterRef
    kubeconfig: Kubeconfig
    token: str = field(repr=False)
    #: when the token stops working (epoch seconds); None: ARM did not say (a static token, replaced on 401)
    expires_on: float | None = None

    @property
    def entra(self) -> bool:
        return self.kubeconfig.entra


def grant_command(role: str, cluster: ClusterRef) -> str:
    """The az command that gives fluxops' identity ``role`` on ``cluster``."""
    return (
        f'`az role assignment create --role "{role}" --assignee <fluxops identity object id> --scope {cluster.arm_id}`'
    )


class KubeCredentials:
    """Fetches kubeconfigs from ARM and Entra tokens from fluxops' own Azure credential."""

    def __init__(self, *, connection: ArmConnection) -> None:
        self._connection = connection
        self._aks = ClientCache(
            connection,
            lambda c, sub: ContainerServiceClient(
                c.credential, sub, api_version=MANAGED_CLUSTERS_API_VERSION, **c.client_kwargs()
            ),
        )
        self._arc = ClientCache(
            connection,
            lambda c, sub: ConnectedKubernetesClient(
                c.credential, sub, api_version=CONNECTED_CLUSTERS_API_VERSION, **c.client_kwargs()
            ),
        )

    def fetch(self, cluster: ClusterRef, *, fresh: bool = False) -> ClusterAccess:
        """The cluster's kubeconfig from ARM, with the token to send (an Entra token for Entra-enabled AKS;
        ``fresh``: not one the credential cached, see :meth:`entra_token`)."""
        doing = f"getting the Kubernetes credentials of cluster '{cluster.name}'"
        try:
            kubeconfig = parse_kubeconfig(self._kubeconfig_bytes(cluster))
        except KubeconfigInvalid as exc:
            raise KubeconfigInvalid(
                f"{doing}: {exc.message}",
                recommendation="check the cluster in the Azure portal; fluxops cannot use what ARM returned",
            ) from exc
        except HttpResponseError as exc:
            raise _credential_error(exc, doing, cluster) from exc
        except AzureError as exc:
            raise translate(exc, doing, cluster.name) from exc
        if kubeconfig.entra:
            token, expires_on = self.entra_token(cluster, fresh=fresh)
            return ClusterAccess(cluster=cluster, kubeconfig=kubeconfig, token=token, expires_on=expires_on)
        if kubeconfig.token is None:
            raise KubeconfigInvalid(
                f"{doing}: the kubeconfig ARM returned has no bearer token and no Entra sign-in",
                recommendation="fluxops signs in with a token or Microsoft Entra ID; "
                "client certificates are not supported",
            )
        return ClusterAccess(cluster=cluster, kubeconfig=kubeconfig, token=kubeconfig.token)

    def entra_token(self, cluster: ClusterRef, *, fresh: bool = False) -> tuple[str, float]:
        """A token for the AKS server application from fluxops' Azure credential, and when it expires.

        ``fresh`` (the cluster refused the last one): azure-identity returns its cached token until it nears its
        expiry, so the request carries a claims challenge asking for a token issued from now on (what a CAE
        challenge does; MSAL-based credentials then skip their cache). A credential that takes no claims (the
        Azure CLI's) is asked plainly: its cached token is all it can give."""
        credential = self._connection.credential
        try:
            if fresh:
                try:
                    access = credential.get_token(AKS_SERVER_SCOPE, claims=_issued_from_now())
                except AzureError as exc:
                    log.info("the Azure credential takes no claims (%s); asking for a token plainly", exc.message)
                    access = credential.get_token(AKS_SERVER_SCOPE)
            else:
                access = credential.get_token(AKS_SERVER_SCOPE)
        except AzureError as exc:
            raise errors.ClusterAccessDenied(
                f"signing in to cluster '{cluster.name}' with Microsoft Entra ID: no token for the AKS server "
                f"application ({exc.message})",
                recommendation="check the Azure credential of the fluxops workers (DefaultAzureCredential)",
            ) from exc
        return access.token, float(access.expires_on)

    def is_private(self, cluster: ClusterRef) -> bool:
        """ARM says the cluster's API server has only a private address (AKS
        ``apiServerAccessProfile.enablePrivateCluster``); False when it does not say or cannot be asked."""
        if cluster.cluster_type is not ClusterType.MANAGED:
            return False
        try:
            found = self._aks(cluster.subscription_id).managed_clusters.get(cluster.resource_group, cluster.name)
        except AzureError as exc:
            log.info("could not read cluster %s from ARM to tell whether it is private: %s", cluster.name, exc.message)
            return False
        profile = getattr(getattr(found, "properties", None), "api_server_access_profile", None)
        profile = profile or getattr(found, "api_server_access_profile", None)
        return bool(getattr(profile, "enable_private_cluster", False))

    def _kubeconfig_bytes(self, cluster: ClusterRef) -> bytes:
        sub, group = cluster.subscription_id, cluster.resource_group
        result: Any
        if cluster.cluster_type is ClusterType.MANAGED:
            result = self._aks(sub).managed_clusters.list_cluster_user_credentials(group, cluster.name)
        else:
            properties = ListClusterUserCredentialProperties(authentication_method="Token", client_proxy=False)
            result = self._arc(sub).connected_cluster.list_cluster_user_credential(group, cluster.name, properties)
        kubeconfigs = list(result.kubeconfigs or ())
        chosen = next((k for k in kubeconfigs if k.value), None)
        if chosen is None:
            raise KubeconfigInvalid("ARM returned no kubeconfig")
        value: bytes = chosen.value
        return value


def _issued_from_now() -> str:
    """A claims challenge for a token issued from now on (``nbf`` essential), as Entra's CAE challenges read."""
    return json.dumps({"access_token": {"nbf": {"essential": True, "value": str(int(time.time()))}}})


def _credential_error(exc: HttpResponseError, doing: str, cluster: ClusterRef) -> errors.FluxopsError:
    """ARM refused listClusterUserCredential: a 403 names the role that allows it."""
    error = translate(exc, doing, cluster.name)
    if exc.status_code == 403:
        role = CREDENTIAL_ROLES[cluster.cluster_type]
        return errors.ClusterAccessDenied(
            error.message,
            code=error.code or "AuthorizationFailed",
            recommendation=f'grant the fluxops identity the Azure role "{role}" on the cluster: '
            f"{grant_command(role, cluster)}",
        )
    return error
