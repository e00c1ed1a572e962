"""The cluster inventory (AKS and Arc clusters with tags) and resource provider registration,
through azure-mgmt-resource: one generic client serves both."""

from __future__ import annotations

from collections.abc import Sequence

from azure.mgmt.resource.resources import ResourceManagementClient

from bot import errors
from bot.models import Cluster, ClusterRef, ClusterType
from workers.azure_clients import ClientCache
from workers.azure_connection import ArmConnection
from workers.azure_errors import arm_call

PROVIDERS = ("Microsoft.Kubernetes", "Microsoft.ContainerService", "Microsoft.KubernetesConfiguration")
_TYPE_FILTER = " or ".join(
    f"resourceType eq '{t.resource_provider}/{t.value}'" for t in (ClusterType.MANAGED, ClusterType.CONNECTED)
)


def parse_cluster_id(arm_id: str) -> ClusterRef:
    """/subscriptions/S/resourceGroups/G/providers/RP/TYPE/NAME -> ClusterRef (case-insensitive)."""
    parts = [p for p in arm_id.split("/") if p]
    if len(parts) != 8 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        raise errors.InvalidRequest(
            f"'{arm_id}' is not a cluster resource id",
            recommendation="use /subscriptions/<sub>/resourceGroups/<rg>/providers/"
            "Microsoft.Kubernetes/connectedClusters/<name> or the AKS form",
        )
    try:
        ctype = ClusterType.parse(parts[6])
    except ValueError as exc:
        raise errors.InvalidRequest(f"'{arm_id}' is not an AKS or Arc cluster: {exc}") from None
    if parts[5].lower() != ctype.resource_provider.lower():
        raise errors.InvalidRequest(f"'{arm_id}': {parts[6]} belong to {ctype.resource_provider}, not {parts[5]}")
    return ClusterRef(parts[1], parts[3], ctype, parts[7])


class AzureInventory:
    """bot.ports.ClusterInventory over ARM, for the configured subscriptions."""

    def __init__(self, *, connection: ArmConnection, subscription_ids: Sequence[str]) -> None:
        self._subscriptions = list(subscription_ids)
        self._client = ClientCache(
            connection, lambda c, sub: ResourceManagementClient(c.credential, sub, **c.client_kwargs())
        )

    def list_clusters(self) -> list[Cluster]:
        found: list[Cluster] = []
        for sub in self._subscriptions:
            with arm_call(f"listing AKS and Arc clusters in subscription '{sub}'", "*"):
                for res in self._client(sub).resources.list(filter=_TYPE_FILTER):
                    found.append(Cluster(parse_cluster_id(str(res.id)), str(res.location or ""), dict(res.tags or {})))
        return sorted(found, key=lambda c: (c.ref.name.lower(), c.ref.resource_group.lower()))

    def get_cluster(self, ref: ClusterRef) -> Cluster:
        wanted = ref.arm_id.lower()
        for cluster in self.list_clusters():
            if cluster.ref.arm_id.lower() == wanted:
                return cluster
        raise errors.NotFound(
            f"looking up cluster '{ref.name}': no {ref.cluster_type.value} cluster '{ref.name}' in resource group "
            f"'{ref.resource_group}' of subscription '{ref.subscription_id}'",
            recommendation="check the name, resource group and cluster type (`/flux clusters` lists what fluxops sees)",
        )

    def provider_states(self, subscription_id: str) -> dict[str, str]:
        states: dict[str, str] = {}
        with arm_call(f"reading resource provider registration in subscription '{subscription_id}'", "*"):
            for namespace in PROVIDERS:
                provider = self._client(subscription_id).providers.get(namespace)
                states[namespace] = str(provider.registration_state or "Unknown")
        return states
