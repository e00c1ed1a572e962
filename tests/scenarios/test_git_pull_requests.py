"""Config-as-code through pull requests on the fleet repository: the plan comment, `/flux apply` refused
for people and PRs that may not apply, applied for an authorized one, and `/flux` commands in PR comments;
on GitHub and on Azure DevOps, through the real stack."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import NotFound
from bot.models import ClusterRef, ClusterType
from sandbox.stack import (
    ADO_ADMIN,
    ADO_FLEET,
    ADO_VIEWER,
    GITHUB_ADMIN,
    GITHUB_FLEET,
    GITHUB_OPERATOR,
    GITHUB_OUTSIDER,
    Stack,
)
from tests.scenarios.git_helpers import ado, github, wait_for
from workers.azure_flux import AzureFluxConfigs

TUTORIAL_URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"


def fleet_yaml(config: str, apps_path: str = "./apps/staging") -> str:
    return f"""\
apiVersion: fluxops.io/v1
kind: Fleet
clusters:
  flux-demo-aks:
    configurations:
      {config}:
        namespace: {config}
        source:
          kind: git
          url: {TUTORIAL_URL}
          branch: main
        kustomizations:
          infra:
            path: ./infrastructure
            prune: true
          apps:
            path: {apps_path}
            prune: true
            dependsOn: [infra]
"""


@pytest.fixture
def aks(stack: Stack) -> ClusterRef:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    return ClusterRef(endpoints.subscription_id, "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")


def gh_comments(stack: Stack, number: int) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = github(stack, "GET", "comments", repo=GITHUB_FLEET, number=number)
    return comments


def gh_reply_after(stack: Stack, number: int, after_id: int, needle: str) -> dict[str, Any]:
    """fluxops' reply (a comment after ``after_id``) once it contains ``needle``."""

    def found() -> list[dict[str, Any]]:
        return [
            c
            for c in gh_comments(stack, number)
            if c["id"] > after_id and c["author"] == "fluxops-bot" and needle in c["body"]
        ]

    return wait_for(f"a reply containing {needle!r}", found)[0]


def gh_comment(stack: Stack, number: int, author: str, body: str) -> int:
    outcome = github(stack, "POST", "comment", repo=GITHUB_FLEET, number=number, author=author, body=body)
    return int(outcome["id"])


def test_github_fleet_pull_request_plan_and_apply(stack: Stack, arm_flux: AzureFluxConfigs, aks: ClusterRef) -> None:
    opened = github(
        stack,
        "POST",
        "pulls",
        repo=GITHUB_FLEET,
        head="add-gh-fleet",
        title="Run gh-fleet on the AKS cluster",
        author=GITHUB_OPERATOR,
        files={"clusters/aks.yaml": fleet_yaml("gh-fleet")},
    )
    number = int(opened["number"])

    plan = wait_for(
        "the plan comment",
        lambda: [
            c for c in gh_comments(stack, number) if "<!-- fluxops:plan -->" in c["body"] and "gh-fleet" in c["body"]
        ],
    )[0]
    assert "flux-demo-aks" in plan["body"] and "create" in plan["body"].lower()

    # not approved yet: refused, nothing changes
    asked = gh_comment(stack, number, GITHUB_ADMIN, "/flux apply")
    refusal = gh_reply_after(stack, number, asked, "not approved")
    assert refusal
    with pytest.raises(NotFound):
        arm_flux.get(aks, "gh-fleet")

    github(stack, "POST", "review", repo=GITHUB_FLEET, number=number, reviewer=GITHUB_ADMIN, state="APPROVED")

    # approved, but the commenter only has read access: refused, nothing changes
    asked = gh_comment(stack, number, GITHUB_OUTSIDER, "/flux apply")
    assert gh_reply_after(stack, number, asked, "read access")
    with pytest.raises(NotFound):
        arm_flux.get(aks, "gh-fleet")

    # an admin applies it: created in Azure, reconciled, and reported on the PR
    asked = gh_comment(stack, number, GITHUB_ADMIN, "/flux apply\nlooks good, shipping it")
    done = gh_reply_after(stack, number, asked, "1/1 clusters done")
    assert "Succeeded" in done["body"] and "flux-demo-aks" in done["body"] and "1 to create" in done["body"]
    state = arm_flux.get(aks, "gh-fleet")
    assert state.compliance_state == "Compliant"
    commented = next(c for c in gh_comments(stack, number) if c["id"] == asked)
    assert {"user": "fluxops-bot", "content": "eyes"} in commented["reactions"]

    # any /flux command works in a comment, authorized by the commenter
    asked = gh_comment(stack, number, GITHUB_OUTSIDER, "/flux status gh-fleet -c flux-demo-aks")
    assert gh_reply_after(stack, number, asked, "Compliant")

    # while this PR holds flux-demo-aks, another PR's plan links the holder and its apply is refused
    second = int(
        github(
            stack,
            "POST",
            "pulls",
            repo=GITHUB_FLEET,
            head="second-fleet",
            title="Another change to the AKS cluster",
            author=GITHUB_OPERATOR,
            files={"clusters/aks-second.yaml": fleet_yaml("gh-second")},
        )["number"]
    )
    holder = f"https://github.com/{GITHUB_FLEET}/pull/{number}"
    wait_for(
        "the second plan to link the holder",
        lambda: [c for c in gh_comments(stack, second) if "<!-- fluxops:plan -->" in c["body"] and holder in c["body"]],
        seen=lambda: [c["body"] for c in gh_comments(stack, second)],
    )
    github(stack, "POST", "review", repo=GITHUB_FLEET, number=second, reviewer=GITHUB_ADMIN, state="APPROVED")
    asked = gh_comment(stack, second, GITHUB_ADMIN, "/flux apply")
    assert gh_reply_after(stack, second, asked, "is being applied from")
    with pytest.raises(NotFound):
        arm_flux.get(aks, "gh-second")
    github(stack, "POST", "close", repo=GITHUB_FLEET, number=second)

    # merging (apply_on_merge) applies what is left, here nothing, and frees the cluster
    github(stack, "POST", "merge", repo=GITHUB_FLEET, number=number, author=GITHUB_ADMIN)
    assert gh_reply_after(stack, number, asked, "Nothing to apply")


def ado_threads(stack: Stack, pr_id: int) -> list[dict[str, Any]]:
    threads: list[dict[str, Any]] = ado(stack, "GET", "threads", repo=ADO_FLEET, id=pr_id)
    return threads


def ado_bodies(stack: Stack, pr_id: int) -> list[str]:
    return [c["content"] for t in ado_threads(stack, pr_id) for c in t.get("comments", []) if c.get("content")]


def test_azure_devops_fleet_pull_request_plan_and_apply(
    stack: Stack, arm_flux: AzureFluxConfigs, aks: ClusterRef
) -> None:
    opened = ado(
        stack,
        "POST",
        "pulls",
        repo=ADO_FLEET,
        source="add-ado-fleet",
        target="main",
        title="Run ado-fleet on the AKS cluster",
        author=ADO_VIEWER,
        files={"clusters/aks.yaml": fleet_yaml("ado-fleet")},
    )
    pr_id = int(opened["id"])
    wait_for(
        "the plan comment",
        lambda: [b for b in ado_bodies(stack, pr_id) if "<!-- fluxops:plan -->" in b and "ado-fleet" in b],
    )

    # the viewer is a member (so may comment) but has only the viewer role: refused, nothing changes
    ado(stack, "POST", "vote", repo=ADO_FLEET, id=pr_id, reviewer=ADO_ADMIN, vote=10)
    ado(stack, "POST", "comment", repo=ADO_FLEET, id=pr_id, author=ADO_VIEWER, content="/flux apply")
    wait_for(
        "the refusal",
        lambda: [b for b in ado_bodies(stack, pr_id) if "Not applied" in b and ADO_VIEWER in b],
        seen=lambda: ado_bodies(stack, pr_id)[-3:],
    )
    with pytest.raises(NotFound):
        arm_flux.get(aks, "ado-fleet")

    ado(stack, "POST", "comment", repo=ADO_FLEET, id=pr_id, author=ADO_ADMIN, content="/flux apply")
    wait_for(
        "the apply",
        lambda: [b for b in ado_bodies(stack, pr_id) if "1/1 clusters done" in b and "flux-demo-aks" in b],
        seen=lambda: ado_bodies(stack, pr_id)[-3:],
    )
    assert arm_flux.get(aks, "ado-fleet").compliance_state == "Compliant"


SELECTOR_FLEET = f"""\
apiVersion: fluxops.io/v1
kind: Fleet
selector:
  region: weu
configurations:
  sel-weu:
    namespace: sel-weu
    source:
      url: {TUTORIAL_URL}
      branch: main
    kustomizations:
      apps:
        path: ./apps/staging
        substitute:
          cluster_name: ${{cluster.name}}
---
apiVersion: fluxops.io/v1
kind: Fleet
selector:
  env: nowhere
configurations:
  sel-none:
    source:
      url: {TUTORIAL_URL}
      branch: main
"""


def test_github_fleet_selector_file_is_planned_for_every_cluster_it_matches(stack: Stack) -> None:
    """A selector document expands against the inventory the workers see: the plan lists what it matched."""
    number = int(
        github(
            stack,
            "POST",
            "pulls",
            repo=GITHUB_FLEET,
            head="selector-weu",
            title="sel-weu on every cluster in West Europe",
            author=GITHUB_OPERATOR,
            files={"clusters/weu.yaml": SELECTOR_FLEET},
        )["number"]
    )
    plan = wait_for(
        "the plan comment of the selector file",
        lambda: [
            c for c in gh_comments(stack, number) if "<!-- fluxops:plan -->" in c["body"] and "sel-weu" in c["body"]
        ],
    )[0]["body"]
    # demo-arc by its alias (its policy tags say env=dev, ARM's region=weu), flux-demo-aks by name; not legacy-arc
    assert "`clusters/weu.yaml:3` selects `region=weu`: 2 clusters, `demo-arc`, `flux-demo-aks`" in plan
    assert "`clusters/weu.yaml:19` selects `env=nowhere`: ⚠️ **no cluster** of the inventory matches" in plan
    assert "selected by `clusters/weu.yaml:3`" in plan
    assert "cluster_name: flux-demo-arc" in plan and "cluster_name: flux-demo-aks" in plan
    assert "legacy-arc" not in plan
    github(stack, "POST", "close", repo=GITHUB_FLEET, number=number)
