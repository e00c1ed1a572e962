"""A cluster's child resources: collections, each child by family and method, and operation status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from sandbox.arm.endpoints import Endpoints, reply
from sandbox.arm.errors import ArmError
from sandbox.world import Cluster, ExtensionRecord, FluxConfigRecord, V1ConfigRecord

R = TypeVar("R", FluxConfigRecord, ExtensionRecord, V1ConfigRecord)

if TYPE_CHECKING:
    from sandbox.arm.app import ArmEmulator
    from sandbox.arm.extension_endpoints import ExtensionEndpoints
    from sandbox.arm.flux_endpoints import FluxConfigEndpoints
    from sandbox.arm.v1_endpoints import SourceControlEndpoints


class ClusterChildren(Endpoints):
    """Routes a cluster child's request to its family's endpoints."""

    def __init__(
        self,
        arm: ArmEmulator,
        *,
        flux: FluxConfigEndpoints,
        extensions: ExtensionEndpoints,
        v1: SourceControlEndpoints,
    ) -> None:
        super().__init__(arm)
        self.flux = flux
        self.extensions = extensions
        self.v1 = v1

    async def list_children(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        if request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "Collections are read with GET.")
        cluster = self._cluster(parts)
        family = parts[10].lower()
        # Sorted by name, and only the page asked for is rendered.
        if family == "fluxconfigurations":
            return self._page(request, _by_name(cluster.flux_configs), lambda r: self.flux.flux_body(cluster, r))
        if family == "extensions":
            return self._page(request, _by_name(cluster.extensions), lambda r: self.extensions.ext_body(cluster, r))
        return self._page(
            request, _by_name(cluster.v1_configs), lambda r: self.v1.v1_body(cluster, r.name, r.properties)
        )

    async def child(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        cluster = self._cluster(parts)
        family = parts[10].lower()
        name = parts[11]
        method = request.method
        handlers: dict[tuple[str, str], Callable[[web.Request, Cluster, str, list[str]], Awaitable[web.Response]]] = {
            ("fluxconfigurations", "GET"): self.flux.flux_get,
            ("fluxconfigurations", "PUT"): self.flux.flux_put,
            ("fluxconfigurations", "PATCH"): self.flux.flux_patch,
            ("fluxconfigurations", "DELETE"): self.flux.flux_delete,
            ("extensions", "GET"): self.extensions.ext_get,
            ("extensions", "PUT"): self.extensions.ext_put,
            ("extensions", "PATCH"): self.extensions.ext_patch,
            ("extensions", "DELETE"): self.extensions.ext_delete,
            ("sourcecontrolconfigurations", "GET"): self.v1.v1_get,
            ("sourcecontrolconfigurations", "PUT"): self.v1.v1_put,
            ("sourcecontrolconfigurations", "DELETE"): self.v1.v1_delete,
        }
        handler = handlers.get((family, method))
        if handler is None:
            raise ArmError(405, "MethodNotAllowed", f"{method} is not supported on {parts[10]}.")
        return await handler(request, cluster, name, parts)

    async def operation_status(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        self._cluster(parts)
        op = self.arm.operations.get(parts[13])
        if op is None or not op.resource_path.lower().endswith(f"/{parts[10]}/{parts[11]}".lower()):
            raise ArmError(404, "OperationNotFound", f"Operation '{parts[13]}' was not found.")
        return reply(200, op.body())


def _by_name(records: dict[str, R]) -> list[R]:
    """Records in name order (their keys are their lower-case names)."""
    return [records[key] for key in sorted(records)]
