"""Attack 10 of docs/security.md: what a stranger's comment costs fluxops, and claims that cannot be held forever.

- A comment from someone with no fluxops role becomes no job at all (ignored at intake, audited).
- A refused command is kept only briefly, and a huge comment is not stored whole.
- `/flux unlock` lets an admin (only) release a cluster a pull request holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from bot.gitevents import BODY_KEPT, CommentEvent
from bot.jobs import JobRecord
from cli.chat import Chat
from sandbox.stack import (
    CHANNEL,
    GITHUB_ADMIN,
    GITHUB_FLEET,
    GITHUB_OPERATOR,
    GITHUB_OUTSIDER,
    OPERATOR,
    YOU,
    Stack,
)
from tests.scenarios.git_helpers import github, wait_for
from tests.security.conftest import ArmWrites, audit_entries, refusals

POLICY = f"""\
roles:
  - role: admin
    slack_users: [{YOU}]
    github_users: [{GITHUB_ADMIN}]
  - role: operator
    slack_users: [{OPERATOR}]
  - role: viewer
    github_users: [{GITHUB_OUTSIDER}]
deploy_keys:
  channel: {CHANNEL}
"""

ChatAs = Callable[[str], Chat]


def open_pull(stack: Stack, head: str) -> int:
    opened = github(
        stack, "POST", "pulls", repo=GITHUB_FLEET, head=head, title=head, author=GITHUB_OPERATOR, files={"x.md": "x\n"}
    )
    return int(opened["number"])


def comment(stack: Stack, number: int, author: str, body: str) -> dict[str, Any]:
    found: dict[str, Any] = github(stack, "POST", "comment", repo=GITHUB_FLEET, number=number, author=author, body=body)
    return found


def jobs(client: redis.Redis) -> dict[str, JobRecord]:
    found = {}
    for key in client.scan_iter("fluxops:job:*"):
        name = str(key)
        if name.count(":") == 2:
            data = {str(k): str(v) for k, v in client.hgetall(name).items()}
            found[name] = JobRecord.from_mapping(data)
    return found


def test_a_stranger_comment_becomes_no_job(stack: Stack, redis_client: redis.Redis, arm_writes: ArmWrites) -> None:
    number = open_pull(stack, "stranger")
    before = set(jobs(redis_client))
    comment(stack, number, "somebody-else", "/flux suspend anything -c flux-demo-aks")
    wait_for("the stranger to be audited", lambda: refusals(redis_client, "github:somebody-else"))
    assert set(jobs(redis_client)) == before
    assert arm_writes.since() == []


def test_refused_commands_are_kept_briefly_and_huge_comments_not_whole(
    stack: Stack, redis_client: redis.Redis, arm_writes: ArmWrites
) -> None:
    number = open_pull(stack, "limits")
    refused = comment(stack, number, GITHUB_OUTSIDER, "/flux suspend anything -c flux-demo-aks")
    wait_for(
        "the refusal on the pull request",
        lambda: [
            c
            for c in github(stack, "GET", "comments", repo=GITHUB_FLEET, number=number)
            if c["author"] == "fluxops-bot" and c["id"] > refused["id"] and "needs operator" in c["body"]
        ],
    )
    [(key, record)] = [(k, r) for k, r in jobs(redis_client).items() if r.actor == GITHUB_OUTSIDER]
    assert 0 < redis_client.ttl(key) <= 3600
    assert refusals(redis_client, "needs operator")

    huge = "/flux clusters\n" + "x" * 200_000
    comment(stack, number, GITHUB_ADMIN, huge)
    wait_for("the huge comment's job", lambda: [r for r in jobs(redis_client).values() if r.text == "clusters"])
    [record] = [r for r in jobs(redis_client).values() if r.text == "clusters"]
    stored = CommentEvent.from_json(record.event)
    assert len(stored.body) == BODY_KEPT and len(record.event) < 10_000
    assert arm_writes.since() == []


def test_only_an_admin_unlocks_a_cluster_a_pull_request_holds(
    stack: Stack, chat_as: ChatAs, redis_client: redis.Redis
) -> None:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    cluster = (
        f"/subscriptions/{endpoints.subscription_id}/resourcegroups/flux-demo-rg/providers/"
        "microsoft.containerservice/managedclusters/flux-demo-aks"
    )
    holder = f"https://github.com/{GITHUB_FLEET}/pull/999"
    redis_client.set(f"fluxops:claim:{cluster}", holder, ex=3600)

    operator = chat_as(OPERATOR)
    refused = str(operator.send("/flux unlock flux-demo-aks").get("body"))
    assert "needs admin" in refused
    assert redis_client.get(f"fluxops:claim:{cluster}") == holder
    assert refusals(redis_client, "unlock")

    assert chat_as(YOU).run("/flux unlock flux-demo-aks") == 0
    assert redis_client.get(f"fluxops:claim:{cluster}") is None
    done = wait_for(  # the audit entry is written just after the message says Succeeded
        "the unlock's audit entry",
        lambda: [
            e for e in audit_entries(redis_client) if "/flux unlock" in e["command"] and e["result"] == "succeeded"
        ],
    )
    assert done[0]["actor"] == f"slack:{YOU}"
