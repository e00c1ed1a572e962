"""The resource types the sandbox's Kubernetes API serves, defined once.

The simulated Flux writes objects into the KubeStore under these values and the API server serves them, so
both sides must use the same ``Resource`` (it is part of the store's key).
"""

from __future__ import annotations

from bot.cluster_objects import FLUX_RESOURCES
from sandbox.kubeapi.store import Resource

NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
EVENTS = Resource("", "v1", "events", "Event")
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)

#: Flux kind ("GitRepository", "Kustomization", ...) -> its resource, from bot.cluster_objects.FLUX_RESOURCES
FLUX: dict[str, Resource] = {
    kind: Resource(group, version, plural, kind) for kind, (group, version, plural) in FLUX_RESOURCES.items()
}

#: everything served, in discovery order
ALL: tuple[Resource, ...] = (NAMESPACES, EVENTS, DEPLOYMENTS, CRDS, *FLUX.values())


def find(group: str, version: str, plural: str) -> Resource | None:
    """The served resource at ``/apis/{group}/{version}/{plural}`` (``group`` "" for ``/api/v1``), or None."""
    for resource in ALL:
        if (resource.group, resource.version, resource.plural) == (group, version, plural):
            return resource
    return None
