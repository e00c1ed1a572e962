"""Clusters, states and fleets shared by the plan and renderer tests."""

from __future__ import annotations

from dataclasses import replace

from bot.fleet import ActualCluster, FleetSpec, load_fleet
from bot.models import ClusterRef, ClusterType, ExtensionState, FluxConfigSpec, FluxConfigState

SUB = "00000000-0000-0000-0000-000000000000"
ARC = ClusterRef(SUB, "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc")
AKS = ClusterRef(SUB, "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")
PROD = ClusterRef(SUB, "rg-prod", ClusterType.MANAGED, "aks-prod-weu")

HEAD = "apiVersion: fluxops.io/v1\nkind: Fleet\nclusters:\n"

TUTORIAL = """\
  demo-arc:
    configurations:
      cluster-config:
        namespace: cluster-config
        source:
          url: https://github.com/Azure/gitops-flux2-kustomize-helm-mt
          branch: main
        kustomizations:
          infra:
            path: ./infrastructure
            prune: true
          apps:
            path: ./apps/staging
            prune: true
            dependsOn: [infra]
"""


def fleet(*clusters: str) -> FleetSpec:
    body = "".join(clusters)
    return load_fleet({"clusters/fleet.yaml": HEAD + body if body else HEAD.replace("clusters:", "clusters: {}")})


def tutorial(**changes: str) -> str:
    text = TUTORIAL
    for old, new in changes.items():
        text = text.replace(old.replace("__", " "), new)
    return text


def state(cluster: ClusterRef, spec: FluxConfigSpec) -> FluxConfigState:
    return FluxConfigState(
        cluster=cluster,
        spec=spec,
        source_kind="GitRepository",
        provisioning_state="Succeeded",
        compliance_state="Compliant",
    )


def extension(cluster: ClusterRef, *settings: tuple[str, str], **fields: object) -> ExtensionState:
    base = ExtensionState(
        cluster=cluster,
        name="flux",
        extension_type="microsoft.flux",
        provisioning_state="Succeeded",
        version=None,
        current_version="1.13.1",
        auto_upgrade_minor_version=True,
        release_train="Stable",
        settings=tuple(settings),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def running(
    label: str, cluster: ClusterRef, *specs: FluxConfigSpec, ext: ExtensionState | None = None
) -> ActualCluster:
    """A cluster running ``specs`` with the flux extension installed (unless ``ext`` says otherwise)."""
    return ActualCluster(label, cluster, tuple(state(cluster, s) for s in specs), ext or extension(cluster))


def tutorial_spec() -> FluxConfigSpec:
    return fleet(TUTORIAL)["demo-arc"].configurations[0]
