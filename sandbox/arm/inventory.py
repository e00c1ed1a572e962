"""Subscription-level endpoints: the resources and clusters a subscription holds, resource providers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.arm.endpoints import Endpoints, reply
from sandbox.arm.errors import ArmError, bad_request
from sandbox.world import PROVIDERS, Cluster


class Inventory(Endpoints):
    """Clusters (read-only, with their tags) and provider registration."""

    @staticmethod
    def _cluster_resource(cluster: Cluster) -> dict[str, Any]:
        return {
            "id": cluster.id,
            "name": cluster.name,
            "type": f"{cluster.rp}/{cluster.cluster_type}",
            "location": cluster.location,
            "tags": dict(cluster.tags),
        }

    async def list_resources(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        wanted = _parse_type_filter(request.query.get("$filter", ""))
        items = [
            c
            for c in sorted(self.arm.world.clusters_in(parts[1]), key=lambda c: c.id.lower())
            if wanted is None or f"{c.rp}/{c.cluster_type}".lower() in wanted
        ]
        return self._page(request, items, self._cluster_resource)

    async def list_clusters(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        ctype = parts[4].lower()
        items = [
            c
            for c in sorted(self.arm.world.clusters_in(parts[1]), key=lambda c: c.id.lower())
            if c.cluster_type.lower() == ctype
        ]
        return self._page(request, items, self._cluster_resource)

    async def get_cluster(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        if request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "The sandbox serves clusters read-only.")
        cluster = self._cluster(parts)
        resource = self._cluster_resource(cluster)
        if cluster.private_cluster and cluster.cluster_type.lower() == "managedclusters":
            # what az aks show says of a private cluster (fluxops reads it when the API server cannot be reached)
            resource["properties"] = {"apiServerAccessProfile": {"enablePrivateCluster": True}}
        return reply(200, resource)

    async def provider(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        namespace = next((p for p in PROVIDERS if p.lower() == parts[3].lower()), None)
        if namespace is None:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{parts[3]}' is invalid.")
        if len(parts) == 5:
            if request.method != "POST":
                raise ArmError(405, "MethodNotAllowed", "Register with POST.")
            self.arm.world.provider_state[(parts[1].lower(), namespace.lower())] = "Registered"
        elif request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "Read a provider with GET.")
        state = self.arm.world.provider_registration(parts[1], namespace)
        body = {
            "id": f"/subscriptions/{parts[1]}/providers/{namespace}",
            "namespace": namespace,
            "registrationState": state,
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [],
        }
        return reply(200, body)


def _parse_type_filter(raw: str) -> set[str] | None:
    """``resourceType eq 'A' or resourceType eq 'B'`` -> {"a", "b"}; empty filter -> None."""
    raw = raw.strip()
    if not raw:
        return None
    wanted = set()
    for clause in raw.split(" or "):
        words = clause.strip().split(" ", 2)
        if len(words) != 3 or words[0].lower() != "resourcetype" or words[1].lower() != "eq":
            raise bad_request(f"Unsupported $filter '{raw}': the sandbox understands resourceType eq '...' [or ...].")
        wanted.add(words[2].strip().strip("'").lower())
    return wanted
