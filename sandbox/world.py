"""The sandbox world: subscriptions, clusters and the ARM resources each cluster holds.

Everything here is plain in-memory state owned by one asyncio loop (the sandbox process).
The ARM emulator reads and writes it; the simulated Flux agent writes the status fields of
flux configurations; tests inspect it directly when they run the sandbox in-process.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import random
import secrets as _secrets
from dataclasses import dataclass, field
from typing import Any

#: cluster type (lower case) -> (resource provider, resource type) as ARM spells them
CLUSTER_TYPES: dict[str, tuple[str, str]] = {
    "managedclusters": ("Microsoft.ContainerService", "managedClusters"),
    "connectedclusters": ("Microsoft.Kubernetes", "connectedClusters"),
}

#: resource providers whose registration `doctor` checks
PROVIDERS = ("Microsoft.Kubernetes", "Microsoft.ContainerService", "Microsoft.KubernetesConfiguration")

DEFAULT_SUBSCRIPTION = "00000000-0000-4000-8000-0000000f1005"


def utc_now_iso(now: float) -> str:
    """ARM's timestamp format (UTC, milliseconds, trailing Z)."""
    micros = round(now * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    return f"{_utc_second(seconds)}.{fraction // 1000:03d}Z"


@functools.lru_cache(maxsize=8)
def _utc_second(seconds: int) -> str:
    # A fleet's agents stamp thousands of statuses a second: the date part is made once a second.
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class FluxConfigRecord:
    """One fluxConfigurations resource.

    ``properties`` is exactly what GET returns under ``properties`` (camelCase, status fields
    included). ``protected`` holds ``configurationProtectedSettings`` (values base64, as ARM takes
    them); it is never returned. ``generation`` grows with every accepted write so the simulated
    agent knows when it must reconcile again.
    """

    name: str
    properties: dict[str, Any]
    protected: dict[str, str] = field(repr=False)  # secrets: never in a repr or an assertion diff
    system_data: dict[str, Any]
    generation: int = 1
    #: the emulator made the SSH key (no key was given for an SSH source), as the flux agent does
    generated_key: bool = False


@dataclass
class ExtensionRecord:
    """One extensions resource (microsoft.flux or any other extension type)."""

    name: str
    properties: dict[str, Any]
    protected: dict[str, str] = field(repr=False)
    system_data: dict[str, Any]
    #: what the user asked for; ``properties`` shows the service's view (e.g. the resolved version)
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass
class V1ConfigRecord:
    """One Flux v1 sourceControlConfigurations resource (retired API, list/get/delete only)."""

    name: str
    properties: dict[str, Any]


@dataclass
class Cluster:
    """An AKS (managedClusters) or Arc (connectedClusters) cluster and what ARM holds for it."""

    subscription_id: str
    resource_group: str
    cluster_type: str  # "managedClusters" | "connectedClusters"
    name: str
    location: str = "westeurope"
    tags: dict[str, str] = field(default_factory=dict)
    flux_configs: dict[str, FluxConfigRecord] = field(default_factory=dict)  # key: name.lower()
    extensions: dict[str, ExtensionRecord] = field(default_factory=dict)  # key: name.lower()
    v1_configs: dict[str, V1ConfigRecord] = field(default_factory=dict)  # key: name.lower()
    #: Kubernetes secrets on the cluster, "namespace/name" -> data, for localAuthRef sources
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the bearer token its Kubernetes API accepts (listClusterUserCredential hands it out); rotating it
    #: expires the kubeconfigs given out before
    kube_token: str = field(default_factory=lambda: _secrets.token_urlsafe(24), repr=False)
    #: AKS with Microsoft Entra ID: the kubeconfig names the kubelogin exec plugin, the API wants an Entra token
    entra_auth: bool = False
    #: a private cluster: its API server has only a private address, unreachable from outside its network
    private_cluster: bool = False

    @property
    def kube_slug(self) -> str:
        """Its path segment on the sandbox's Kubernetes API server (stable, from the id)."""
        return hashlib.sha256(self.id.lower().encode()).hexdigest()[:16]

    @property
    def rp(self) -> str:
        return CLUSTER_TYPES[self.cluster_type.lower()][0]

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{self.rp}/{self.cluster_type}/{self.name}"
        )

    @property
    def key(self) -> tuple[str, str, str, str]:
        return cluster_key(self.subscription_id, self.resource_group, self.cluster_type, self.name)

    def has_flux_extension(self) -> ExtensionRecord | None:
        """The microsoft.flux extension of this cluster, whatever its name and state."""
        for ext in self.extensions.values():
            if str(ext.properties.get("extensionType", "")).lower() == "microsoft.flux":
                return ext
        return None


def cluster_key(subscription_id: str, resource_group: str, cluster_type: str, name: str) -> tuple[str, str, str, str]:
    """ARM ids are case-insensitive: every lookup goes through this key."""
    return (subscription_id.lower(), resource_group.lower(), cluster_type.lower(), name.lower())


@dataclass
class World:
    """All sandbox state the ARM emulator serves."""

    subscriptions: list[str] = field(default_factory=lambda: [DEFAULT_SUBSCRIPTION])
    clusters: dict[tuple[str, str, str, str], Cluster] = field(default_factory=dict)
    #: (subscription lower, provider namespace lower) -> "Registered" | "NotRegistered" | ...
    provider_state: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the sandbox's Kubernetes API server (https://host:port); cluster C is served under /clusters/{C.kube_slug}
    kube_api_url: str = ""

    def add_cluster(self, cluster: Cluster) -> Cluster:
        if cluster.cluster_type.lower() not in CLUSTER_TYPES:
            raise ValueError(f"unknown cluster type {cluster.cluster_type!r}")
        if cluster.subscription_id.lower() not in {s.lower() for s in self.subscriptions}:
            self.subscriptions.append(cluster.subscription_id)
        self.clusters[cluster.key] = cluster
        return cluster

    def find_cluster(
        self, subscription_id: str, resource_group: str, cluster_rp: str, cluster_type: str, name: str
    ) -> Cluster | None:
        """The cluster an ARM path names, or None; the provider must match the cluster type."""
        expected = CLUSTER_TYPES.get(cluster_type.lower())
        if expected is None or expected[0].lower() != cluster_rp.lower():
            return None
        return self.clusters.get(cluster_key(subscription_id, resource_group, cluster_type, name))

    def clusters_in(self, subscription_id: str) -> list[Cluster]:
        sub = subscription_id.lower()
        return [c for c in self.clusters.values() if c.subscription_id.lower() == sub]

    def provider_registration(self, subscription_id: str, namespace: str) -> str:
        return self.provider_state.get((subscription_id.lower(), namespace.lower()), "Registered")

    def add_fleet(self, count: int, *, seed: int = 7, resource_group: str = "fleet-rg") -> list[Cluster]:
        """A generated fleet of ``count`` clusters tagged env/region/team, for scale tests."""
        rng = random.Random(seed)
        regions = ["weu", "neu", "eus", "wus", "sea"]
        envs = ["dev", "staging", "prod"]
        made = []
        sub = self.subscriptions[0]
        for i in range(count):
            ctype = "managedClusters" if i % 3 else "connectedClusters"
            env = envs[i % len(envs)]
            region = regions[rng.randrange(len(regions))]
            made.append(
                self.add_cluster(
                    Cluster(
                        subscription_id=sub,
                        resource_group=resource_group,
                        cluster_type=ctype,
                        name=f"fleet-{i:04d}",
                        tags={"env": env, "region": region, "team": f"team-{i % 7}", "fleet": "true"},
                    )
                )
            )
        return made


def v1_config_properties(
    repository_url: str,
    operator_namespace: str,
    *,
    instance_name: str | None = None,
    operator_params: str = "--git-readonly",
    scope: str = "cluster",
    ssh_known_hosts: str = "",
    enable_helm_operator: bool = False,
    helm_chart_version: str = "",
    helm_chart_values: str = "",
    repository_public_key: str = "",
) -> dict[str, Any]:
    """The properties of a Flux v1 sourceControlConfiguration as ARM returned them (2023-05-01), with the
    fields the seed Flux v1 tutorial shows (operator instance, params and scope, known hosts, Helm operator)."""
    return {
        "repositoryUrl": repository_url,
        "operatorNamespace": operator_namespace,
        "operatorInstanceName": instance_name or operator_namespace,
        "operatorType": "Flux",
        "operatorParams": operator_params,
        "operatorScope": scope,
        "sshKnownHostsContents": ssh_known_hosts,
        "enableHelmOperator": enable_helm_operator,
        "helmOperatorProperties": {"chartVersion": helm_chart_version, "chartValues": helm_chart_values},
        "configurationProtectedSettings": {},
        "provisioningState": "Succeeded",
        "repositoryPublicKey": repository_public_key,
        "complianceStatus": {
            "complianceState": "Installed",
            "lastConfigApplied": "2023-01-01T00:00:00.000Z",
            "message": "Configuration installed successfully",
            "messageLevel": "Information",
        },
    }
