"""Flux configurations and extensions of every cluster at once, through Azure Resource Graph (azure-mgmt-resourcegraph).

One KQL query per page of up to 1,000 rows replaces one ARM list per cluster. Rows of
``kubernetesconfigurationresources`` carry ``properties`` exactly as ARM's GET returns them, so they become
domain objects through the same conversion as the per-cluster adapters (``azure_flux.state_from_wire``,
``azure_extensions.state_from_wire``). Each query joins the cluster rows of ``resources``: a configuration whose
cluster is gone (Resource Graph lags ARM by seconds) is left out, and the cluster's tags come along.

Resource Graph throttles per user (15 queries per 5 seconds) and says when the quota resets in
``x-ms-user-quota-resets-after`` instead of ``Retry-After``; ``QuotaRetryAfter`` turns the one into the other so
azure-core's retry waits exactly that long, and a 429 that outlasts the retries becomes a retryable ``Throttled``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from azure.core.exceptions import (
    ClientAuthenticationError,
    DecodeError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.resourcegraph import ResourceGraphClient

from bot.cluster_ids import parse_cluster_id
from bot.models import ClusterRef, ClusterType, ExtensionState, FluxConfigState
from workers import azure_extensions, azure_flux
from workers.azure_connection import ArmConnection
from workers.azure_errors import arm_call, quota_reset_seconds

log = logging.getLogger(__name__)

PAGE_SIZE = 1000  # the service's largest page
RESOURCES_PATH = "/providers/Microsoft.ResourceGraph/resources"
_ERROR_MAP: dict[int, type[HttpResponseError]] = {
    401: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
}
CONFIG_TYPE = "microsoft.kubernetesconfiguration/fluxconfigurations"
EXTENSION_TYPE = "microsoft.kubernetesconfiguration/extensions"
_CHILD = "/providers/microsoft.kubernetesconfiguration/"
CLUSTER_TYPES = tuple(f"{t.resource_provider}/{t.value}".lower() for t in (ClusterType.MANAGED, ClusterType.CONNECTED))


def kql_string(value: str) -> str:
    """A KQL string literal holding ``value`` exactly."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _with_clusters(table_filters: Sequence[str], on: Sequence[ClusterRef] = ()) -> str:
    """Rows of kubernetesconfigurationresources matching every filter (and on the clusters ``on``, when any),
    joined to their cluster's row."""
    clusters = ", ".join(kql_string(t) for t in CLUSTER_TYPES)
    only_on = [f"where clusterId in ({', '.join(kql_string(c.arm_id.lower()) for c in on)})"] if on else []
    return "\n| ".join(
        [
            "kubernetesconfigurationresources",
            *(f"where {f}" for f in table_filters),
            f"extend clusterId = tolower(tostring(split(tolower(id), {kql_string(_CHILD)})[0]))",
            *only_on,
            f"join kind=inner (resources | where type in~ ({clusters}) | project clusterId = tolower(id), "
            "clusterTags = tags) on clusterId",
            "project id, name, type, properties, clusterId, clusterTags",
            "order by id asc",
        ]
    )


def configurations_query(
    *, name: str | None = None, repository: str | None = None, clusters: Sequence[ClusterRef] = ()
) -> str:
    """The query behind ``FluxIndex.configurations``."""
    filters = [f"type =~ {kql_string(CONFIG_TYPE)}"]
    if name:
        filters.append(f"name =~ {kql_string(name)}")
    if repository:
        filters.append(f"properties.gitRepository.url contains {kql_string(repository)}")
    return _with_clusters(filters, clusters)


def extensions_query(*, extension_type: str) -> str:
    """The query behind ``FluxIndex.extensions``."""
    return _with_clusters(
        [f"type =~ {kql_string(EXTENSION_TYPE)}", f"properties.extensionType =~ {kql_string(extension_type)}"]
    )


def cluster_of(row_id: str) -> ClusterRef | None:
    """The cluster a child resource's id names, or None when it is not an AKS or Arc cluster's child."""
    at = row_id.lower().find(_CHILD)
    if at < 0:
        return None
    try:
        return parse_cluster_id(row_id[:at])
    except ValueError:
        return None


class QuotaRetryAfter(HTTPPolicy[Any, Any]):
    """Give a 429 from Resource Graph the ``Retry-After`` its quota header means, for azure-core's retry policy."""

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        response = self.next.send(request)
        http = response.http_response
        if http.status_code == 429 and "Retry-After" not in http.headers:
            seconds = quota_reset_seconds(http.headers)
            if seconds is not None:
                http.headers["Retry-After"] = f"{seconds:.3f}"
        return response


class ResourceGraphIndex:
    """bot.ports.FluxIndex over Azure Resource Graph, for the configured subscriptions."""

    def __init__(
        self,
        *,
        connection: ArmConnection,
        subscription_ids: Sequence[str],
        page_size: int = PAGE_SIZE,
        retry_total: int | None = None,
    ) -> None:
        kwargs = connection.client_kwargs()
        kwargs["per_retry_policies"] = [*kwargs.get("per_retry_policies", []), QuotaRetryAfter()]
        if retry_total is not None:
            kwargs["retry_total"] = retry_total
        self._client = ResourceGraphClient(connection.credential, **kwargs)
        self._api_version: str = self._client._config.api_version
        self._subscriptions = list(subscription_ids)
        self._page_size = page_size

    def rows(self, query: str, doing: str) -> list[dict[str, Any]]:
        """Every row ``query`` yields, page by page through ``$skipToken``.

        The request goes through the client's pipeline (auth, retries, the quota policy) but its answer is read
        as plain JSON: the SDK's model deserialization walks every value of every row, which for a page of
        1,000 configurations costs more than the query itself."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        truncated = False
        with arm_call(doing, "*"):
            while True:
                options: dict[str, Any] = {"$top": self._page_size, "resultFormat": "objectArray"}
                if token:
                    options["$skipToken"] = token
                answer = self._query({"subscriptions": self._subscriptions, "query": query, "options": options})
                data = answer.get("data")
                if isinstance(data, list):
                    found.extend(row for row in data if isinstance(row, dict))  # objectArray: one dict per row
                truncated = str(answer.get("resultTruncated")).lower() == "true"
                token = answer.get("$skipToken") or None
                if not isinstance(token, str) or not token:
                    break
        if truncated:
            log.warning("%s: Resource Graph truncated the result at %d rows", doing, len(found))
        return found

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        """One page: the JSON object Resource Graph answered (an ``HttpResponseError`` for any other status)."""
        request = HttpRequest("POST", RESOURCES_PATH, params={"api-version": self._api_version}, json=body)
        # _send_request is the management clients' documented way to send a request of one's own
        response = self._client._send_request(request)
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=_ERROR_MAP)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        answer = response.json()
        if not isinstance(answer, dict):
            raise DecodeError("Resource Graph answered something other than a JSON object", response=response)
        return answer

    def configurations(
        self, *, name: str | None = None, repository: str | None = None, clusters: Sequence[ClusterRef] = ()
    ) -> list[FluxConfigState]:
        what = " ".join(
            p for p in ("named " + repr(name) if name else "", f"tracking '{repository}'" if repository else "") if p
        )
        doing = f"finding flux configurations {what or 'on every cluster'} in Azure Resource Graph"
        states = []
        if clusters:
            doing += f" on {len(clusters)} clusters"
        for row in self.rows(configurations_query(name=name, repository=repository, clusters=clusters), doing):
            cluster = cluster_of(str(row.get("id", "")))
            if cluster is not None:
                states.append(azure_flux.state_from_wire(cluster, row))
        return states

    def extensions(self, *, extension_type: str = "microsoft.flux") -> list[ExtensionState]:
        doing = f"finding {extension_type} extensions on every cluster in Azure Resource Graph"
        states = []
        for row in self.rows(extensions_query(extension_type=extension_type), doing):
            cluster = cluster_of(str(row.get("id", "")))
            if cluster is not None:
                states.append(azure_extensions.state_from_wire(cluster, row))
        return states
