"""Attacks 1 and 6 of docs/security.md: PR comments run as exactly what the signed delivery carried, once.

1. An edited comment never runs as its original author: the command comes from the delivery, the worker
   refuses when the host's comment no longer matches it, and `edited` events start nothing.
6. Replays: the same signed comment under a new delivery id runs once (and is audited), and a comment
   that reaches fluxops long after it was written does not run.
11. A GitHub login renamed and taken by another account does not carry its roles (numeric ids).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import requests

from cli.chat import Chat
from sandbox.stack import ADO_ADMIN, ADO_FLEET, GITHUB_ADMIN, GITHUB_FLEET, GITHUB_OPERATOR, YOU, Stack
from tests.scenarios.git_helpers import ado, github, wait_for
from tests.scenarios.test_git_pull_requests import ado_bodies
from tests.security.conftest import ArmWrites, refusals

TUTORIAL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
CLUSTER = "flux-demo-aks"


def comments(stack: Stack, number: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = github(stack, "GET", "comments", repo=GITHUB_FLEET, number=number)
    return found


def bot_replies(stack: Stack, number: int, after: int = 0) -> list[str]:
    return [c["body"] for c in comments(stack, number) if c["author"] == "fluxops-bot" and c["id"] > after]


def reply_with(stack: Stack, number: int, after: int, needle: str) -> str:
    return wait_for(
        f"a reply containing {needle!r}",
        lambda: [b for b in bot_replies(stack, number, after) if needle in b],
        seen=lambda: bot_replies(stack, number, after)[-3:],
    )[0]


def comment(stack: Stack, number: int, author: str, body: str, **extra: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = github(
        stack, "POST", "comment", repo=GITHUB_FLEET, number=number, author=author, body=body, **extra
    )
    return outcome


@pytest.fixture(scope="module")
def pull(stack: Stack) -> int:
    """A pull request on the fleet repository that changes no cluster (a place to comment)."""
    opened = github(
        stack,
        "POST",
        "pulls",
        repo=GITHUB_FLEET,
        head="notes",
        title="Notes",
        author=GITHUB_OPERATOR,
        files={"NOTES.md": "notes\n"},
    )
    return int(opened["number"])


@pytest.fixture(scope="module")
def configured(stack: Stack) -> str:
    """A configuration on the AKS cluster for the attacks to aim at."""
    from cli.chat import Target
    from sandbox.stack import CHANNEL

    chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    code = chat.run(
        f"/flux config create victim -c {CLUSTER} --namespace victim -u {TUTORIAL} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true"
    )
    assert code == 0
    return "victim"


def test_an_edited_comment_is_never_run_as_its_author(
    stack: Stack, pull: int, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    # an admin asks for a delete; fluxops stages it and asks for a confirmation naming the command's digest
    asked = comment(stack, pull, GITHUB_ADMIN, f"/flux config delete {configured} -c {CLUSTER}")
    prompt = reply_with(stack, pull, asked["id"], "/flux confirm j-")
    words = prompt[prompt.index("/flux confirm j-") :].split("`")[0].split()
    job, named = words[2], words[3]
    assert len(named) == 8

    # someone else with write access rewrites the admin's comment into another command, on another repo
    evil = f"/flux config update {configured} -c {CLUSTER} -u https://github.com/evil/repo"
    github(stack, "POST", "edit-comment", repo=GITHUB_FLEET, id=asked["id"], body=evil, editor=GITHUB_OPERATOR)

    # the admin, not rereading, confirms: the job refuses, since the comment is not the one that was sent
    confirmed = comment(stack, pull, GITHUB_ADMIN, f"/flux confirm {job} {named}")
    reply_with(stack, pull, confirmed["id"], "runs now")
    refusal = reply_with(stack, pull, asked["id"], "the comment changed after it was sent")
    assert "evil" not in refusal
    assert arm_writes.since() == []
    assert refusals(redis_client, "the comment changed after it was sent")
    # the edit itself started nothing (edited events never run)
    assert not [b for b in bot_replies(stack, pull, asked["id"]) if "evil/repo" in b]


def test_a_confirmation_must_name_the_command_it_confirms(
    stack: Stack, pull: int, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    asked = comment(stack, pull, GITHUB_ADMIN, f"/flux config delete {configured} -c {CLUSTER}")
    prompt = reply_with(stack, pull, asked["id"], "/flux confirm j-")
    job = prompt[prompt.index("/flux confirm j-") :].split()[2]

    bare = comment(stack, pull, GITHUB_ADMIN, f"/flux confirm {job}")
    answer = reply_with(stack, pull, bare["id"], "must name the digest")
    assert f"config delete {configured} -c {CLUSTER}" in answer
    wrong = comment(stack, pull, GITHUB_ADMIN, f"/flux confirm {job} 0badc0de")
    reply_with(stack, pull, wrong["id"], "must name the digest")
    assert arm_writes.since() == []
    assert refusals(redis_client, "must name the digest")
    comment(stack, pull, GITHUB_ADMIN, f"/flux cancel {job}")


def test_a_replayed_delivery_runs_once(
    stack: Stack, pull: int, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    asked = comment(stack, pull, GITHUB_ADMIN, f"/flux suspend {configured} -c {CLUSTER}")
    reply_with(stack, pull, asked["id"], "Suspended")
    writes = len(arm_writes.since())
    assert writes >= 1
    before = bot_replies(stack, pull, asked["id"])

    # the captured delivery, sent again under a new delivery id: same bytes, valid signature
    replayed = github(stack, "POST", "replay", delivery=asked["delivery"])
    assert replayed["status"] == 202 and replayed["delivery"] != asked["delivery"]
    wait_for("the replay to be audited", lambda: refusals(redis_client, "replay"))
    assert bot_replies(stack, pull, asked["id"]) == before
    assert len(arm_writes.since()) == writes
    # GitHub's own redelivery (same id) is a plain duplicate
    again = github(stack, "POST", "redeliver", delivery=asked["delivery"])
    assert again["status"] == 202
    assert len(arm_writes.since()) == writes
    resumed = comment(stack, pull, GITHUB_ADMIN, f"/flux resume {configured} -c {CLUSTER}")
    reply_with(stack, pull, resumed["id"], "Compliant")


def test_a_comment_delivered_long_after_it_was_written_does_not_run(
    stack: Stack, pull: int, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    written = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late = comment(stack, pull, GITHUB_ADMIN, f"/flux suspend {configured} -c {CLUSTER}", created_at=written)
    wait_for("the late comment to be audited", lambda: refusals(redis_client, "FLUXOPS_COMMENT_MAX_AGE"))
    assert bot_replies(stack, pull, late["id"]) == []
    assert arm_writes.since() == []


def test_an_edit_into_a_command_starts_nothing(
    stack: Stack, pull: int, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    harmless = comment(stack, pull, GITHUB_OPERATOR, "looks fine to me")
    jobs_before = len(list(redis_client.scan_iter("fluxops:job:*")))
    github(
        stack,
        "POST",
        "edit-comment",
        repo=GITHUB_FLEET,
        id=harmless["id"],
        body=f"/flux suspend {configured} -c {CLUSTER}",
        editor=GITHUB_OPERATOR,
    )
    deliveries = github(stack, "GET", "deliveries")
    edited = [d for d in deliveries if d["event"] == "issue_comment" and d["action"] == "edited"]
    assert edited and edited[-1]["status"] == 202
    assert len(list(redis_client.scan_iter("fluxops:job:*"))) == jobs_before
    assert bot_replies(stack, pull, harmless["id"]) == []
    assert arm_writes.since() == []


def test_a_renamed_login_does_not_carry_its_roles(
    stack: Stack, pull: int, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    """An admin's login, renamed away and registered by someone else, is another account (numeric id)."""
    genuine = comment(stack, pull, GITHUB_ADMIN, f"/flux status {configured} -c {CLUSTER}")
    reply_with(stack, pull, genuine["id"], configured)
    delivery = stack.github.webhooks.state.deliveries[genuine["delivery"]]
    payload = json.loads(delivery.body)
    payload["comment"]["id"] += 1000
    payload["comment"]["body"] = f"/flux suspend {configured} -c {CLUSTER}"
    payload["comment"]["user"]["id"] += 1  # same login, another account
    payload["sender"] = payload["comment"]["user"]
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(stack.github_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        **delivery.headers,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
    }
    headers.pop("X-Hub-Signature", None)
    answer = requests.post(f"{stack.web_url}/webhooks/github", data=body, headers=headers, timeout=10)
    assert answer.status_code == 202 and "is not the account fluxops knew" in answer.text
    assert refusals(redis_client, "renamed login")
    assert arm_writes.since() == []


def test_an_old_azure_devops_comment_sent_again_does_not_run(
    stack: Stack, configured: str, arm_writes: ArmWrites, redis_client: redis.Redis
) -> None:
    """Azure DevOps signs nothing: with the hook password, anyone can send an old comment's event again, with
    the dates left out and the ids spelled otherwise. The comment's name is normalized, and its age and edits
    are read from Azure DevOps itself."""
    opened = ado(
        stack,
        "POST",
        "pulls",
        repo=ADO_FLEET,
        source="replay-notes",
        target="main",
        title="Notes",
        author=ADO_ADMIN,
        files={"NOTES.md": "notes\n"},
    )
    pr_id = int(opened["id"])
    asked = ado(
        stack,
        "POST",
        "comment",
        repo=ADO_FLEET,
        id=pr_id,
        author=ADO_ADMIN,
        content=f"/flux status {configured} -c {CLUSTER}",
    )
    original = next(d for d in stack.ado.deliveries() if d.notification_id == asked["notification"])
    forged = json.loads(original.body)
    comment = forged["resource"]["comment"]
    comment.pop("publishedDate", None)
    comment.pop("lastContentUpdatedDate", None)
    forged["resource"]["pullRequest"]["repository"]["id"] = forged["resource"]["pullRequest"]["repository"][
        "id"
    ].upper()
    auth = (stack.ado_hook_user, stack.ado_hook_password)
    url = f"{stack.web_url}/webhooks/azure-devops"

    def send(notification: int) -> dict[str, Any]:
        forged["notificationId"] = notification
        answer = requests.post(url, json=forged, auth=auth, timeout=10)
        assert answer.status_code == 202, answer.text
        result: dict[str, Any] = answer.json()
        return result

    assert send(900_001)["duplicate"] is True  # the same comment, however its ids are spelled

    # a month later the dedupe key is gone: Azure DevOps itself says the comment is an hour old
    thread = stack.ado.org.pull(pr_id).threads[int(asked["thread_id"])]
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    thread.comments[int(asked["comment_id"])].published = hour_ago
    thread.comments[int(asked["comment_id"])].updated = hour_ago
    for key in redis_client.scan_iter("fluxops:dedupe:comment:azure-devops:*"):
        redis_client.delete(key)
    assert send(900_002)["duplicate"] is False
    wait_for("the late comment to be refused", lambda: refusals(redis_client, "before it reached fluxops"))
    wait_for("the refusal on the PR", lambda: [b for b in ado_bodies(stack, pr_id) if "before it reached fluxops" in b])
    assert arm_writes.since() == []
