"""With ``multiTenancy.enforce`` on (the microsoft.flux extension's default), Flux refuses a Kustomization or
HelmRelease whose ``sourceRef`` is in another namespace: the pitfall the Flux v2 tutorial warns about."""

from __future__ import annotations

import yaml

from bot.preflight.findings import Finding
from bot.preflight.objects import Placed, placed
from bot.preflight.scope import Scope
from bot.preflight.tree import Tree, child, line_of, scalar

CHECK = "multi-tenancy"
#: a HelmRelease with this annotation gets the configuration's own source patched in (the tutorial's
#: "Use the GitRepository source for Helm charts"): whatever sourceRef it names is replaced
MANAGED_SOURCE = "clusterconfig.azure.com/use-managed-source"


def _source_refs(obj: Placed) -> list[yaml.Node]:
    node = obj.manifest.node
    if obj.manifest.kind == "Kustomization":
        refs = [child(node, "spec", "sourceRef")]
    else:
        if (scalar(node, "metadata", "annotations", MANAGED_SOURCE) or "").lower() == "true":
            return []
        refs = [child(node, "spec", "chart", "spec", "sourceRef"), child(node, "spec", "chartRef")]
    return [ref for ref in refs if ref is not None]


def cross_namespace_refs(tree: Tree, scope: Scope, default_namespace: str) -> list[Finding]:
    """Each sourceRef that names a namespace other than its object's, at the line of that ``namespace:``."""
    found = []
    for obj in placed(tree, scope, default_namespace, ("Kustomization", "HelmRelease")):
        for ref in _source_refs(obj):
            namespace = scalar(ref, "namespace")
            if namespace is None or namespace == obj.namespace:
                continue
            source = f"{scalar(ref, 'kind') or 'source'} {namespace}/{scalar(ref, 'name') or '?'}"
            node = child(ref, "namespace")
            assert node is not None
            message = (
                f"{obj.label} takes its source from another namespace ({source}); multi-tenancy is enforced "
                f"on the cluster, so Flux refuses it: put the source in namespace '{obj.namespace}'"
            )
            found.append(Finding(obj.manifest.path, line_of(node), message, CHECK))
    return found
