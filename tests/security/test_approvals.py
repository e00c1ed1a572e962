"""Points 3-5 of docs/security.md through the real stack: stale approvals, approvals by authors or by people
without a role, Azure DevOps votes before the last push and users without Contribute, forged Azure DevOps
merge events, and merges without approval. Each attack must end in a refusal the user can read on the pull
request (none for a forged event: it is not posted where the forger pointed), no ARM write, and an audit
entry of the refusal. A merge that may apply applies the merge commit's fleet files."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis
import requests

from bot.models import ClusterRef, ClusterType
from sandbox.credential import SandboxCredential
from sandbox.stack import (
    ADO_ADMIN,
    ADO_FLEET,
    ADO_ORG,
    ADO_PROJECT,
    ADO_VIEWER,
    GITHUB_ADMIN,
    GITHUB_FLEET,
    GITHUB_OPERATOR,
    SANDBOX_POLICY,
    Stack,
)
from tests.scenarios.git_helpers import ado, github, wait_for
from tests.security.conftest import ArmWrites, audit_entries, refusals
from workers.azure_connection import ArmConnection
from workers.azure_flux import AzureFluxConfigs

ADO_OPERATOR = "operator@fluxops-sandbox.example"
GITHUB_REVIEWER = "sandbox-reviewer"  # a collaborator with write access and no fluxops role of their own
_ADO_FLEET_ENTRY = f"  - repository: https://dev.azure.com/{ADO_ORG}/{ADO_PROJECT}/_git/fleet\n    path: clusters\n"
_OPERATORS = f"    github_users: [{GITHUB_OPERATOR}]\n"
assert _ADO_FLEET_ENTRY in SANDBOX_POLICY and _OPERATORS in SANDBOX_POLICY
#: the sandbox's policy, with an Azure DevOps operator and the Azure DevOps fleet applied on merge
POLICY = SANDBOX_POLICY.replace(_ADO_FLEET_ENTRY, _ADO_FLEET_ENTRY + "    apply_on_merge: true\n").replace(
    _OPERATORS, _OPERATORS + f"    ado_users: [{ADO_OPERATOR}]\n"
)
TUTORIAL_URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
PLAN_MARKER = "<!-- fluxops:plan -->"


def fleet_yaml(config: str, apps_path: str = "./apps/staging", cluster: str = "flux-demo-aks") -> str:
    return f"""\
apiVersion: fluxops.io/v1
kind: Fleet
clusters:
  {cluster}:
    configurations:
      {config}:
        namespace: {config}
        source:
          kind: git
          url: {TUTORIAL_URL}
          branch: main
        kustomizations:
          apps:
            path: {apps_path}
            prune: true
"""


@pytest.fixture(scope="module", autouse=True)
def people(stack: Stack) -> None:
    github(stack, "POST", "collaborators", repo=GITHUB_FLEET, login=GITHUB_REVIEWER, permission="write")
    ado(stack, "POST", "members", unique_name=ADO_OPERATOR, display_name="Sandbox Operator")
    # reads and comments, may not contribute: an operator of fluxops, not a writer of the repository
    ado(stack, "POST", "permissions", user=ADO_OPERATOR, repo=ADO_FLEET, allow=["GenericRead"], project_wide=True)


# -- GitHub ----------------------------------------------------------------------------------------


def gh_comments(stack: Stack, number: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = github(stack, "GET", "comments", repo=GITHUB_FLEET, number=number)
    return found


def gh_open(stack: Stack, branch: str, config: str, cluster: str = "flux-demo-aks") -> tuple[int, str]:
    opened = github(
        stack,
        "POST",
        "pulls",
        repo=GITHUB_FLEET,
        head=branch,
        title=f"Add {config}",
        author=GITHUB_OPERATOR,
        files={f"clusters/{config}.yaml": fleet_yaml(config, cluster=cluster)},
    )
    number, sha = int(opened["number"]), str(opened["sha"])
    gh_planned_at(stack, number, sha)
    return number, sha


def gh_planned_at(stack: Stack, number: int, sha: str) -> None:
    wait_for(
        f"the plan of #{number} at {sha[:12]}",
        lambda: [c for c in gh_comments(stack, number) if PLAN_MARKER in c["body"] and sha[:12] in c["body"]],
        seen=lambda: [c["body"][:200] for c in gh_comments(stack, number)],
    )


def gh_push(stack: Stack, number: int, config: str, author: str, path: str) -> str:
    pushed = github(
        stack,
        "POST",
        f"pulls/{number}/push",
        repo=GITHUB_FLEET,
        author=author,
        files={f"clusters/{config}.yaml": fleet_yaml(config, path)},
    )
    sha = str(pushed["sha"])
    gh_planned_at(stack, number, sha)
    return sha


def gh_say(stack: Stack, number: int, author: str, body: str) -> int:
    return int(github(stack, "POST", "comment", repo=GITHUB_FLEET, number=number, author=author, body=body)["id"])


def gh_reply(stack: Stack, number: int, after: int, needle: str) -> str:
    def found() -> list[str]:
        return [
            c["body"]
            for c in gh_comments(stack, number)
            if c["id"] > after and c["author"] == "fluxops-bot" and needle in c["body"]
        ]

    seen = lambda: [c["body"][:300] for c in gh_comments(stack, number) if c["id"] > after]  # noqa: E731
    return wait_for(f"a reply on #{number} with {needle!r}", found, seen=seen)[0]


def refused_on(client: redis.Redis, repo: str, number: int, needle: str) -> list[dict[str, str]]:
    """Audit refusals of jobs of pull request ``number`` of ``repo`` ("project/repo" on Azure DevOps)."""
    return [e for e in refusals(client, needle) if e.get("origin", "").endswith(f"{repo}#{number}")]


def approve(stack: Stack, number: int, reviewer: str) -> None:
    github(stack, "POST", "review", repo=GITHUB_FLEET, number=number, reviewer=reviewer, state="APPROVED")


def test_github_approval_of_an_older_commit_does_not_count(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    number, first = gh_open(stack, "stale-approval", "stale-gh")
    approve(stack, number, GITHUB_ADMIN)
    second = gh_push(stack, number, "stale-gh", GITHUB_OPERATOR, "./apps/production")
    asked = gh_say(stack, number, GITHUB_ADMIN, "/flux apply")
    said = gh_reply(stack, number, asked, "not approved")
    assert f"{GITHUB_ADMIN} (approved {first[:7]}, not the head commit {second[:7]}" in said
    assert arm_writes.since() == []
    assert refused_on(redis_client, GITHUB_FLEET, number, "not approved")


def test_github_approval_by_someone_who_pushed_a_commit_does_not_count(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    number, _ = gh_open(stack, "pusher-approves", "pusher-gh")
    gh_push(stack, number, "pusher-gh", GITHUB_ADMIN, "./apps/production")  # the admin adds a commit...
    approve(stack, number, GITHUB_ADMIN)  # ...then approves the head, their own commit included
    asked = gh_say(stack, number, GITHUB_OPERATOR, "/flux apply")
    said = gh_reply(stack, number, asked, "not approved")
    assert f"{GITHUB_ADMIN} (wrote or pushed a commit of this pull request)" in said
    assert arm_writes.since() == []
    assert refused_on(redis_client, GITHUB_FLEET, number, "not approved")


def test_github_approval_by_someone_without_a_fluxops_role_does_not_count(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    number, _ = gh_open(stack, "no-role-approves", "norole-gh")
    approve(stack, number, GITHUB_REVIEWER)
    asked = gh_say(stack, number, GITHUB_ADMIN, "/flux apply")
    said = gh_reply(stack, number, asked, "not approved")
    assert f"{GITHUB_REVIEWER} (has no fluxops role of their own on flux-demo-aks)" in said
    assert arm_writes.since() == []
    assert refused_on(redis_client, GITHUB_FLEET, number, "not approved")


def test_github_merge_without_approval_applies_nothing(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    # on the Arc cluster: the merged file stays on main, and a cluster is declared in one file only
    number, _ = gh_open(stack, "merge-unapproved", "unapproved-gh", cluster="flux-demo-arc")
    github(stack, "POST", "merge", repo=GITHUB_FLEET, number=number, author=GITHUB_ADMIN)
    said = gh_reply(stack, number, 0, "Merged, but nothing was applied")
    assert "it is not approved yet" in said
    assert arm_writes.since() == []
    assert refused_on(redis_client, GITHUB_FLEET, number, "not approved")


def test_github_merge_applies_the_merge_commits_fleet_files(stack: Stack, redis_client: redis.Redis) -> None:
    number, _ = gh_open(stack, "merge-approved", "merged-gh")
    approve(stack, number, GITHUB_ADMIN)
    merged = github(stack, "POST", "merge", repo=GITHUB_FLEET, number=number, author=GITHUB_ADMIN)
    # main moves on at once: what applies is still what the merge commit has
    github(
        stack,
        "POST",
        "push",
        repo=GITHUB_FLEET,
        branch="main",
        author=GITHUB_OPERATOR,
        files={"clusters/merged-gh.yaml": fleet_yaml("merged-gh", "./apps/later")},
    )
    said = gh_reply(stack, number, 0, "2/2 clusters done")
    assert "Succeeded" in said and "flux-demo-aks" in said
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    connection = ArmConnection(
        endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file), poll_interval=0.1
    )
    aks = ClusterRef(endpoints.subscription_id, "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")
    state = AzureFluxConfigs(connection=connection).get(aks, "merged-gh")
    assert state.spec is not None and [k.path for k in state.spec.kustomizations] == ["./apps/staging"]
    holder = f"https://github.com/{GITHUB_FLEET}/pull/{number} "
    applied = wait_for(
        "the audit entry of the apply on merge",
        lambda: [e for e in audit_entries(redis_client) if e.get("command", "").startswith(f"on merge {holder}")],
        seen=lambda: audit_entries(redis_client)[-3:],
    )
    assert str(merged["sha"])[:12] in applied[-1]["command"] and applied[-1]["result"] == "succeeded"
    assert applied[-1]["actor"] == f"github:{GITHUB_ADMIN}"


# -- Azure DevOps ----------------------------------------------------------------------------------


def ado_bodies(stack: Stack, pr_id: int) -> list[str]:
    threads: list[dict[str, Any]] = ado(stack, "GET", "threads", repo=ADO_FLEET, id=pr_id)
    return [c["content"] for t in threads for c in t.get("comments", []) if c.get("content")]


def ado_open(stack: Stack, branch: str, config: str) -> tuple[int, str]:
    opened = ado(
        stack,
        "POST",
        "pulls",
        repo=ADO_FLEET,
        source=branch,
        target="main",
        title=f"Add {config}",
        author=ADO_VIEWER,
        files={f"clusters/{config}.yaml": fleet_yaml(config)},
    )
    pr_id, sha = int(opened["id"]), str(opened["sha"])
    ado_planned_at(stack, pr_id, sha)
    return pr_id, sha


def ado_planned_at(stack: Stack, pr_id: int, sha: str) -> None:
    wait_for(
        f"the plan of !{pr_id} at {sha[:12]}",
        lambda: [b for b in ado_bodies(stack, pr_id) if PLAN_MARKER in b and sha[:12] in b],
        seen=lambda: [b[:200] for b in ado_bodies(stack, pr_id)],
    )


def ado_said(stack: Stack, pr_id: int, *needles: str) -> str:
    return wait_for(
        f"a reply on !{pr_id} with {needles!r}",
        lambda: [b for b in ado_bodies(stack, pr_id) if all(n in b for n in needles)],
        seen=lambda: [b[:300] for b in ado_bodies(stack, pr_id)][-4:],
    )[0]


def test_ado_vote_before_the_last_push_does_not_count(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    pr_id, first = ado_open(stack, "stale-vote", "stale-ado")
    ado(stack, "POST", "vote", repo=ADO_FLEET, id=pr_id, reviewer=ADO_ADMIN, vote=10)
    pushed = ado(
        stack,
        "POST",
        f"pulls/{pr_id}/push",
        author=ADO_VIEWER,
        files={"clusters/stale-ado.yaml": fleet_yaml("stale-ado", "./apps/production")},
    )
    second = str(pushed["sha"])
    ado_planned_at(stack, pr_id, second)
    ado(stack, "POST", "comment", repo=ADO_FLEET, id=pr_id, author=ADO_ADMIN, content="/flux apply")
    said = ado_said(stack, pr_id, "not approved", ADO_ADMIN)
    assert f"{ADO_ADMIN} (approved {first[:7]}, not the head commit {second[:7]}" in said
    assert arm_writes.since() == []
    assert refused_on(redis_client, ADO_FLEET, pr_id, "not approved")


def test_ado_people_without_contribute_neither_apply_nor_approve(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    pr_id, _ = ado_open(stack, "no-contribute", "readonly-ado")
    # a fluxops operator who may only read the repository: their apply is refused...
    ado(stack, "POST", "comment", repo=ADO_FLEET, id=pr_id, author=ADO_OPERATOR, content="/flux apply")
    said = ado_said(stack, pr_id, "Not applied", f"{ADO_OPERATOR} has read access")
    assert "applying needs write" in said
    # ...and their vote does not count
    ado(stack, "POST", "vote", repo=ADO_FLEET, id=pr_id, reviewer=ADO_OPERATOR, vote=10)
    ado(stack, "POST", "comment", repo=ADO_FLEET, id=pr_id, author=ADO_ADMIN, content="/flux apply")
    said = ado_said(stack, pr_id, "not approved", f"{ADO_OPERATOR} (has read access to the repository)")
    assert arm_writes.since() == []
    assert refused_on(redis_client, ADO_FLEET, pr_id, "applying needs write")
    assert refused_on(redis_client, ADO_FLEET, pr_id, "not approved")


def _complete_quietly(stack: Stack, repo: str, pr_id: int, by: str) -> list[dict[str, Any]]:
    """Complete a pull request with the service hook switched off; the merged event it would have sent."""
    hooks = stack.ado.hooks
    url, before = hooks.url, len(hooks.deliveries)
    hooks.url = None
    try:
        ado(stack, "POST", "complete", repo=repo, id=pr_id, by=by)
    finally:
        hooks.url = url
    sent = [json.loads(d.body) for d in hooks.deliveries[before:]]
    return [p for p in sent if p["eventType"] == "git.pullrequest.merged"]


def _forge(stack: Stack, payload: dict[str, Any]) -> None:
    payload["notificationId"] = int(time.time() * 1000) % 1_000_000_000
    response = requests.post(
        f"{stack.web_url}/webhooks/azure-devops",
        json=payload,
        auth=(stack.ado_hook_user, stack.ado_hook_password),
        timeout=30,
    )
    assert response.status_code == 202, response.text
    assert "job" in response.json(), response.json()


def test_forged_ado_merge_of_another_repository_applies_nothing(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    # the forger completes a pull request in a repository of their own, then sends its merged event
    # dressed as the fleet repository's (remoteUrl), completed by the admin
    scratch = f"{ADO_PROJECT}/scratch"
    ado(stack, "POST", "repos", repo=scratch, files={"README.md": "scratch\n"})
    opened = ado(
        stack,
        "POST",
        "pulls",
        repo=scratch,
        source="evil",
        target="main",
        author=ADO_VIEWER,
        files={"clusters/forged-ado.yaml": fleet_yaml("forged-ado")},
    )
    [merged] = _complete_quietly(stack, scratch, int(opened["id"]), ADO_VIEWER)
    repository = merged["resource"]["repository"]
    fleet_url = repository["remoteUrl"].replace("/_git/scratch", "/_git/fleet")
    repository.update(name="fleet", remoteUrl=fleet_url, webUrl=fleet_url)  # id stays the scratch repository's
    merged["resource"]["closedBy"] = {"uniqueName": ADO_ADMIN, "displayName": "Sandbox Admin"}
    _forge(stack, merged)
    wait_for("the refusal in the audit log", lambda: refusals(redis_client, "/_git/scratch"))
    assert arm_writes.since() == []


def test_forged_closed_by_does_not_make_a_merge_an_admins(
    stack: Stack, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    pr_id, _ = ado_open(stack, "forged-closer", "closer-ado")
    ado(stack, "POST", "vote", repo=ADO_FLEET, id=pr_id, reviewer=ADO_ADMIN, vote=10)
    [merged] = _complete_quietly(stack, ADO_FLEET, pr_id, ADO_VIEWER)  # the viewer completes it
    merged["resource"]["closedBy"] = {"uniqueName": ADO_ADMIN, "displayName": "Sandbox Admin"}
    _forge(stack, merged)
    said = ado_said(stack, pr_id, "Merged, but nothing was applied", f"{ADO_VIEWER} needs")
    assert ADO_ADMIN not in said
    assert arm_writes.since() == []
    assert refused_on(redis_client, ADO_FLEET, pr_id, "nothing was applied")
