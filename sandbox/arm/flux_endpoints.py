"""``fluxConfigurations``: GET, PUT, PATCH (merge patch) and DELETE, each write a long-running operation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.repo_urls import is_ssh_url
from sandbox.arm import flux_configs as flux_rules
from sandbox.arm.endpoints import Endpoints, find_record, read_properties, record_error, reply, system_data
from sandbox.arm.errors import ArmError, bad_request
from sandbox.arm.flux_sources import move_inline_secrets
from sandbox.merge_patch import merge_patch
from sandbox.world import Cluster, FluxConfigRecord


class FluxConfigEndpoints(Endpoints):
    """Flux configurations of a cluster; a stored change is handed to the simulated Flux agent."""

    def flux_body(self, cluster: Cluster, record: FluxConfigRecord) -> dict[str, Any]:
        return self._resource_body(cluster, "fluxConfigurations", record)

    async def flux_get(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = find_record(cluster.flux_configs, "fluxConfigurations", name, cluster)
        return reply(200, self.flux_body(cluster, record))

    def _require_flux_extension(self, cluster: Cluster) -> None:
        ext = cluster.has_flux_extension()
        state = ext.properties.get("provisioningState") if ext else None
        if state != "Succeeded":
            found = "is not installed" if ext is None else f"is in provisioning state '{state}'"
            raise ArmError(
                400,
                "ExtensionNotFound",
                f"The microsoft.flux extension {found} on cluster '{cluster.name}'. The microsoft.flux extension "
                "must be installed on the cluster before one or more fluxConfigurations can be created "
                "(az k8s-extension create --extension-type microsoft.flux --name flux).",
            )

    async def flux_put(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        flux_rules.check_name("flux configuration name", name, limit=30)
        props = await read_properties(request)
        self._require_flux_extension(cluster)
        self._busy(request.path)
        existing = cluster.flux_configs.get(name.lower())
        given_protected = flux_rules.validate_protected(props.get("configurationProtectedSettings"))
        protected = given_protected or (dict(existing.protected) if existing else {})
        props = move_inline_secrets(props, protected, given=given_protected)
        spec = flux_rules.normalise_spec(props, protected)
        if existing is not None:
            current_spec = {k: existing.properties.get(k) for k in flux_rules.SPEC_KEYS}
            flux_rules.check_create_only(current_spec, spec)
        return self.flux_write(request, cluster, name, existing, spec, protected, status=200 if existing else 201)

    async def flux_patch(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = find_record(cluster.flux_configs, "fluxConfigurations", name, cluster)
        patch = await read_properties(request)
        self._busy(request.path)
        for key in flux_rules.CREATE_ONLY:
            if key in patch and patch[key] != record.properties.get(key):
                flux_rules.check_create_only(record.properties, {**record.properties, key: patch[key]})
        protected_patch = patch.get("configurationProtectedSettings")
        protected = dict(record.protected)
        if protected_patch is not None:
            if not isinstance(protected_patch, dict):
                raise bad_request("'configurationProtectedSettings' must be an object.")
            protected = merge_patch(protected, protected_patch)
            flux_rules.validate_protected(protected)
        current_spec = {k: record.properties.get(k) for k in flux_rules.SPEC_KEYS}
        spec_patch = {k: v for k, v in patch.items() if k != "configurationProtectedSettings"}
        # A new sourceKind replaces the old source object rather than merging into it.
        if spec_patch.get("sourceKind") and spec_patch["sourceKind"] != current_spec.get("sourceKind"):
            old_key = flux_rules.SOURCE_KEYS.get(str(current_spec.get("sourceKind")))
            if old_key and old_key not in spec_patch:
                spec_patch[old_key] = None
        merged = merge_patch(current_spec, spec_patch)
        given = protected_patch if isinstance(protected_patch, dict) else {}
        merged = move_inline_secrets(merged, protected, given=given, asked=spec_patch)
        spec = flux_rules.normalise_spec(merged, protected)
        return self.flux_write(request, cluster, name, record, spec, protected, status=202)

    def flux_write(
        self,
        request: web.Request,
        cluster: Cluster,
        name: str,
        existing: FluxConfigRecord | None,
        spec: dict[str, Any],
        protected: dict[str, str],
        *,
        status: int,
    ) -> web.Response:
        state = "Updating" if existing else "Creating"
        properties = {**spec, **flux_rules.initial_status(state)}
        git = spec.get("gitRepository") or {}
        if existing is not None:
            for key in flux_rules.STATUS_KEYS:
                if key != "provisioningState":
                    properties[key] = existing.properties.get(key)
        ssh_source = (
            spec["sourceKind"] == "GitRepository"
            and is_ssh_url(str(git.get("url", "")))
            and not git.get("localAuthRef")
        )
        kept_generated = (
            existing is not None
            and existing.generated_key
            and protected.get("sshPrivateKey") == existing.protected.get("sshPrivateKey")
        )
        generated_key = False
        if ssh_source and ("sshPrivateKey" not in protected or kept_generated):
            # As the flux agent does: no key given for an SSH source, so it makes one (once) and
            # publishes the public half for the user to register as a deploy key.
            generated_key = True
            if kept_generated and existing is not None:
                properties["repositoryPublicKey"] = existing.properties.get("repositoryPublicKey", "")
            else:
                private_b64, public = flux_rules.generated_ssh_key()
                protected["sshPrivateKey"] = private_b64
                properties["repositoryPublicKey"] = public
        else:
            properties["repositoryPublicKey"] = ""
        record = FluxConfigRecord(
            name=existing.name if existing else name,
            properties=properties,
            protected=protected,
            system_data=system_data(existing.system_data if existing else None),
            generation=(existing.generation + 1) if existing else 1,
            generated_key=generated_key,
        )
        cluster.flux_configs[name.lower()] = record
        path = f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{record.name}"

        def succeeded() -> None:
            if cluster.flux_configs.get(name.lower()) is record:
                record.properties["provisioningState"] = "Succeeded"
                if self.arm.agent is not None:
                    self.arm.agent.config_changed(cluster, name)

        def failed(outcome: str, error: dict[str, str] | None) -> None:
            if cluster.flux_configs.get(name.lower()) is record:
                record.properties["provisioningState"] = outcome
                record_error(record, error)
                # The spec was stored all the same; the agent keeps reconciling what it now says.
                if self.arm.agent is not None:
                    self.arm.agent.config_changed(cluster, name)

        op = self.arm.operations.start(
            path,
            request.query["api-version"],
            seconds=self.arm.config.operation_seconds,
            fault=self.arm.faults.operation_fault(request.method, request.path),
            on_success=succeeded,
            on_failure=failed,
        )
        return reply(status, self.flux_body(cluster, record), self._lro_headers(op))

    async def flux_delete(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        def forget() -> None:
            if self.arm.agent is not None:
                self.arm.agent.config_deleted(cluster, name)

        return self._delete(
            request,
            cluster,
            cluster.flux_configs,
            "fluxConfigurations",
            name,
            self.arm.config.operation_seconds,
            forget,
        )
