"""Flux v1 ``sourceControlConfigurations``: retired; they can be read and deleted, never created."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.arm.endpoints import Endpoints, reply
from sandbox.arm.errors import ArmError, not_found
from sandbox.world import Cluster


class SourceControlEndpoints(Endpoints):
    """Flux v1 configurations left on a cluster."""

    @staticmethod
    def v1_body(cluster: Cluster, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/{name}",
            "name": name,
            "type": "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
            "properties": properties,
        }

    async def v1_get(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = cluster.v1_configs.get(name.lower())
        if record is None:
            raise not_found(
                "Microsoft.KubernetesConfiguration/sourceControlConfigurations", name, cluster.resource_group
            )
        return reply(200, self.v1_body(cluster, record.name, record.properties))

    async def v1_put(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        raise ArmError(
            400,
            "FluxV1Retired",
            "Flux v1 is retired: new sourceControlConfigurations cannot be created. "
            "Create a Flux v2 fluxConfiguration instead (az k8s-configuration flux create).",
        )

    async def v1_delete(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = cluster.v1_configs.pop(name.lower(), None)
        if record is None:
            return reply(204)
        if self.arm.agent is not None:
            # the config agent removes the operator it deployed
            self.arm.agent.v1_config_deleted(cluster, record.name)
        return reply(200)
