"""Counting what the Azure adapters ask of ARM: an azure-core policy in every management client's pipeline.

It runs per attempt (after the SDK's retry policy, like workers/arm_pacing.py), so a 429 that the SDK retries
is counted as it happened. Each request is counted by method, resource type and status; each answer's
``x-ms-ratelimit-remaining-subscription-*`` header sets the subscription's remaining-budget gauge.

The resource type is the chain of ARM resource types in the path (``fluxconfigurations``,
``fluxconfigurations/operations``, ``connectedclusters/listclusterusercredential``), each from a fixed list:
names of clusters and configurations never become label values.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

from workers.arm_pacing import KIND_OF_METHOD, RESOURCE_GRAPH_PATH
from workers.metrics import ARM_REMAINING, ARM_REQUESTS, ARM_THROTTLED

#: the ARM resource types (and actions) fluxops' adapters address, lower case; any other is "other"
RESOURCE_TYPES = frozenset(
    {
        "fluxconfigurations",
        "extensions",
        "sourcecontrolconfigurations",
        "operations",
        "operationstatuses",
        "managedclusters",
        "connectedclusters",
        "listclusterusercredential",
        "listclusterusercredentials",
        "resources",
        "resourcegroups",
        "register",
        "providers",
    }
)
_SUBSCRIPTION = re.compile(r"/subscriptions/([0-9A-Fa-f-]{36})(?:/|$)")
_REMAINING = ("writes", "deletes", "reads")
_METHODS = frozenset({"GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"})


def resource_type(path: str) -> str:
    """The chain of resource types an ARM path addresses, lower case (``fluxconfigurations/operations``)."""
    parts = [p.lower() for p in path.split("/") if p]
    if RESOURCE_GRAPH_PATH.strip("/") in "/".join(parts):
        return "resourcegraph"
    # the types of the innermost provider: /providers/{namespace}/{type}/{name}/{type}/...
    last = max((i for i, p in enumerate(parts) if p == "providers"), default=-1)
    if last < 0:
        types = parts[2::2] if parts[:1] == ["subscriptions"] else []  # /subscriptions/{id}/resourcegroups/...
    elif last + 1 >= len(parts):
        types = ["providers"]
    else:
        types = parts[last + 2 :: 2] or ["providers"]  # /subscriptions/{id}/providers/{namespace}: a provider
    return "/".join(t if t in RESOURCE_TYPES else "other" for t in types[:3]) or "other"


def budget_kind(method: str) -> str:
    """The ARM budget a request spends from: reads, writes or deletes."""
    return KIND_OF_METHOD.get(method, "reads")


class ArmMetering(HTTPPolicy[Any, Any]):
    """Counts every attempt at an ARM request, and records what ARM says about the budget left."""

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        http = request.http_request
        method = http.method.upper()
        method_label = method if method in _METHODS else "other"
        path = urlsplit(http.url).path
        resource = resource_type(path)
        try:
            response = self.next.send(request)
        except Exception:
            ARM_REQUESTS.labels(method_label, resource, "none").inc()
            raise
        answer = response.http_response
        status = answer.status_code
        ARM_REQUESTS.labels(method_label, resource, str(status) if 100 <= status < 600 else "other").inc()
        if status == 429:
            ARM_THROTTLED.labels(budget_kind(method)).inc()
        found = _SUBSCRIPTION.search(path)
        if found is not None:
            for kind in _REMAINING:
                remaining = _count(answer.headers.get(f"x-ms-ratelimit-remaining-subscription-{kind}"))
                if remaining is not None:
                    ARM_REMAINING.labels(found.group(1).lower(), kind).set(remaining)
        return response


def _count(header: str | None) -> int | None:
    """A header's non-negative integer, or None (absent or malformed: never trusted further)."""
    if header is None or not header.isdigit() or len(header) > 9:
        return None
    return int(header)
