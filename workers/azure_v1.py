"""Retired Flux v1 sourceControlConfigurations (azure-mgmt-kubernetesconfiguration 3.1.0, api 2023-05-01).

Only reading and deleting: migrating a cluster to Flux v2 means listing, deleting, recreating as v2.
"""

from __future__ import annotations

from typing import Any

from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient

from bot.models import ClusterRef, V1Config
from workers.azure_clients import ClientCache, cluster_args
from workers.azure_connection import ArmConnection
from workers.azure_errors import arm_call
from workers.azure_lro import PollerOperation, TokenEnvelope

V1_API_VERSION = "2023-05-01"


def _v1_from_model(cluster: ClusterRef, model: Any) -> V1Config:
    compliance = getattr(model, "compliance_status", None)
    helm = getattr(model, "helm_operator_properties", None)
    return V1Config(
        cluster=cluster,
        name=str(model.name),
        repository_url=str(model.repository_url or ""),
        operator_namespace=model.operator_namespace,
        operator_scope=model.operator_scope,
        compliance_state=getattr(compliance, "compliance_state", None),
        operator_instance_name=model.operator_instance_name,
        operator_type=model.operator_type,
        operator_params=model.operator_params,
        ssh_known_hosts=bool(model.ssh_known_hosts_contents),
        enable_helm_operator=bool(model.enable_helm_operator),
        helm_chart_version=getattr(helm, "chart_version", None) or None,
        helm_chart_values=getattr(helm, "chart_values", None) or None,
        repository_public_key=model.repository_public_key or None,
        compliance_message=getattr(compliance, "message", None),
        provisioning_state=model.provisioning_state,
    )


class AzureV1Configs:
    """bot.ports.V1Configs over ARM."""

    def __init__(self, *, connection: ArmConnection) -> None:
        self._clients = ClientCache(
            connection,
            lambda c, sub: SourceControlConfigurationClient(
                c.credential, sub, api_version=V1_API_VERSION, **c.client_kwargs()
            ),
        )
        self._where = cluster_args

    def _ops(self, subscription_id: str) -> Any:
        return self._clients(subscription_id).source_control_configurations

    def list(self, cluster: ClusterRef) -> list[V1Config]:
        with arm_call(f"listing Flux v1 configurations on cluster '{cluster.name}'", cluster.name):
            return [_v1_from_model(cluster, x) for x in self._ops(cluster.subscription_id).list(*self._where(cluster))]

    def get(self, cluster: ClusterRef, name: str) -> V1Config:
        with arm_call(f"reading Flux v1 configuration '{name}' on cluster '{cluster.name}'", cluster.name):
            return _v1_from_model(cluster, self._ops(cluster.subscription_id).get(*self._where(cluster), name))

    def begin_delete(self, cluster: ClusterRef, name: str) -> PollerOperation[None]:
        doing = f"deleting Flux v1 configuration '{name}' from cluster '{cluster.name}'"
        with arm_call(doing, cluster.name):
            poller = self._ops(cluster.subscription_id).begin_delete(*self._where(cluster), name)
        return PollerOperation(
            poller,
            envelope=TokenEnvelope("v1.delete", cluster, name, ""),
            doing=doing,
            convert=lambda _: None,
        )
