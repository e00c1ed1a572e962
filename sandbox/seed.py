"""The sandbox's starting world: the seed tutorial's clusters and repositories."""

from __future__ import annotations

from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.tutorial_repo import tutorial_files
from sandbox.world import Cluster, V1ConfigRecord, World, v1_config_properties

TUTORIAL_RG = "flux-demo-rg"
TUTORIAL_ARC = "flux-demo-arc"
TUTORIAL_AKS = "flux-demo-aks"
LEGACY_ARC = "legacy-arc"
TUTORIAL_REPO = "Azure/gitops-flux2-kustomize-helm-mt"
TUTORIAL_URL = f"https://github.com/{TUTORIAL_REPO}"
PRIVATE_REPO = "fluxops-sandbox/private-gitops"
#: the Flux v1 tutorial's repository (Flux v1 syncs its "master" branch by default)
V1_DEMO_REPO = "Azure/arc-k8s-demo"
V1_DEMO_URL = f"https://github.com/{V1_DEMO_REPO}"
V1_DEMO_FILES = {
    "README.md": "# arc-k8s-demo\n\nNamespaces and a config map per team, as the Flux v1 tutorial applies them.\n",
    **{
        f"namespaces/{team}.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {team}\n"
        for team in ("team-a", "team-b", "itops")
    },
    "team-a/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: endpoints\n  namespace: team-a\n"
        "data:\n  database_url: team-a.contoso.example\n"
    ),
    "itops/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: endpoints\n  namespace: itops\n"
        "data:\n  monitoring_url: itops.contoso.example\n"
    ),
}


def seed_world(world: World, repos: RepoStore, access: GitAccess, *, fleet: int = 0) -> None:
    """The tutorial's Arc cluster and an AKS cluster in flux-demo-rg, an Arc cluster still on
    Flux v1, the tutorial's public repository, a private copy of it, and ``fleet`` generated clusters."""
    sub = world.subscriptions[0]
    world.add_cluster(
        Cluster(sub, TUTORIAL_RG, "connectedClusters", TUTORIAL_ARC, tags={"env": "demo", "region": "weu"})
    )
    # AKS with Microsoft Entra ID: its kubeconfig names the kubelogin plugin (tests make clusters private)
    world.add_cluster(
        Cluster(
            sub, TUTORIAL_RG, "managedClusters", TUTORIAL_AKS, tags={"env": "demo", "region": "weu"}, entra_auth=True
        )
    )
    legacy = world.add_cluster(
        Cluster(sub, TUTORIAL_RG, "connectedClusters", LEGACY_ARC, tags={"env": "legacy", "region": "neu"})
    )
    # the Flux v1 tutorial's configuration, its operator still running on the cluster
    legacy.v1_configs["cluster-config"] = V1ConfigRecord(
        name="cluster-config",
        properties=v1_config_properties(V1_DEMO_URL, "cluster-config"),
    )
    if fleet:
        world.add_fleet(fleet)
    files = tutorial_files()
    repos.create_repo(TUTORIAL_REPO, files, private=False)
    repos.create_repo(PRIVATE_REPO, files, private=True)
    repos.create_repo(V1_DEMO_REPO, V1_DEMO_FILES, private=False, branch="master")
