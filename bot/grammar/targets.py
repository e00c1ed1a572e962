"""The cluster flags every cluster command takes, as in az: ``-c/--cluster``, ``-g``, ``-t``."""

from __future__ import annotations

from bot.commands import ClusterTarget
from bot.grammar.flags import Flag, Options
from bot.models import ClusterType
from bot.usage import UsageError, code, shown
from bot.values import cluster_name, resource_group

CLUSTER_FLAGS: tuple[Flag, ...] = (
    Flag("cluster", ("--cluster", "-c", "--cluster-name"), metavar="CLUSTER"),
    Flag("resource_group", ("--resource-group", "-g"), metavar="RESOURCE_GROUP"),
    Flag("cluster_type", ("--cluster-type", "-t"), metavar="managedClusters|connectedClusters"),
)

_TYPES = {
    "managedclusters": ClusterType.MANAGED,
    "managed": ClusterType.MANAGED,
    "aks": ClusterType.MANAGED,
    "connectedclusters": ClusterType.CONNECTED,
    "connected": ClusterType.CONNECTED,
    "arc": ClusterType.CONNECTED,
}


def cluster_type(value: str) -> ClusterType:
    """``managedClusters`` (AKS) or ``connectedClusters`` (Arc), any case; ``aks`` and ``arc`` too."""
    found = _TYPES.get(value.lower())
    if found is None:
        unsupported = value.lower() in ("provisionedclusters", "appliances")
        raise UsageError(
            f"`-t` takes `managedClusters` (AKS) or `connectedClusters` (Azure Arc), not {shown(value)}.",
            hint="fluxops manages AKS and Arc clusters only." if unsupported else "",
        )
    return found


def cluster_target(options: Options) -> ClusterTarget:
    """The cluster the options name; ``-c`` is required."""
    name = options.value("cluster")
    if name is None:
        raise UsageError(
            "Which cluster? `-c CLUSTER` is required.",
            hint="Give an inventory alias, a cluster name or an ARM id; `/flux clusters` lists them.",
            usage=True,
        )
    name = cluster_name(name, code(options.spelled("cluster")))
    group = options.value("resource_group")
    kind_text = options.value("cluster_type")
    group = resource_group(group, code(options.spelled("resource_group"))) if group is not None else None
    kind = cluster_type(kind_text) if kind_text is not None else None
    if name.startswith("/"):
        _agrees_with_id(name, group, kind)
    return ClusterTarget(name, group, kind)


def _agrees_with_id(arm_id: str, group: str | None, kind: ClusterType | None) -> None:
    parts = arm_id.split("/")
    if group is not None and group.lower() != parts[4].lower():
        raise UsageError(f"`-g {group}` contradicts the resource group in the cluster id ({parts[4]}).")
    if kind is not None and kind.value.lower() != parts[7].lower():
        raise UsageError(f"`-t {kind.value}` contradicts the cluster type in the cluster id ({parts[7]}).")
