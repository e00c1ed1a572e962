"""The Flux v1 tutorial's repository (https://github.com/Azure/arc-k8s-demo), as legacy-arc's v1 configuration reads
it: manifests on branch ``master`` (the v1 operator's default), namespaces for three teams and an app, applied from
the repository root. A `/flux v1 migrate` to Flux v2 reads the same branch and path."""

from __future__ import annotations

from textwrap import dedent

V1_DEMO_SLUG = "Azure/arc-k8s-demo"
V1_DEMO_BRANCH = "master"


def _namespace(name: str) -> str:
    return dedent(f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {name}
        """)


def v1_demo_files() -> dict[str, str]:
    """The repository's files by path."""
    files = {f"namespaces/{team}.yaml": _namespace(team) for team in ("team-a", "team-b", "itops")}
    files["cluster-apps/azure-vote.yaml"] = dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: azure-vote-front
          namespace: team-a
        spec:
          replicas: 1
          selector:
            matchLabels: {app: azure-vote-front}
          template:
            metadata:
              labels: {app: azure-vote-front}
            spec:
              containers:
                - name: azure-vote-front
                  image: mcr.microsoft.com/azuredocs/azure-vote-front:v1
        """)
    files["README.md"] = "# arc-k8s-demo\n\nManifests the Flux v1 tutorial applies to an Azure Arc cluster.\n"
    return files
