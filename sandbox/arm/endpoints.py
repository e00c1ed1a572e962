"""What every group of ARM endpoints shares: the cluster a path names, replies, paging, LRO headers, DELETE."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from sandbox.arm.errors import ArmError, bad_request, conflict, not_found
from sandbox.arm.operations import Operation
from sandbox.world import Cluster, ExtensionRecord, FluxConfigRecord, utc_now_iso

if TYPE_CHECKING:
    from sandbox.arm.app import ArmEmulator

T = TypeVar("T")


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or ARM's 400."""
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"The request content was invalid and could not be deserialized: {exc}.") from None
    if not isinstance(body, dict):
        raise bad_request("The request content must be a JSON object.")
    return body


async def read_properties(request: web.Request) -> dict[str, Any]:
    """The ``properties`` object of a PUT or PATCH body, or ARM's 400."""
    body = await read_json(request)
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise bad_request("The request body must have a 'properties' object.")
    return properties


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer (or an empty one when ``body`` is None)."""
    if body is None:
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def system_data(previous: dict[str, Any] | None) -> dict[str, Any]:
    """``systemData`` of a write: created as before (or now), last modified now, by the sandbox."""
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


class Endpoints:
    """The base of the emulator's endpoint groups: the emulator's world, operations and settings."""

    def __init__(self, arm: ArmEmulator) -> None:
        self.arm = arm

    def _cluster(self, parts: list[str]) -> Cluster:
        cluster = self.arm.world.find_cluster(parts[1], parts[3], parts[5], parts[6], parts[7])
        if cluster is None:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource '{parts[5]}/{parts[6]}/{parts[7]}' under resource group '{parts[3]}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return cluster

    def _lro_headers(self, op: Operation) -> dict[str, str]:
        url = f"{self.arm.base_url}{op.path}?api-version={op.api_version}"
        return {"Azure-AsyncOperation": url, "Retry-After": "0", "x-ms-async-operation-timeout": "PT48H"}

    def _page(
        self,
        request: web.Request,
        items: Sequence[T],
        render: Callable[[T], dict[str, Any]] | None = None,
    ) -> web.Response:
        """One page of ``items`` (in their order) with ARM's ``nextLink``; only that page is ``render``-ed."""
        try:
            skip = int(request.query.get("$skipToken", "0"))
        except ValueError:
            raise bad_request("$skipToken is not valid.") from None
        size = max(1, self.arm.config.page_size)
        page = items[skip : skip + size]
        body: dict[str, Any] = {"value": [render(i) for i in page] if render else list(page)}
        if skip + size < len(items):
            body["nextLink"] = (
                f"{self.arm.base_url}{request.path}?api-version={request.query['api-version']}"
                f"&%24skipToken={skip + size}"
            )
        return reply(200, body)

    @staticmethod
    def _resource_body(cluster: Cluster, rtype: str, record: FluxConfigRecord | ExtensionRecord) -> dict[str, Any]:
        return {
            "id": f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/{rtype}/{record.name}",
            "name": record.name,
            "type": f"Microsoft.KubernetesConfiguration/{rtype}",
            "systemData": record.system_data,
            # A copy of the top level only: the body is serialized at once, and nothing writes into it.
            "properties": dict(record.properties),
        }

    def _busy(self, path: str) -> None:
        if self.arm.operations.in_progress_for(path):
            raise conflict(
                "Another operation is in progress on this resource; retry after it completes.",
                code="OperationInProgress",
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
            return reply(204)

        def deleted() -> None:
            if records.get(name.lower()) is record:
                del records[name.lower()]
                if after is not None:
                    after()

        if request.query.get("forceDelete", "false").lower() == "true":
            # forceDelete removes the resource in Azure at once, without waiting for the agent.
            deleted()
            return reply(200)
        self._busy(request.path)
        record.properties["provisioningState"] = "Deleting"

        def failed(outcome: str, error: dict[str, str] | None) -> None:
            record.properties["provisioningState"] = outcome
            record_error(record, error)

        op = self.arm.operations.start(
            f"{cluster.id}/providers/Microsoft.KubernetesConfiguration/{rtype}/{record.name}",
            request.query["api-version"],
            seconds=seconds,
            fault=self.arm.faults.operation_fault(request.method, request.path),
            on_success=deleted,
            on_failure=failed,
        )
        return reply(202, None, self._lro_headers(op))


def find_record(records: dict[str, Any], rtype: str, name: str, cluster: Cluster) -> Any:
    record = records.get(name.lower())
    if record is None:
        raise not_found(f"Microsoft.KubernetesConfiguration/{rtype}", name, cluster.resource_group)
    return record


def record_error(record: FluxConfigRecord | ExtensionRecord, error: dict[str, str] | None) -> None:
    """Where each resource type reports why its last operation failed."""
    if isinstance(record, FluxConfigRecord):
        record.properties["errorMessage"] = (error or {}).get("message", "")
    else:
        record.properties["errorInfo"] = error
