"""The ARM emulator's aiohttp application.

Paths are matched case-insensitively by hand (ARM ids are case-insensitive; aiohttp's router is not).
Every request passes, in order: bearer check, subscription, api-version, injected faults, throttle,
then the resource handler. Writes start operations that finish on the event loop.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from bot.repo_urls import is_ssh_url
from sandbox.arm import extensions as ext_rules
from sandbox.arm import flux_configs as flux_rules
from sandbox.arm.errors import ArmError, bad_request, conflict, not_found
from sandbox.arm.faults import FaultInjector
from sandbox.arm.operations import Operation, Operations
from sandbox.arm.throttle import Throttle
from sandbox.world import (
    CLUSTER_TYPES,
    PROVIDERS,
    Cluster,
    ExtensionRecord,
    FluxConfigRecord,
    World,
    utc_now_iso,
)

logger = logging.getLogger(__name__)
KC = "microsoft.kubernetesconfiguration"
API_VERSIONS: dict[str, frozenset[str]] = {
    "fluxconfigurations": frozenset(
        {
            "2021-11-01-preview",
            "2022-03-01",
            "2022-07-01",
            "2022-11-01",
            "2023-05-01",
            "2024-11-01",
            "2025-04-01",
        }
    ),
    "extensions": frozenset({"2022-03-01", "2022-07-01", "2022-11-01", "2023-05-01", "2024-11-01", "2025-03-01"}),
    "sourcecontrolconfigurations": frozenset({"2021-03-01", "2022-03-01", "2022-07-01", "2022-11-01", "2023-05-01"}),
    # 2016-02-01: what azure-mgmt-core's auto-registration policy speaks to /providers
    "resources": frozenset(
        {"2016-02-01", "2021-04-01", "2022-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01"}
    ),
    "clusters": frozenset(
        {
            "2021-10-01",
            "2022-10-01-preview",
            "2024-01-01",
            "2024-05-01",
            "2024-07-01",
            "2024-09-01",
            "2025-01-01",
        }
    ),
}
MAX_BODY = 4 * 1024 * 1024  # ARM's request size limit


class FluxAgent(Protocol):
    """What the emulator tells the simulated Flux agent (sandbox.fluxsim.FluxSimulator)."""

    def config_changed(self, cluster: Cluster, name: str) -> None: ...
    def config_deleted(self, cluster: Cluster, name: str) -> None: ...


@dataclass
class EmulatorConfig:
    """Knobs of the emulator; tests compress time, benchmarks keep ARM's real numbers."""

    #: simulated seconds per real second: throttle refill and sync intervals
    time_scale: float = 1.0
    #: how long a flux configuration write stays InProgress
    operation_seconds: float = 0.3
    #: how long an extension install/upgrade/delete stays InProgress
    extension_operation_seconds: float = 1.0
    page_size: int = 50
    throttling: bool = True
    faults: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RequestRecord:
    at: float
    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]


class ArmEmulator:
    """The emulated resource manager for one world."""

    def __init__(self, *, world: World, agent: FluxAgent | None, config: EmulatorConfig | None = None) -> None:
        self.world = world
        self.agent = agent
        self.config = config or EmulatorConfig()
        self.throttle = Throttle(time_scale=self.config.time_scale, enabled=self.config.throttling)
        self.faults = FaultInjector(self.config.faults)
        self.operations = Operations()
        self.requests: deque[RequestRecord] = deque(maxlen=20_000)
        self.base_url = ""  # set by the server once it knows its port

    # -- application -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._record])
        app.router.add_route("*", "/_sandbox/{tail:.*}", self._admin)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except ArmError as err:
            response = err.response()
        except web.HTTPException as exc:
            response = exc
        except Exception:
            # A bug in the emulator must still answer as ARM would, or the SDK sees a body it cannot parse.
            logger.exception("ARM emulator failed on %s %s", request.method, request.path)
            response = ArmError(500, "InternalServerError", "The sandbox ARM emulator failed; see its log.").response()
        response.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
        response.headers.setdefault("x-ms-correlation-request-id", request.headers.get("x-ms-client-request-id", ""))
        if not request.path.startswith("/_sandbox/"):
            self.requests.append(
                RequestRecord(
                    at=time.monotonic(),
                    method=request.method,
                    path=request.path,
                    query=request.query_string,
                    status=response.status,
                    headers={k.lower(): v for k, v in response.headers.items()},
                )
            )
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.",
            )
        parts = [p for p in request.path.split("/") if p]
        low = [p.lower() for p in parts]
        if len(low) < 2 or low[0] != "subscriptions":
            raise ArmError(404, "InvalidResourceType", f"No route for '{request.path}'.")
        subscription = parts[1]
        if subscription.lower() not in {s.lower() for s in self.world.subscriptions}:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
        route = self._route(low)
        if route is None:
            raise ArmError(404, "InvalidResourceType", f"The resource type in '{request.path}' is not served.")
        family, handler = route
        self._check_api_version(request, family)
        fault = self.faults.http_fault(request.method, request.path)
        if fault is not None:
            raise fault
        decision = self.throttle.check(subscription, request.method)
        if not decision.allowed:
            raise ArmError(
                429,
                "TooManyRequests",
                f"Number of {request.method} requests for subscription '{subscription}' exceeded the limit. "
                f"Please try again after '{decision.retry_after}' seconds.",
                headers=decision.headers,
            )
        if family in ("fluxconfigurations", "extensions", "sourcecontrolconfigurations"):
            self._require_registration(subscription, "Microsoft.KubernetesConfiguration")
        response = await handler(request, parts)
        response.headers.update(decision.headers)
        return response

    def _require_registration(self, subscription: str, namespace: str) -> None:
        if self.world.provider_registration(subscription, namespace) != "Registered":
            # The SDK's ARMAutoResourceProviderRegistrationPolicy reads the namespace from the
            # last quoted word of this message, registers it and retries the request.
            raise ArmError(
                409,
                "MissingSubscriptionRegistration",
                f"The subscription is not registered to use namespace '{namespace}'. "
                "See https://aka.ms/rps-not-found for how to register subscriptions.",
            )

    def _check_api_version(self, request: web.Request, family: str) -> None:
        version = request.query.get("api-version")
        if not version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required.",
            )
        allowed = API_VERSIONS[family]
        if version not in allowed:
            raise ArmError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for API version '{version}' and type '{family}'. "
                f"The supported api-versions are '{', '.join(sorted(allowed))}'.",
            )

    Handler = Callable[[web.Request, list[str]], Awaitable[web.StreamResponse]]

    def _route(self, low: list[str]) -> tuple[str, ArmEmulator.Handler] | None:
        n = len(low)
        # /subscriptions/{s}/resources
        if n == 3 and low[2] == "resources":
            return "resources", self._list_resources
        # /subscriptions/{s}/providers/{ns}[/register]
        if n in (4, 5) and low[2] == "providers" and (n == 4 or low[4] == "register"):
            return "resources", self._provider
        # /subscriptions/{s}/providers/{rp}/{type}  (clusters in a subscription)
        if n == 5 and low[2] == "providers" and self._cluster_type_of(low[3], low[4]):
            return "clusters", self._list_clusters
        if n < 8 or low[2] != "resourcegroups" or low[4] != "providers":
            return None
        if not self._cluster_type_of(low[5], low[6]):
            return None
        if n == 8:
            return "clusters", self._get_cluster
        if n < 11 or low[8] != "providers" or low[9] != KC:
            return None
        family = low[10]
        if family not in ("fluxconfigurations", "extensions", "sourcecontrolconfigurations"):
            return None
        if n == 11:
            return family, self._list_children
        if n == 12:
            return family, self._child
        if n == 14 and low[12] == "operations" and family != "sourcecontrolconfigurations":
            return family, self._operation_status
        return None

    @staticmethod
    def _cluster_type_of(rp: str, ctype: str | None) -> bool:
        for rp_name, type_name in CLUSTER_TYPES.values():
            if rp == rp_name.lower() and (ctype is None or ctype == type_name.lower()):
                return True
        return False

    # -- helpers -----------------------------------------------------------------------------

    def _cluster(self, parts: list[str]) -> Cluster:
        cluster = self.world.find_cluster(parts[1], parts[3], parts[5], parts[6], parts[7])
        if cluster is None:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource '{parts[5]}/{parts[6]}/{parts[7]}' under resource group '{parts[3]}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return cluster

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad_request(f"The request content was invalid and could not be deserialized: {exc}.") from None
        if not isinstance(body, dict):
            raise bad_request("The request content must be a JSON object.")
        return body

    @staticmethod
    def _reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> web.Response:
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)

    def _lro_headers(self, op: Operation) -> dict[str, str]:
        url = f"{self.base_url}{op.path}?api-version={op.api_version}"
        return {"Azure-AsyncOperation": url, "Retry-After": "0", "x-ms-async-operation-timeout": "PT48H"}

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        try:
            skip = int(request.query.get("$skipToken", "0"))
        except ValueError:
            raise bad_request("$skipToken is not valid.") from None
        size = max(1, self.config.page_size)
        body: dict[str, Any] = {"value": items[skip : skip + size]}
        if skip + size < len(items):
            body["nextLink"] = (
                f"{self.base_url}{request.path}?api-version={request.query['api-version']}&%24skipToken={skip + size}"
            )
        return self._reply(200, body)

    @staticmethod
    def _system_data(previous: dict[str, Any] | None) -> dict[str, Any]:
        now = utc_now_iso(time.time())
        created = previous or {
            "createdBy": "fluxops-sandbox",
            "createdByType": "Application",
            "createdAt": now,
        }
        return {
            **created,
            "lastModifiedBy": "fluxops-sandbox",
            "lastModifiedByType": "Application",
            "lastModifiedAt": now,
        }

    # -- subscriptions: inventory and providers ----------------------------------------------

    @staticmethod
    def _cluster_resource(cluster: Cluster) -> dict[str, Any]:
        return {
            "id": cluster.id,
            "name": cluster.name,
            "type": f"{cluster.rp}/{cluster.cluster_type}",
            "location": cluster.location,
            "tags": dict(cluster.tags),
        }

    async def _list_resources(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        wanted = _parse_type_filter(request.query.get("$filter", ""))
        items = [
            self._cluster_resource(c)
            for c in sorted(self.world.clusters_in(parts[1]), key=lambda c: c.id.lower())
            if wanted is None or f"{c.rp}/{c.cluster_type}".lower() in wanted
        ]
        return self._page(request, items)

    async def _list_clusters(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        ctype = parts[4].lower()
        items = [
            self._cluster_resource(c)
            for c in sorted(self.world.clusters_in(parts[1]), key=lambda c: c.id.lower())
            if c.cluster_type.lower() == ctype
        ]
        return self._page(request, items)

    async def _get_cluster(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        if request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "The sandbox serves clusters read-only.")
        return self._reply(200, self._cluster_resource(self._cluster(parts)))

    async def _provider(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        namespace = next((p for p in PROVIDERS if p.lower() == parts[3].lower()), None)
        if namespace is None:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{parts[3]}' is invalid.")
        if len(parts) == 5:
            if request.method != "POST":
                raise ArmError(405, "MethodNotAllowed", "Register with POST.")
            self.world.provider_state[(parts[1].lower(), namespace.lower())] = "Registered"
        elif request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "Read a provider with GET.")
        state = self.world.provider_registration(parts[1], namespace)
        body = {
            "id": f"/subscriptions/{parts[1]}/providers/{namespace}",
            "namespace": namespace,
            "registrationState": state,
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [],
        }
        return self._reply(200, body)

    # -- cluster children ---------------------------------------------------------------------

    async def _list_children(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        if request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", "Collections are read with GET.")
        cluster = self._cluster(parts)
        family = parts[10].lower()
        items: list[dict[str, Any]]
        if family == "fluxconfigurations":
            items = [self._flux_body(cluster, r) for r in cluster.flux_configs.values()]
        elif family == "extensions":
            items = [self._ext_body(cluster, r) for r in cluster.extensions.values()]
        else:
            items = [self._v1_body(cluster, r.name, r.properties) for r in cluster.v1_configs.values()]
        items.sort(key=lambda b: str(b["name"]).lower())
        return self._page(request, items)

    async def _child(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        cluster = self._cluster(parts)
        family = parts[10].lower()
        name = parts[11]
        method = request.method
        handlers: dict[tuple[str, str], Callable[[web.Request, Cluster, str, list[str]], Awaitable[web.Response]]] = {
            ("fluxconfigurations", "GET"): self._flux_get,
            ("fluxconfigurations", "PUT"): self._flux_put,
            ("fluxconfigurations", "PATCH"): self._flux_patch,
            ("fluxconfigurations", "DELETE"): self._flux_delete,
            ("extensions", "GET"): self._ext_get,
            ("extensions", "PUT"): self._ext_put,
            ("extensions", "PATCH"): self._ext_patch,
            ("extensions", "DELETE"): self._ext_delete,
            ("sourcecontrolconfigurations", "GET"): self._v1_get,
            ("sourcecontrolconfigurations", "PUT"): self._v1_put,
            ("sourcecontrolconfigurations", "DELETE"): self._v1_delete,
        }
        handler = handlers.get((family, method))
        if handler is None:
            raise ArmError(405, "MethodNotAllowed", f"{method} is not supported on {parts[10]}.")
        return await handler(request, cluster, name, parts)

    async def _operation_status(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        self._cluster(parts)
        op = self.operations.get(parts[13])
        if op is None or not op.resource_path.lower().endswith(f"/{parts[10]}/{parts[11]}".lower()):
            raise ArmError(404, "OperationNotFound", f"Operation '{parts[13]}' was not found.")
        return self._reply(200, op.body())

    # -- fluxConfigurations -------------------------------------------------------------------

    @staticmethod
    def _resource_body(cluster: Cluster, rtype: str, record: FluxConfigRecord | ExtensionRecord) -> dict[str, Any]:
        return {
            "id": f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/{rtype}/{record.name}",
            "name": record.name,
            "type": f"Microsoft.KubernetesConfiguration/{rtype}",
            "systemData": record.system_data,
            "properties": json.loads(json.dumps(record.properties)),
        }

    def _flux_body(self, cluster: Cluster, record: FluxConfigRecord) -> dict[str, Any]:
        return self._resource_body(cluster, "fluxConfigurations", record)

    async def _flux_get(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = _find(cluster.flux_configs, "fluxConfigurations", name, cluster)
        return self._reply(200, self._flux_body(cluster, record))

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

    def _busy(self, path: str) -> None:
        if self.operations.in_progress_for(path):
            raise conflict(
                "Another operation is in progress on this resource; retry after it completes.",
                code="OperationInProgress",
            )

    async def _flux_put(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        flux_rules.check_name("flux configuration name", name, limit=30)
        body = await self._json(request)
        props = body.get("properties")
        if not isinstance(props, dict):
            raise bad_request("The request body must have a 'properties' object.")
        self._require_flux_extension(cluster)
        self._busy(request.path)
        existing = cluster.flux_configs.get(name.lower())
        given_protected = flux_rules.validate_protected(props.get("configurationProtectedSettings"))
        protected = given_protected or (dict(existing.protected) if existing else {})
        spec = flux_rules.normalise_spec(props, protected)
        if existing is not None:
            current_spec = {k: existing.properties.get(k) for k in flux_rules.SPEC_KEYS}
            flux_rules.check_create_only(current_spec, spec)
        return self._flux_write(request, cluster, name, existing, spec, protected, status=200 if existing else 201)

    async def _flux_patch(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = _find(cluster.flux_configs, "fluxConfigurations", name, cluster)
        body = await self._json(request)
        patch = body.get("properties")
        if not isinstance(patch, dict):
            raise bad_request("The request body must have a 'properties' object.")
        self._busy(request.path)
        for key in flux_rules.CREATE_ONLY:
            if key in patch and patch[key] != record.properties.get(key):
                flux_rules.check_create_only(record.properties, {**record.properties, key: patch[key]})
        protected_patch = patch.get("configurationProtectedSettings")
        protected = dict(record.protected)
        if protected_patch is not None:
            if not isinstance(protected_patch, dict):
                raise bad_request("'configurationProtectedSettings' must be an object.")
            protected = flux_rules.merge_patch(protected, protected_patch)
            flux_rules.validate_protected(protected)
        current_spec = {k: record.properties.get(k) for k in flux_rules.SPEC_KEYS}
        spec_patch = {k: v for k, v in patch.items() if k != "configurationProtectedSettings"}
        # A new sourceKind replaces the old source object rather than merging into it.
        if spec_patch.get("sourceKind") and spec_patch["sourceKind"] != current_spec.get("sourceKind"):
            old_key = flux_rules.SOURCE_KEYS.get(str(current_spec.get("sourceKind")))
            if old_key and old_key not in spec_patch:
                spec_patch[old_key] = None
        merged = flux_rules.merge_patch(current_spec, spec_patch)
        spec = flux_rules.normalise_spec(merged, protected)
        return self._flux_write(request, cluster, name, record, spec, protected, status=202)

    def _flux_write(
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
            system_data=self._system_data(existing.system_data if existing else None),
            generation=(existing.generation + 1) if existing else 1,
            generated_key=generated_key,
        )
        cluster.flux_configs[name.lower()] = record
        path = f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/{record.name}"

        def succeeded() -> None:
            if cluster.flux_configs.get(name.lower()) is record:
                record.properties["provisioningState"] = "Succeeded"
                if self.agent is not None:
                    self.agent.config_changed(cluster, name)

        def failed(outcome: str, error: dict[str, str] | None) -> None:
            if cluster.flux_configs.get(name.lower()) is record:
                record.properties["provisioningState"] = outcome
                _record_error(record, error)
                # The spec was stored all the same; the agent keeps reconciling what it now says.
                if self.agent is not None:
                    self.agent.config_changed(cluster, name)

        op = self.operations.start(
            path,
            request.query["api-version"],
            seconds=self.config.operation_seconds,
            fault=self.faults.operation_fault(request.method, request.path),
            on_success=succeeded,
            on_failure=failed,
        )
        return self._reply(status, self._flux_body(cluster, record), self._lro_headers(op))

    async def _flux_delete(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        def forget() -> None:
            if self.agent is not None:
                self.agent.config_deleted(cluster, name)

        return self._delete(
            request, cluster, cluster.flux_configs, "fluxConfigurations", name, self.config.operation_seconds, forget
        )

    def _delete(
        self,
        request: web.Request,
        cluster: Cluster,
        records: dict[str, Any],
        rtype: str,
        name: str,
        seconds: float,
        after: Callable[[], None] | None = None,
    ) -> web.Response:
        """DELETE as ARM does it: 204 when absent, 200 at once with forceDelete, else 202 and an operation."""
        record = records.get(name.lower())
        if record is None:
            return self._reply(204)

        def deleted() -> None:
            if records.get(name.lower()) is record:
                del records[name.lower()]
                if after is not None:
                    after()

        if request.query.get("forceDelete", "false").lower() == "true":
            # forceDelete removes the resource in Azure at once, without waiting for the agent.
            deleted()
            return self._reply(200)
        self._busy(request.path)
        record.properties["provisioningState"] = "Deleting"

        def failed(outcome: str, error: dict[str, str] | None) -> None:
            record.properties["provisioningState"] = outcome
            _record_error(record, error)

        op = self.operations.start(
            f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/{rtype}/{record.name}",
            request.query["api-version"],
            seconds=seconds,
            fault=self.faults.operation_fault(request.method, request.path),
            on_success=deleted,
            on_failure=failed,
        )
        return self._reply(202, None, self._lro_headers(op))

    # -- extensions ---------------------------------------------------------------------------

    def _ext_body(self, cluster: Cluster, record: ExtensionRecord) -> dict[str, Any]:
        return self._resource_body(cluster, "extensions", record)

    async def _ext_get(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = _find(cluster.extensions, "extensions", name, cluster)
        return self._reply(200, self._ext_body(cluster, record))

    async def _ext_put(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        body = await self._json(request)
        props = body.get("properties")
        if not isinstance(props, dict):
            raise bad_request("The request body must have a 'properties' object.")
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
        return self._ext_write(request, cluster, name, existing, spec, protected, status=200 if existing else 201)

    async def _ext_patch(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = _find(cluster.extensions, "extensions", name, cluster)
        body = await self._json(request)
        patch = body.get("properties")
        if not isinstance(patch, dict):
            raise bad_request("The request body must have a 'properties' object.")
        self._busy(request.path)
        current = record.spec or {k: record.properties.get(k) for k in ext_rules.SPEC_KEYS}
        spec = ext_rules.apply_patch(current, patch)
        protected = dict(record.protected)
        protected_patch = patch.get("configurationProtectedSettings")
        if protected_patch is not None:
            if not isinstance(protected_patch, dict):
                raise bad_request("'configurationProtectedSettings' must be an object of string values.")
            protected = ext_rules.string_map(
                "configurationProtectedSettings", flux_rules.merge_patch(protected, protected_patch)
            )
        return self._ext_write(request, cluster, name, record, spec, protected, status=202)

    def _ext_write(
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
            system_data=self._system_data(existing.system_data if existing else None),
            spec=spec,
        )
        cluster.extensions[name.lower()] = record
        path = f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/extensions/{record.name}"

        def succeeded() -> None:
            if cluster.extensions.get(name.lower()) is record:
                record.properties["provisioningState"] = "Succeeded"
                record.properties["currentVersion"] = ext_rules.installed_version(spec)
                record.properties["version"] = ext_rules.installed_version(spec)

        def failed(outcome: str, error: dict[str, str] | None) -> None:
            if cluster.extensions.get(name.lower()) is record:
                record.properties["provisioningState"] = outcome
                _record_error(record, error)

        op = self.operations.start(
            path,
            request.query["api-version"],
            seconds=self.config.extension_operation_seconds,
            fault=self.faults.operation_fault(request.method, request.path),
            on_success=succeeded,
            on_failure=failed,
        )
        return self._reply(status, self._ext_body(cluster, record), self._lro_headers(op))

    async def _ext_delete(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        return self._delete(
            request, cluster, cluster.extensions, "extensions", name, self.config.extension_operation_seconds
        )

    # -- Flux v1 sourceControlConfigurations --------------------------------------------------

    @staticmethod
    def _v1_body(cluster: Cluster, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/{name}",
            "name": name,
            "type": "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
            "properties": properties,
        }

    async def _v1_get(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        record = cluster.v1_configs.get(name.lower())
        if record is None:
            raise not_found(
                "Microsoft.KubernetesConfiguration/sourceControlConfigurations", name, cluster.resource_group
            )
        return self._reply(200, self._v1_body(cluster, record.name, record.properties))

    async def _v1_put(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        raise ArmError(
            400,
            "FluxV1Retired",
            "Flux v1 is retired: new sourceControlConfigurations cannot be created. "
            "Create a Flux v2 fluxConfiguration instead (az k8s-configuration flux create).",
        )

    async def _v1_delete(self, request: web.Request, cluster: Cluster, name: str, parts: list[str]) -> web.Response:
        if cluster.v1_configs.pop(name.lower(), None) is None:
            return self._reply(204)
        return self._reply(200)

    # -- sandbox administration (no ARM counterpart) -----------------------------------------

    async def _admin(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if tail == "health":
            return self._reply(200, {"ok": True})
        if tail == "faults" and request.method == "PUT":
            body = await self._json(request)
            try:
                self.faults.configure(list(body.get("faults", [])))
            except (ValueError, TypeError) as exc:
                raise bad_request(str(exc)) from None
            return self._reply(200, {"faults": len(self.faults.rules)})
        if tail == "requests" and request.method == "GET":
            return self._reply(
                200,
                [{"method": r.method, "path": r.path, "query": r.query, "status": r.status} for r in self.requests],
            )
        raise ArmError(404, "NotFound", f"No sandbox admin route '{tail}'.")


def _find(records: dict[str, Any], rtype: str, name: str, cluster: Cluster) -> Any:
    record = records.get(name.lower())
    if record is None:
        raise not_found(f"Microsoft.KubernetesConfiguration/{rtype}", name, cluster.resource_group)
    return record


def _record_error(record: FluxConfigRecord | ExtensionRecord, error: dict[str, str] | None) -> None:
    """Where each resource type reports why its last operation failed."""
    if isinstance(record, FluxConfigRecord):
        record.properties["errorMessage"] = (error or {}).get("message", "")
    else:
        record.properties["errorInfo"] = error


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
