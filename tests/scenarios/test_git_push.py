"""Pushes traced to every cluster that tracks the repository: commit statuses on the Git host and one
Slack message per push in the watching channel, through the real stack (signed GitHub webhooks and
Azure DevOps service hooks from the fakes -> fluxops web -> Redis -> a Celery worker -> ARM + Flux)."""

from __future__ import annotations

import pytest
import redis

from bot.views import Phase
from cli.chat import Chat, Target
from sandbox.stack import ADO_ORG, ADO_TUTORIAL, CHANNEL, YOU, Stack
from sandbox.tutorial_repo import tutorial_files
from tests.scenarios.git_helpers import ado, channel_text_with, final_states, github, wait_for

PUSH_REPO = "fluxops-sandbox/push-demo"
BROKEN_STAGING = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base/nope\n"


def create(chat: Chat, name: str, cluster: str, url: str) -> None:
    command = (
        f"/flux config create {name} {cluster} --namespace {name} -u {url} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true "
        "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
    )
    assert chat.run(command) == 0, f"creating {name} on {cluster}"


@pytest.fixture(scope="module")
def github_tracked(stack: Stack) -> str:
    """push-demo on GitHub, tracked by push-trace on both tutorial clusters, watched by the channel."""
    chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    stack.sandbox.repos.create_repo(PUSH_REPO, tutorial_files(), private=False)
    url = f"https://github.com/{PUSH_REPO}"
    create(chat, "push-trace", "-c fleet-0000", url)
    create(
        chat,
        "push-trace",
        "-c fleet-0001 -g fleet-rg -t managedClusters",
        "https://github.com/fluxops-sandbox/Push-Demo.git",
    )
    assert chat.run("/flux watch push-trace -c fleet-0000") == 0
    return url


def test_a_push_is_traced_to_every_cluster_that_tracks_it(stack: Stack, chat: Chat, github_tracked: str) -> None:
    pushed = github(stack, "POST", "push", repo=PUSH_REPO, branch="main", files={"README.md": "# push demo\n"})
    sha = pushed["sha"]

    def finished() -> dict[str, list[str]] | None:
        states = final_states(github(stack, "GET", "statuses", repo=PUSH_REPO, sha=sha))
        done = all(s[-1] != "pending" for s in states.values())
        return states if len(states) == 2 and done else None

    states = wait_for("both commit statuses to finish", finished)
    assert states == {
        "fluxops/fleet-0000/push-trace": ["pending", "success"],
        "fluxops/fleet-0001/push-trace": ["pending", "success"],
    }
    message = wait_for(
        "the push message to say applied on 2/2",
        lambda: [t for t in channel_text_with(chat, sha[:12]) if t.rstrip().endswith("applied on 2/2 clusters")],
    )
    assert len(channel_text_with(chat, sha[:12])) == 1, "one message per push, edited in place"
    assert "fleet-0000" in message[0] and "fleet-0001" in message[0]


def test_a_push_that_breaks_a_kustomization_fails_naming_it(stack: Stack, chat: Chat, github_tracked: str) -> None:
    broken = github(
        stack, "POST", "push", repo=PUSH_REPO, branch="main", files={"apps/staging/kustomization.yaml": BROKEN_STAGING}
    )
    sha = broken["sha"]
    try:

        def failed() -> list[dict[str, str]] | None:
            statuses = github(stack, "GET", "statuses", repo=PUSH_REPO, sha=sha)
            final = [s for s in statuses if s["state"] != "pending"]
            return final if len(final) == 2 else None

        final = wait_for("both statuses to fail", failed)
        assert {s["state"] for s in final} == {"failure"}
        for status in final:
            assert "Kustomization push-trace-apps" in status["description"], status
        assert wait_for(
            "the channel message to end applied on 0/2",
            lambda: [t for t in channel_text_with(chat, sha[:12]) if t.rstrip().endswith("applied on 0/2 clusters")],
        )
    finally:
        github(
            stack,
            "POST",
            "push",
            repo=PUSH_REPO,
            branch="main",
            files={"apps/staging/kustomization.yaml": tutorial_files()["apps/staging/kustomization.yaml"]},
        )


def test_a_push_nobody_tracks_changes_nothing(stack: Stack, redis_client: redis.Redis) -> None:
    stack.sandbox.repos.create_repo("fluxops-sandbox/untracked", {"README.md": "x\n"}, private=False)
    pushed = github(stack, "POST", "push", repo="fluxops-sandbox/untracked", branch="main", files={"a.txt": "1\n"})
    delivered = wait_for(
        "the push to be delivered",
        lambda: [d for d in github(stack, "GET", "deliveries") if d["delivery"] == pushed["delivery"] and d["status"]],
    )
    assert delivered[0]["status"] == 202
    # the push job's end marks the end of its search for configurations tracking the repository
    [dedupe] = wait_for(
        "the push's job", lambda: list(redis_client.scan_iter(f"fluxops:dedupe:github:*:{pushed['delivery']}"))
    )
    job = f"fluxops:job:{redis_client.get(dedupe)}"
    phase = wait_for("the push job to end", lambda: _terminal(redis_client.hget(job, "p:phase")))
    assert phase == Phase.SUCCEEDED
    assert github(stack, "GET", "statuses", repo="fluxops-sandbox/untracked", sha=pushed["sha"]) == []


def _terminal(phase: str | None) -> str | None:
    return phase if phase is not None and Phase(phase).terminal else None


def test_an_azure_devops_push_gets_commit_statuses(stack: Stack, chat: Chat) -> None:
    url = f"https://dev.azure.com/{ADO_ORG}/{ADO_TUTORIAL.split('/')[0]}/_git/{ADO_TUTORIAL.split('/')[1]}"
    create(chat, "ado-trace", "-c fleet-0002", url)
    pushed = ado(stack, "POST", "push", repo=ADO_TUTORIAL, branch="main", files={"README.md": "# ado push\n"})
    sha = pushed["sha"]

    def finished() -> list[dict[str, object]] | None:
        statuses = ado(stack, "GET", "statuses", repo=ADO_TUTORIAL, sha=sha)
        return statuses if any(s["state"] != "pending" for s in statuses) else None

    statuses = wait_for("the Azure DevOps commit status to finish", finished)
    contexts = {(s["context"]["genre"], s["context"]["name"], s["state"]) for s in statuses}
    assert ("fluxops", "fleet-0002/ado-trace", "pending") in contexts
    assert ("fluxops", "fleet-0002/ado-trace", "succeeded") in contexts
