"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources`` over the emulator's world.

Two tables, with the rows Resource Graph keeps: ``resources`` (the AKS and Arc clusters, with tags) and
``kubernetesconfigurationresources`` (flux configurations and extensions, ``properties`` exactly as ARM's GET
returns them, ``type`` lower-cased as Resource Graph does). Queries are parsed by ``kql_subset``; paging follows
the service (``$top`` page size, default 100 and at most 1,000; ``$skip``; an opaque ``$skipToken`` bound to the
query and checked against tampering; ``resultTruncated`` when rows have no ``id`` to page on). The per-user
quota is ``graph_quota``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.arm import kql_subset
from sandbox.arm.endpoints import Endpoints, read_json, reply
from sandbox.arm.errors import ArmError
from sandbox.arm.graph_quota import GraphQuota
from sandbox.world import Cluster

if TYPE_CHECKING:
    from sandbox.arm.app import ArmEmulator

DEFAULT_PAGE = 100
MAX_PAGE = 1000
_COMMON = (
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
)
SCHEMAS: dict[str, tuple[str, ...]] = {"resources": _COMMON, "kubernetesconfigurationresources": _COMMON}
TENANT = "00000000-0000-4000-8000-00000000a11d"


class GraphError(ArmError):
    """Resource Graph's error shape: a BadRequest whose details say what was wrong with the query."""

    def __init__(self, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(400, "BadRequest", message)
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def _support_text() -> str:
    return f"Please provide below info when asking for support: correlationId = {uuid.uuid4()}."


def invalid_query(problem: str, *, line: int = 1, position: int = 0, token: str = "") -> GraphError:
    return GraphError(
        _support_text(),
        [
            {
                "code": "InvalidQuery",
                "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph "
                "service and fix the error before retrying.",
            },
            {
                "code": "ParserFailure",
                "message": problem,
                "line": line,
                "characterPositionInLine": position,
                "token": token,
            },
        ],
    )


def invalid_option(problem: str) -> GraphError:
    return GraphError(_support_text(), [{"code": "InvalidRequestOptions", "message": problem}])


class ResourceGraph(Endpoints):
    """The query endpoint; ``served`` counts answered queries (tests and benchmarks read it)."""

    def __init__(self, arm: ArmEmulator) -> None:
        super().__init__(arm)
        self.quota = GraphQuota(time_scale=arm.config.time_scale, enabled=arm.config.throttling)
        self.served = 0
        self._secret = secrets.token_bytes(32)

    # -- the tables ------------------------------------------------------------------------------

    def _base_row(self, cluster: Cluster, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": body["id"],
            "name": body["name"],
            "type": str(body["type"]).lower(),
            "tenantId": TENANT,
            "kind": "",
            "location": body.get("location", ""),
            "resourceGroup": cluster.resource_group.lower(),
            "subscriptionId": cluster.subscription_id,
            "managedBy": "",
            "sku": None,
            "plan": None,
            "properties": body.get("properties") or {},
            "tags": body.get("tags") or {},
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }

    def _clusters(self, subscriptions: list[str]) -> list[Cluster]:
        wanted = {s.lower() for s in subscriptions}
        clusters = [c for c in self.arm.world.clusters.values() if c.subscription_id.lower() in wanted]
        return sorted(clusters, key=lambda c: c.id.lower())

    def table(self, name: str, subscriptions: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for cluster in self._clusters(subscriptions):
            if name == "resources":
                rows.append(
                    self._base_row(
                        cluster,
                        {
                            "id": cluster.id,
                            "name": cluster.name,
                            "type": f"{cluster.rp}/{cluster.cluster_type}",
                            "location": cluster.location,
                            "tags": dict(cluster.tags),
                            "properties": {},
                        },
                    )
                )
                continue
            for config in cluster.flux_configs.values():
                rows.append(self._base_row(cluster, self.arm.flux_configs.flux_body(cluster, config)))
            for ext in cluster.extensions.values():
                rows.append(self._base_row(cluster, self.arm.extensions.ext_body(cluster, ext)))
        return rows

    # -- skip tokens -----------------------------------------------------------------------------

    def _digest(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()[:32]

    def _query_key(self, query: str, subscriptions: list[str]) -> str:
        return hashlib.sha256(json.dumps([query, sorted(s.lower() for s in subscriptions)]).encode()).hexdigest()[:16]

    def skip_token(self, offset: int, key: str) -> str:
        payload = json.dumps({"o": offset, "q": key}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload + b"." + self._digest(payload).encode()).decode().rstrip("=")

    def read_skip_token(self, token: str, key: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload, _, mac = raw.rpartition(b".")
            fields = json.loads(payload)
            ok = hmac.compare_digest(mac.decode(), self._digest(payload)) and fields["q"] == key
            offset = int(fields["o"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            ok, offset = False, 0
        if not ok or offset < 0:
            raise invalid_option("The $skipToken is not valid for this query: pass the one the last page returned.")
        return offset

    # -- the endpoint ----------------------------------------------------------------------------

    async def query(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            raise ArmError(405, "MethodNotAllowed", "Resource Graph queries are POSTed.")
        user = hashlib.sha256(request.headers.get("Authorization", "").encode()).hexdigest()
        decision = self.quota.charge(user)
        if not decision.allowed:
            raise ArmError(
                429,
                "RateLimiting",
                f"{_support_text()} Too many requests. Please retry after the time in x-ms-user-quota-resets-after.",
                headers=decision.headers,
            )
        body = await read_json(request)
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise invalid_option("The request must have a non-empty 'query' string.")
        if body.get("managementGroups"):
            raise invalid_option("The sandbox serves subscription scopes only, not managementGroups.")
        if body.get("facets"):
            raise invalid_option("The sandbox serves no facets.")
        subscriptions = body.get("subscriptions") or list(self.arm.world.subscriptions)
        if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
            raise invalid_option("'subscriptions' must be a list of subscription ids.")
        options = body.get("options") or {}
        top, skip, result_format = _options(options)
        key = self._query_key(query, subscriptions)
        token = options.get("$skipToken")
        if token:
            skip = self.read_skip_token(str(token), key)
        try:
            stage = kql_subset.parse(query, SCHEMAS)
        except kql_subset.KqlError as err:
            line = query.count("\n", 0, err.position) + 1
            column = err.position - (query.rfind("\n", 0, err.position) + 1)
            raise invalid_query(err.message, line=line, position=column, token=err.token) from None
        rows = kql_subset.run(stage, lambda table: self.table(table, subscriptions))
        page = rows[skip : skip + top]
        more = skip + top < len(rows)
        pageable = "id" in stage.columns
        answer: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": _formatted(page, stage.columns, result_format),
            "facets": [],
            "resultTruncated": "true" if more and not pageable else "false",
        }
        if more and pageable:
            answer["$skipToken"] = self.skip_token(skip + top, key)
        self.served += 1
        return reply(200, answer, decision.headers)


def _options(options: Any) -> tuple[int, int, str]:
    if not isinstance(options, dict):
        raise invalid_option("'options' must be an object.")
    top = options.get("$top", DEFAULT_PAGE)
    skip = options.get("$skip", 0)
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= MAX_PAGE:
        raise invalid_option(f"$top must be a whole number from 1 to {MAX_PAGE}, not {top!r}.")
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise invalid_option(f"$skip must be a whole number of at least 0, not {skip!r}.")
    result_format = options.get("resultFormat", "objectArray")
    if result_format not in ("objectArray", "table"):
        raise invalid_option(f"resultFormat must be objectArray or table, not {result_format!r}.")
    return top, skip, str(result_format)


def _column_type(values: list[Any]) -> str:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "integer"
    return "object" if isinstance(sample, (dict, list)) else "string"


def _formatted(rows: list[dict[str, Any]], columns: list[str], result_format: str) -> Any:
    if result_format == "objectArray":
        return rows
    return {
        "columns": [{"name": c, "type": _column_type([r.get(c) for r in rows])} for c in columns],
        "rows": [[r.get(c) for c in columns] for r in rows],
    }
