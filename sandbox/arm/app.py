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

from sandbox.arm.children import ClusterChildren
from sandbox.arm.cluster_credentials import ClusterCredentials
from sandbox.arm.endpoints import read_json, reply
from sandbox.arm.errors import ArmError, bad_request
from sandbox.arm.extension_endpoints import ExtensionEndpoints
from sandbox.arm.extension_types import list_versions
from sandbox.arm.faults import FaultInjector
from sandbox.arm.flux_endpoints import FluxConfigEndpoints
from sandbox.arm.flux_sources import redacted
from sandbox.arm.inventory import Inventory
from sandbox.arm.operations import Operations
from sandbox.arm.resource_graph import ResourceGraph
from sandbox.arm.throttle import Throttle
from sandbox.arm.v1_endpoints import SourceControlEndpoints
from sandbox.world import (
    CLUSTER_TYPES,
    Cluster,
    World,
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
    # extensionTypes/{type}/versions (location scoped): the previews that have it; azure-mgmt speaks 2022-01-15-preview
    "extensiontypes": frozenset(
        {"2021-05-01-preview", "2021-11-01-preview", "2022-01-01-preview", "2022-01-15-preview"}
    ),
    # 2016-02-01: what azure-mgmt-core's auto-registration policy speaks to /providers
    "resources": frozenset(
        {"2016-02-01", "2021-04-01", "2022-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01"}
    ),
    # Microsoft.ResourceGraph/resources (the query API azure-mgmt-resourcegraph speaks: 2021-03-01)
    "resourcegraph": frozenset({"2019-04-01", "2020-04-01-preview", "2021-03-01", "2022-10-01", "2024-04-01"}),
    "clusters": frozenset(
        {
            "2021-10-01",
            "2022-10-01-preview",
            "2024-01-01",
            "2024-05-01",
            "2024-07-01",
            "2024-09-01",
            "2025-01-01",
            # what azure-mgmt-hybridkubernetes 2.0 and azure-mgmt-containerservice 41.8 send
            "2026-05-01",
            "2026-08-01",
        }
    ),
}
MAX_BODY = 4 * 1024 * 1024  # ARM's request size limit


class FluxAgent(Protocol):
    """What the emulator tells the simulated Flux agent (sandbox.fluxsim.FluxSimulator)."""

    def config_changed(self, cluster: Cluster, name: str) -> None: ...
    def config_deleted(self, cluster: Cluster, name: str) -> None: ...
    #: an extension install, update or delete ended (well or badly)
    def extension_changed(self, cluster: Cluster) -> None: ...
    def v1_config_deleted(self, cluster: Cluster, name: str) -> None: ...
    #: turn the push Receiver of one repository (None: all) on or off
    def set_receiver(self, url: str | None, enabled: bool) -> None: ...
    #: make HelmReleases named ``release`` (of configuration ``config`` when given) fail with ``message``
    def set_helm_fault(self, release: str, message: str | None, config: str | None = None) -> int: ...


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
    #: the JSON body of a PUT, PATCH or POST with secrets redacted (flux_sources.redacted); None for others
    body: Any = None


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
        #: the CA (PEM) the sandbox's Kubernetes API is served with: kubeconfigs trust it
        self.kube_ca_pem = ""
        self.inventory = Inventory(self)
        self.flux_configs = FluxConfigEndpoints(self)
        self.extensions = ExtensionEndpoints(self)
        self.v1_configs = SourceControlEndpoints(self)
        self.resource_graph = ResourceGraph(self)
        self.cluster_credentials = ClusterCredentials(self)
        self.children = ClusterChildren(self, flux=self.flux_configs, extensions=self.extensions, v1=self.v1_configs)

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
        sent: Any = None
        if request.method in ("PUT", "PATCH", "POST") and request.can_read_body:
            try:
                sent = redacted(json.loads(await request.read()))
            except ValueError:
                sent = None  # the handler answers the malformed body
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
                    body=sent,
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
        if low == ["providers", "microsoft.resourcegraph", "resources"]:
            # Resource Graph: no subscription in the path, its own per-user quota instead of ARM's buckets
            self._check_api_version(request, "resourcegraph")
            fault = self.faults.http_fault(request.method, request.path)
            if fault is not None:
                raise fault
            return await self.resource_graph.query(request)
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
        if family in ("fluxconfigurations", "extensions", "sourcecontrolconfigurations", "extensiontypes"):
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
            return "resources", self.inventory.list_resources
        # /subscriptions/{s}/providers/{ns}[/register]
        if n in (4, 5) and low[2] == "providers" and (n == 4 or low[4] == "register"):
            return "resources", self.inventory.provider
        # /subscriptions/{s}/providers/{rp}/{type}  (clusters in a subscription)
        if n == 5 and low[2] == "providers" and self._cluster_type_of(low[3], low[4]):
            return "clusters", self.inventory.list_clusters
        # /subscriptions/{s}/providers/Microsoft.KubernetesConfiguration/locations/{l}/extensionTypes/{t}/versions
        if (
            n == 9
            and low[2:5] == ["providers", KC, "locations"]
            and low[6] == "extensiontypes"
            and low[8] == "versions"
        ):
            return "extensiontypes", list_versions
        if n < 8 or low[2] != "resourcegroups" or low[4] != "providers":
            return None
        if not self._cluster_type_of(low[5], low[6]):
            return None
        if n == 8:
            return "clusters", self.inventory.get_cluster
        if n == 9 and low[8] == "listclusterusercredential":
            return "clusters", self.cluster_credentials.list_user_credential
        if n < 11 or low[8] != "providers" or low[9] != KC:
            return None
        family = low[10]
        if family not in ("fluxconfigurations", "extensions", "sourcecontrolconfigurations"):
            return None
        if n == 11:
            return family, self.children.list_children
        if n == 12:
            return family, self.children.child
        if n == 14 and low[12] == "operations" and family != "sourcecontrolconfigurations":
            return family, self.children.operation_status
        return None

    @staticmethod
    def _cluster_type_of(rp: str, ctype: str | None) -> bool:
        for rp_name, type_name in CLUSTER_TYPES.values():
            if rp == rp_name.lower() and (ctype is None or ctype == type_name.lower()):
                return True
        return False

    # -- sandbox administration (no ARM counterpart) -----------------------------------------

    async def _admin(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        if tail == "health":
            return reply(200, {"ok": True})
        if tail == "faults" and request.method == "PUT":
            body = await read_json(request)
            try:
                self.faults.configure(list(body.get("faults", [])))
            except (ValueError, TypeError) as exc:
                raise bad_request(str(exc)) from None
            return reply(200, {"faults": len(self.faults.rules)})
        if tail == "receivers" and request.method == "PUT" and self.agent is not None:
            # {"enabled": false, "repository": URL?}: pushes land without nudging Flux (no Receiver), so only
            # the interval or a reconcile request picks them up
            body = await read_json(request)
            enabled, repository = body.get("enabled"), body.get("repository")
            if not isinstance(enabled, bool) or not (repository is None or isinstance(repository, str)):
                raise bad_request("Send {'enabled': true|false, 'repository': URL (optional)}.")
            try:
                self.agent.set_receiver(repository, enabled)
            except ValueError as exc:
                raise bad_request(str(exc)) from None
            return reply(200, {"enabled": enabled, "repository": repository})
        if tail == "helm-faults" and request.method == "PUT" and self.agent is not None:
            # {"release": NAME, "message": TEXT | null, "config": CONFIG?}: HelmReleases named NAME (of flux
            # configuration CONFIG only, when given) fail to install with TEXT; null recovers them
            body = await read_json(request)
            release, message, config = body.get("release"), body.get("message"), body.get("config")
            if (
                not isinstance(release, str)
                or not release
                or not (message is None or isinstance(message, str))
                or not (config is None or isinstance(config, str))
            ):
                raise bad_request("Send {'release': NAME, 'message': TEXT or null, 'config': NAME (optional)}.")
            nudged = self.agent.set_helm_fault(release, message, config)
            return reply(200, {"release": release, "message": message, "config": config, "nudged": nudged})
        if tail == "requests" and request.method == "GET":
            return reply(
                200,
                [
                    {"method": r.method, "path": r.path, "query": r.query, "status": r.status, "body": r.body}
                    for r in self.requests
                ],
            )
        raise ArmError(404, "NotFound", f"No sandbox admin route '{tail}'.")
