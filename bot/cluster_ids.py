"""Clusters as Azure names them: ARM ids, cluster types, and the matching rules of names and tags."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from bot.models import ClusterRef, ClusterType

_TYPE_WORDS = {"aks": ClusterType.MANAGED, "arc": ClusterType.CONNECTED}


def parse_cluster_type(text: str) -> ClusterType:
    """managedClusters | connectedClusters (any case), or the short words aks | arc."""
    word = _TYPE_WORDS.get(text.strip().lower())
    return word if word is not None else ClusterType.parse(text.strip())


def parse_cluster_id(arm_id: str) -> ClusterRef:
    """``/subscriptions/S/resourceGroups/G/providers/RP/TYPE/NAME`` -> ClusterRef; ValueError when it is not one."""
    parts = [p for p in arm_id.strip().split("/") if p]
    if len(parts) != 8 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        raise ValueError(
            "a cluster id looks like /subscriptions/<sub>/resourceGroups/<rg>/providers/"
            "Microsoft.Kubernetes/connectedClusters/<name> (or Microsoft.ContainerService/managedClusters)"
        )
    if parts[4].lower() != "providers":
        raise ValueError(f"expected 'providers' after the resource group, not '{parts[4]}'")
    ctype = ClusterType.parse(parts[6])
    if parts[5].lower() != ctype.resource_provider.lower():
        raise ValueError(f"{ctype.value} belong to {ctype.resource_provider}, not {parts[5]}")
    return ClusterRef(parts[1], parts[3], ctype, parts[7])


def glob_match(value: str, pattern: str) -> bool:
    """fnmatch glob, case-insensitive (Azure names and resource groups are)."""
    return fnmatch.fnmatchcase(value.casefold(), pattern.casefold())


def tag_value(tags: Mapping[str, str], key: str) -> str | None:
    """The value of tag ``key``; tag names are case-insensitive in Azure, values are not."""
    if key in tags:
        return tags[key]
    folded = key.casefold()
    return next((v for k, v in tags.items() if k.casefold() == folded), None)
