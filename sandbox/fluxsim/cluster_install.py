"""What an installed ``microsoft.flux`` extension and Flux v1 leftovers put in a cluster, as Kubernetes objects.

The extension: the Flux CRDs (``gitrepositories.source.toolkit.fluxcd.io`` ...) and the controllers'
Deployments in ``flux-system`` (source, kustomize, helm and notification controllers, the Azure
fluxconfig-agent and fluxconfig-controller), their image tags following the extension's version
(:data:`FLUX_VERSIONS`, the sandbox's table), ready once the extension's install has succeeded.

Flux v1 (``sourceControlConfigurations``), as the seed Flux v1 tutorial shows them on a cluster: the operator
namespace with a Deployment named like the operator instance (container ``flux``, labels ``name=flux`` and
``instanceName``), ``memcached``, and ``helm-operator`` when the configuration enables it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.cluster_objects import FLUX_RESOURCES
from sandbox.kubeapi import resources
from sandbox.kubeapi.store import ClusterKey, KubeStore, Resource
from sandbox.world import ExtensionRecord, V1ConfigRecord

FLUX_NAMESPACE = "flux-system"
#: microsoft.flux minor version -> (Flux release, source, kustomize, helm, notification controller versions)
FLUX_VERSIONS: dict[str, tuple[str, str, str, str, str]] = {
    "1.13": ("v2.3.0", "v1.3.0", "v1.3.0", "v1.0.1", "v1.3.0"),
    "1.14": ("v2.4.0", "v1.4.1", "v1.4.0", "v1.1.0", "v1.4.0"),
    "1.15": ("v2.5.1", "v1.5.0", "v1.5.1", "v1.2.0", "v1.5.0"),
    "1.16": ("v2.6.4", "v1.6.2", "v1.6.1", "v1.3.0", "v1.6.0"),
    "1.17": ("v2.7.2", "v1.7.1", "v1.7.0", "v1.4.0", "v1.7.1"),
    "1.18": ("v2.7.3", "v1.7.2", "v1.7.1", "v1.4.1", "v1.7.2"),
}
#: CRDs the controllers serve besides the Flux kinds fluxops reads: (group, version, plural, kind)
_OTHER_CRDS = (
    ("notification.toolkit.fluxcd.io", "v1beta3", "alerts", "Alert"),
    ("notification.toolkit.fluxcd.io", "v1beta3", "providers", "Provider"),
    ("notification.toolkit.fluxcd.io", "v1", "receivers", "Receiver"),
    ("fluxconfig.azure.com", "v1alpha1", "fluxconfigs", "FluxConfig"),
)
_V1_FLUX_IMAGE = "docker.io/fluxcd/flux:1.16.0"
_MEMCACHED_IMAGE = "memcached:1.5.15"
_HELM_OPERATOR_IMAGE = "docker.io/fluxcd/helm-operator:1.4.4"


def flux_versions(extension_version: str | None) -> tuple[str, str, str, str, str]:
    """The Flux release and controller versions a microsoft.flux version ships (the newest for unknown ones)."""
    minor = ".".join(str(extension_version or "").split(".")[:2])
    return FLUX_VERSIONS.get(minor) or FLUX_VERSIONS[max(FLUX_VERSIONS, key=lambda v: tuple(map(int, v.split("."))))]


def _enabled(settings: dict[str, Any], component: str, *, default: bool) -> bool:
    value = str(settings.get(f"{component}.enabled", "")).lower()
    return default if value not in ("true", "false") else value == "true"


def deployment(
    name: str,
    namespace: str,
    *,
    container: str,
    image: str,
    labels: dict[str, str],
    ready: bool,
    replicas: int = 1,
) -> dict[str, Any]:
    """An apps/v1 Deployment with one container, its status as the deployment controller reports it."""
    ready_replicas = replicas if ready else 0
    status: dict[str, Any] = {
        "observedGeneration": 1,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": ready_replicas,
        "availableReplicas": ready_replicas,
        "conditions": [
            {
                "type": "Available",
                "status": "True" if ready else "False",
                "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if ready
                else "Deployment does not have minimum availability.",
            }
        ],
    }
    if not ready:
        status["unavailableReplicas"] = replicas
        del status["readyReplicas"]  # the deployment controller leaves zero counts out
        del status["availableReplicas"]
    selector = {k: v for k, v in labels.items() if k in ("app", "name", "instanceName")} or {"app": name}
    return {
        "metadata": {"name": name, "namespace": namespace, "generation": 1, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**labels, **selector}},
                "spec": {"containers": [{"name": container, "image": image}]},
            },
        },
        "status": status,
    }


def _crd(group: str, version: str, plural: str, kind: str, part_of: str, flux_version: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"{plural}.{group}",
            "labels": {
                "app.kubernetes.io/part-of": part_of,
                "app.kubernetes.io/version": flux_version,
                "app.kubernetes.io/instance": FLUX_NAMESPACE,
            },
        },
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [{"name": version, "served": True, "storage": True, "subresources": {"status": {}}}],
        },
        "status": {
            "acceptedNames": {"kind": kind, "plural": plural},
            "conditions": [
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"},
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
            ],
            "storedVersions": [version],
        },
    }


class ClusterInstall:
    """Writes and removes the extension's and Flux v1's objects of each cluster."""

    def __init__(self, kube: KubeStore) -> None:
        self.kube = kube
        #: cluster -> the (resource, namespace, name) the extension put there
        self._extension: dict[ClusterKey, set[tuple[Resource, str, str]]] = {}
        #: (cluster, v1 configuration name lower) -> the (resource, namespace, name) its operator put there
        self._v1: dict[tuple[ClusterKey, str], set[tuple[Resource, str, str]]] = {}

    # -- microsoft.flux -----------------------------------------------------------------------

    def extension(self, cluster: ClusterKey, record: ExtensionRecord | None) -> None:
        """The cluster's microsoft.flux extension is now ``record`` (None: uninstalled): sync its objects."""
        written: set[tuple[Resource, str, str]] = set()
        state = str(record.properties.get("provisioningState")) if record is not None else ""
        if record is not None and state not in ("Creating", "Deleting"):
            written = self._install(cluster, record, ready=state == "Succeeded")
        for resource, namespace, name in self._extension.get(cluster, set()) - written:
            self.kube.delete(cluster, resource, namespace, name)
        if written:
            self._extension[cluster] = written
        else:
            self._extension.pop(cluster, None)

    def _install(self, cluster: ClusterKey, record: ExtensionRecord, *, ready: bool) -> set[tuple[Resource, str, str]]:
        version = str(record.properties.get("currentVersion") or record.properties.get("version") or "")
        flux, source, kustomize, helm, notification = flux_versions(version)
        settings = dict(record.properties.get("configurationSettings") or {})
        written: set[tuple[Resource, str, str]] = set()
        self.kube.put(
            cluster,
            resources.NAMESPACES,
            {
                "metadata": {
                    "name": FLUX_NAMESPACE,
                    "labels": {"kubernetes.io/metadata.name": FLUX_NAMESPACE, "app.kubernetes.io/part-of": "flux"},
                },
                "status": {"phase": "Active"},
            },
        )
        written.add((resources.NAMESPACES, "", FLUX_NAMESPACE))
        crds = [(g, v, p, k) for k, (g, v, p) in FLUX_RESOURCES.items()] + list(_OTHER_CRDS)
        for group, api_version, plural, kind in crds:
            part_of = "azure" if group.endswith("azure.com") else "flux"
            self.kube.put(cluster, resources.CRDS, _crd(group, api_version, plural, kind, part_of, flux))
            written.add((resources.CRDS, "", f"{plural}.{group}"))
        controllers = {
            "source-controller": (source, True),
            "kustomize-controller": (kustomize, True),
            "helm-controller": (helm, True),
            "notification-controller": (notification, True),
            "image-automation-controller": ("v0.39.0", False),
            "image-reflector-controller": ("v0.33.0", False),
        }
        for name, (tag, default) in controllers.items():
            if not _enabled(settings, name, default=default):
                continue
            labels = {
                "app": name,
                "app.kubernetes.io/component": name,
                "app.kubernetes.io/part-of": "flux",
                "app.kubernetes.io/version": flux,
                "app.kubernetes.io/managed-by": "Helm",
                "control-plane": "controller",
            }
            image = f"mcr.microsoft.com/oss/fluxcd/{name}:{tag}"
            self._deployment(cluster, written, name, container="manager", image=image, labels=labels, ready=ready)
        for name in ("fluxconfig-agent", "fluxconfig-controller"):
            labels = {
                "app": name,
                "app.kubernetes.io/component": name,
                "app.kubernetes.io/part-of": "azure-flux-extension",
                "app.kubernetes.io/version": version,
                "app.kubernetes.io/managed-by": "Helm",
            }
            image = f"mcr.microsoft.com/azurek8sflux/{name}:{version or 'latest'}"
            self._deployment(cluster, written, name, container=name, image=image, labels=labels, ready=ready)
        return written

    def _deployment(
        self,
        cluster: ClusterKey,
        written: set[tuple[Resource, str, str]],
        name: str,
        *,
        container: str,
        image: str,
        labels: dict[str, str],
        ready: bool,
        namespace: str = FLUX_NAMESPACE,
    ) -> None:
        obj = deployment(name, namespace, container=container, image=image, labels=labels, ready=ready)
        self.kube.put(cluster, resources.DEPLOYMENTS, obj)
        written.add((resources.DEPLOYMENTS, namespace, name))

    # -- Flux v1 ------------------------------------------------------------------------------

    def v1_operator(self, cluster: ClusterKey, record: V1ConfigRecord) -> None:
        """The operator a Flux v1 configuration deployed: its namespace, flux, memcached, helm-operator."""
        props = record.properties
        namespace = str(props.get("operatorNamespace") or "default")
        instance = str(props.get("operatorInstanceName") or record.name)
        written: set[tuple[Resource, str, str]] = set()
        self.kube.put(
            cluster,
            resources.NAMESPACES,
            {
                "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace}},
                "status": {"phase": "Active"},
            },
        )
        base = {"instanceName": instance, "app.kubernetes.io/managed-by": "azure-arc-config-agent"}
        self._deployment(
            cluster,
            written,
            instance,
            container="flux",
            image=_V1_FLUX_IMAGE,
            labels={"name": "flux", **base},
            ready=True,
            namespace=namespace,
        )
        self._deployment(
            cluster,
            written,
            "memcached",
            container="memcached",
            image=_MEMCACHED_IMAGE,
            labels={"name": "memcached", **base},
            ready=True,
            namespace=namespace,
        )
        if props.get("enableHelmOperator"):
            self._deployment(
                cluster,
                written,
                "helm-operator",
                container="flux-helm-operator",
                image=_HELM_OPERATOR_IMAGE,
                labels={"name": "helm-operator", **base},
                ready=True,
                namespace=namespace,
            )
        self._v1[(cluster, record.name.lower())] = written

    def v1_sync(self, cluster: ClusterKey, records: Mapping[str, V1ConfigRecord]) -> None:
        """The operators of exactly these Flux v1 configurations (keys: lower-case names)."""
        for name in [n for c, n in self._v1 if c == cluster and n not in records]:
            self.v1_deleted(cluster, name)
        for record in records.values():
            self.v1_operator(cluster, record)

    def v1_deleted(self, cluster: ClusterKey, name: str) -> None:
        """A Flux v1 configuration was deleted: its operator's Deployments go (its namespace stays, as Arc
        leaves namespaces it did not make for the configuration's workloads)."""
        for resource, namespace, obj_name in self._v1.pop((cluster, name.lower()), set()):
            self.kube.delete(cluster, resource, namespace, obj_name)
