"""``extensions``: GET, PUT, PATCH and DELETE of cluster extensions (``microsoft.flux`` among them)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.arm import extensions as ext_rules
from sandbox.arm.endpoints import Endpoints, find_record, read_properties, record_error, reply, system_data
from sandbox.arm.errors import ArmError, bad_request, conflict
from sandbox.merge_patch import merge_patch
from sandbox.world import Cluster, ExtensionRecord


class ExtensionEndpoints(Endpoints):
    """Cluster extensions, with the rules ARM has for ``microsoft.flux``."""

    def ext_body(self, cluster: Cluster, record: ExtensionRecord) -> dict[str, Any]:
        return self._resource_body(cluster, "extensions", record)

    async def ext_get(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = find_record(cluster.extensions, "extensions", name, cluster)
        return reply(200, self.ext_body(cluster, record))

    async def ext_put(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        props = await read_properties(request)
        self._busy(request.path)
        existing = cluster.extensions.get(name.lower())
        spec = ext_rules.normalise(props, existing=(existing.spec or existing.properties) if existing else None)
        if spec["extensionType"].lower() == ext_rules.FLUX_TYPE:
            other = cluster.has_flux_extension()
            if other is not None and other.name.lower() != name.lower():
                raise conflict(
                    f"An extension of type microsoft.flux is already installed on this cluster as '{other.name}'; "
                    "only one instance is allowed.",
                    code="ExtensionTypeRegistrationConflict",
                )
            if cluster.v1_configs:
                raise ArmError(
                    400,
                    "FluxV1ConfigurationsPresent",
                    "The microsoft.flux extension cannot be installed while Flux v1 sourceControlConfigurations "
                    f"exist on the cluster ({', '.join(sorted(r.name for r in cluster.v1_configs.values()))}); "
                    "delete them first, then install Flux v2.",
                )
        protected = ext_rules.string_map("configurationProtectedSettings", props.get("configurationProtectedSettings"))
        return self.ext_write(request, cluster, name, existing, spec, protected, status=200 if existing else 201)

    async def ext_patch(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = find_record(cluster.extensions, "extensions", name, cluster)
        patch = await read_properties(request)
        self._busy(request.path)
        current = record.spec or {k: record.properties.get(k) for k in ext_rules.SPEC_KEYS}
        spec = ext_rules.apply_patch(current, patch)
        protected = dict(record.protected)
        protected_patch = patch.get("configurationProtectedSettings")
        if protected_patch is not None:
            if not isinstance(protected_patch, dict):
                raise bad_request("'configurationProtectedSettings' must be an object of string values.")
            protected = ext_rules.string_map("configurationProtectedSettings", merge_patch(protected, protected_patch))
        return self.ext_write(request, cluster, name, record, spec, protected, status=202)

    def ext_write(
        self,
        request: web.Request,
        cluster: Cluster,
        name: str,
        existing: ExtensionRecord | None,
        spec: dict[str, Any],
        protected: dict[str, str],
        *,
        status: int,
    ) -> web.Response:
        current_version = existing.properties.get("currentVersion") if existing else None
        properties = {
            **spec,
            # Unpinned, the service reports the version it runs (none yet while installing).
            "version": spec.get("version") or current_version,
            "currentVersion": current_version,
            "provisioningState": "Updating" if existing else "Creating",
            "statuses": [],
            "isSystemExtension": False,
            "errorInfo": None,
            "aksAssignedIdentity": None,
        }
        record = ExtensionRecord(
            name=existing.name if existing else name,
            properties=properties,
            protected=protected,
            system_data=system_data(existing.system_data if existing else None),
            spec=spec,
        )
        cluster.extensions[name.lower()] = record
        path = f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/extensions/{record.name}"

        def succeeded() -> None:
            if cluster.extensions.get(name.lower()) is record:
                record.properties["provisioningState"] = "Succeeded"
                record.properties["currentVersion"] = ext_rules.installed_version(spec)
                record.properties["version"] = ext_rules.installed_version(spec)
                if self.arm.agent is not None:
                    self.arm.agent.extension_changed(cluster)

        def failed(outcome: str, error: dict[str, str] | None) -> None:
            if cluster.extensions.get(name.lower()) is record:
                record.properties["provisioningState"] = outcome
                record_error(record, error)
                if self.arm.agent is not None:
                    self.arm.agent.extension_changed(cluster)

        op = self.arm.operations.start(
            path,
            request.query["api-version"],
            seconds=self.arm.config.extension_operation_seconds,
            fault=self.arm.faults.operation_fault(request.method, request.path),
            on_success=succeeded,
            on_failure=failed,
        )
        return reply(status, self.ext_body(cluster, record), self._lro_headers(op))

    async def ext_delete(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        def removed() -> None:
            if self.arm.agent is not None:
                self.arm.agent.extension_changed(cluster)

        return self._delete(
            request,
            cluster,
            cluster.extensions,
            "extensions",
            name,
            self.arm.config.extension_operation_seconds,
            removed,
        )
