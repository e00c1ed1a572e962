"""The discovery documents a Kubernetes API server serves (``/api``, ``/apis``, ``/version``, ...)."""

from __future__ import annotations

from typing import Any

from sandbox.kubeapi.resources import ALL
from sandbox.kubeapi.store import Resource

#: what this server does with every resource it serves (create, update, delete are not served)
VERBS = ["get", "list", "patch", "watch"]
SHORT_NAMES = {
    "namespaces": ["ns"],
    "events": ["ev"],
    "deployments": ["deploy"],
    "customresourcedefinitions": ["crd", "crds"],
    "gitrepositories": ["gitrepo"],
    "helmrepositories": ["helmrepo"],
    "helmcharts": ["hc"],
    "ocirepositories": ["ocirepo"],
    "kustomizations": ["ks"],
    "helmreleases": ["hr"],
}
VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.2",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-10-22T20:35:25Z",
    "goVersion": "go1.22.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def group_versions() -> dict[str, list[str]]:
    """Named API group -> its versions, in the order resources are listed."""
    groups: dict[str, list[str]] = {}
    for resource in ALL:
        if resource.group and resource.version not in groups.setdefault(resource.group, []):
            groups[resource.group].append(resource.version)
    return groups


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list() -> dict[str, Any]:
    """``GET /apis``."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, versions) for name, versions in group_versions().items()],
    }


def api_group(name: str) -> dict[str, Any] | None:
    """``GET /apis/{group}``; None for a group not served."""
    versions = group_versions().get(name)
    return None if versions is None else {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _resource_entry(resource: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.kind.lower(),
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": VERBS,
    }
    if resource.plural in SHORT_NAMES:
        entry["shortNames"] = SHORT_NAMES[resource.plural]
    return entry


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` (group "") or ``GET /apis/{group}/{version}``; None when nothing is served there."""
    resources = [r for r in ALL if (r.group, r.version) == (group, version)]
    if not resources:
        return None
    body: dict[str, Any] = {
        "kind": "APIResourceList",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [_resource_entry(r) for r in resources],
    }
    if group:
        body["apiVersion"] = "v1"
    return body
