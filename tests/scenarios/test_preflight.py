"""What a pull request breaks, said on it before it merges: a PR on a repository a Flux configuration uses gets
``fluxops/preflight`` on its head commit and one comment, through the real stack (the fake GitHub's signed
webhook -> fluxops web -> Redis -> a Celery worker reading the PR's files through PyGithub and the cluster's
flux extension through ARM -> statuses and a comment on the fake GitHub)."""

from __future__ import annotations

from typing import Any

import pytest

from cli.chat import Chat, Target
from sandbox.stack import CHANNEL, YOU, Stack
from sandbox.tutorial_repo import tutorial_files
from tests.scenarios.git_helpers import final_states, github, wait_for

REPO = "fluxops-sandbox/preflight-demo"
CLUSTER = "-c fleet-0001 -g fleet-rg -t managedClusters"
MARKER = "<!-- fluxops:preflight -->"
SYNC = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: podinfo-extra
  namespace: podinfo
spec:
  interval: 10m
  path: ./apps/base/podinfo
  prune: true
  sourceRef:
    kind: GitRepository
    name: preflight
    namespace: preflight
"""
LISTING = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - namespace.yaml
  - repository.yaml
  - release.yaml
  - {extra}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo-notes\n  namespace: podinfo\ndata:\n  a: b\n"


@pytest.fixture(scope="module")
def used_repo(stack: Stack) -> str:
    """preflight-demo, the source of configuration ``preflight`` on fleet-0001, whose flux extension enforces
    multi-tenancy."""
    chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    stack.sandbox.repos.create_repo(REPO, tutorial_files(), private=False)
    # enforcing multi-tenancy explicitly: on the extension another scenario's configuration installed, or on a
    # new one (the fleet clusters come without it)
    if chat.run(f"/flux extension update {CLUSTER} --config multiTenancy.enforce=true") != 0:
        assert chat.run(f"/flux extension create {CLUSTER} --config multiTenancy.enforce=true") == 0
    command = (
        f"/flux config create preflight {CLUSTER} --namespace preflight -u https://github.com/{REPO} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true "
        "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
    )
    assert chat.run(command) == 0
    return REPO


def open_pull(stack: Stack, head: str, files: dict[str, str | None]) -> tuple[int, str]:
    opened = github(stack, "POST", "pulls", repo=REPO, head=head, title=f"Change {head}", files=files)
    return int(opened["number"]), str(opened["sha"])


def preflight_status(stack: Stack, sha: str) -> dict[str, Any]:
    """The final ``fluxops/preflight`` status of commit ``sha``, once there is one."""

    def final() -> dict[str, Any] | None:
        statuses = [
            s for s in github(stack, "GET", "statuses", repo=REPO, sha=sha) if s["context"] == "fluxops/preflight"
        ]
        done = [s for s in sorted(statuses, key=lambda s: s["id"]) if s["state"] != "pending"]
        return done[-1] if done else None

    return wait_for(
        f"fluxops/preflight on {sha[:7]}", final, seen=lambda: github(stack, "GET", "statuses", repo=REPO, sha=sha)
    )


def preflight_comments(stack: Stack, number: int) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = github(stack, "GET", "comments", repo=REPO, number=number)
    return [c for c in comments if MARKER in c["body"]]


def test_a_cross_namespace_source_ref_fails_the_preflight_naming_file_and_line(stack: Stack, used_repo: str) -> None:
    number, sha = open_pull(
        stack,
        "cross-namespace",
        {
            "apps/base/podinfo/sync.yaml": SYNC,
            "apps/base/podinfo/kustomization.yaml": LISTING.format(extra="sync.yaml"),
        },
    )
    status = preflight_status(stack, sha)
    assert status["state"] == "failure"
    assert status["description"].startswith("apps/base/podinfo/sync.yaml:13 — Kustomization podinfo/podinfo-extra")
    [comment] = wait_for("the preflight comment", lambda: preflight_comments(stack, number))
    assert "`apps/base/podinfo/sync.yaml:13`" in comment["body"]
    assert "multi-tenancy is enforced" in comment["body"] and "fleet-0001" in comment["body"]
    contexts = final_states(github(stack, "GET", "statuses", repo=REPO, sha=sha))
    assert contexts["fluxops/preflight/preflight"] == ["failure"]

    # the author fixes it: the same comment is edited, and the new head passes
    pushed = github(
        stack,
        "POST",
        f"pulls/{number}/push",
        repo=REPO,
        files={"apps/base/podinfo/sync.yaml": SYNC.replace("    namespace: preflight\n", "")},
    )
    fixed = preflight_status(stack, str(pushed["sha"]))
    assert fixed["state"] == "success", fixed
    [edited] = wait_for(
        "the preflight comment to say nothing is broken",
        lambda: [c for c in preflight_comments(stack, number) if "nothing Flux applies is broken" in c["body"]],
    )
    assert edited["id"] == comment["id"]


def test_a_clean_pull_request_passes(stack: Stack, used_repo: str) -> None:
    number, sha = open_pull(
        stack,
        "clean",
        {
            "apps/base/podinfo/notes.yaml": CONFIGMAP,
            "apps/base/podinfo/kustomization.yaml": LISTING.format(extra="notes.yaml"),
        },
    )
    status = preflight_status(stack, sha)
    assert status["state"] == "success"
    assert status["description"] == "no problems found for 1 cluster"
    [comment] = wait_for("the preflight comment", lambda: preflight_comments(stack, number))
    assert "nothing Flux applies is broken" in comment["body"]
