"""The sandbox's starting world: the seed tutorial's clusters and repositories."""

from __future__ import annotations

from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.tutorial_repo import tutorial_files
from sandbox.v1_demo_repo import V1_DEMO_BRANCH, V1_DEMO_SLUG, v1_demo_files
from sandbox.world import Cluster, V1ConfigRecord, World, v1_config_properties

TUTORIAL_RG = "flux-demo-rg"
TUTORIAL_ARC = "flux-demo-arc"
TUTORIAL_AKS = "flux-demo-aks"
LEGACY_ARC = "legacy-arc"
TUTORIAL_REPO = "Azure/gitops-flux2-kustomize-helm-mt"
TUTORIAL_URL = f"https://github.com/{TUTORIAL_REPO}"
PRIVATE_REPO = "fluxops-sandbox/private-gitops"


def seed_world(world: World, repos: RepoStore, access: GitAccess, *, fleet: int = 0) -> None:
    """The tutorial's Arc cluster and an AKS cluster in flux-demo-rg, an Arc cluster still on
    Flux v1, the tutorial's public repository, a private copy of it, and ``fleet`` generated clusters."""
    sub = world.subscriptions[0]
    world.add_cluster(
        Cluster(sub, TUTORIAL_RG, "connectedClusters", TUTORIAL_ARC, tags={"env": "demo", "region": "weu"})
    )
    world.add_cluster(Cluster(sub, TUTORIAL_RG, "managedClusters", TUTORIAL_AKS, tags={"env": "demo", "region": "weu"}))
    legacy = world.add_cluster(
        Cluster(sub, TUTORIAL_RG, "connectedClusters", LEGACY_ARC, tags={"env": "legacy", "region": "neu"})
    )
    legacy.v1_configs["cluster-config"] = V1ConfigRecord(
        name="cluster-config",
        properties=v1_config_properties("https://github.com/Azure/arc-k8s-demo", "cluster-config"),
    )
    if fleet:
        world.add_fleet(fleet)
    files = tutorial_files()
    repos.create_repo(TUTORIAL_REPO, files, private=False)
    repos.create_repo(PRIVATE_REPO, files, private=True)
    # what legacy-arc's Flux v1 configuration reads (and `/flux v1 migrate` then reads with Flux v2)
    repos.create_repo(V1_DEMO_SLUG, v1_demo_files(), private=False, branch=V1_DEMO_BRANCH)
