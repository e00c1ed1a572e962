"""POST /webhooks/azure-devops through the real app (create_app) into a real redis-server."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.decision import digest
from bot.gitevents import CommentEvent, PullRequestEvent, PushEvent, RepoRef
from sandbox.azure_devops import payloads as ado
from tests.handlers.test_github_webhook import (
    ADO_FLEET,
    ADO_OTHER,
    ADO_PASSWORD,
    ADO_USER,
    Hooks,
    assert_fresh_record,
    clean_environment,
    encode,
    start_hooks,
)

SUBSCRIPTION = "4f6e6328-0251-4814-a009-c01dfa368e3f"
REPO_ID = "278d5cd2-584d-4b63-824a-2ba458937249"
PROJECT_ID = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c"
SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40
_notifications = iter(range(1, 1_000_000))


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    async for started in start_hooks(aiohttp_client, redis_server, tmp_path):
        yield started


def repo(names: tuple[str, str, str] = ADO_FLEET, **kw: Any) -> dict[str, Any]:
    org, project, name = names
    return ado.repository(org=org, project=project, name=name, repo_id=REPO_ID, project_id=PROJECT_ID, **kw)


def fleet_ref(names: tuple[str, str, str] = ADO_FLEET) -> RepoRef:
    org, project, name = names
    return RepoRef(
        provider="azure-devops", full_name=f"{org}/{project}/{name}",
        url=f"https://dev.azure.com/{org}/{project}/_git/{name}", id=REPO_ID, default_branch="main",
    )  # fmt: skip


def push(branch: str = "main", *, after: str = SHA_B, names: tuple[str, str, str] = ADO_FLEET) -> dict[str, Any]:
    r = repo(names)
    commits = [
        ado.commit(sha=after, message="Bump podinfo\nto 6.5", author="alice@contoso.com", date=ado.now(), repo=r),
        ado.commit(sha=SHA_A, message="first", author="alice@contoso.com", date=ado.now(), repo=r),
    ]
    return ado.git_push(
        repo=r, branch=branch, before=SHA_C, after=after, pusher="alice@contoso.com", commits=commits,
        subscription_id=SUBSCRIPTION, notification_id=next(_notifications),
    )  # fmt: skip


def pr(
    event_type: str, *, status: str = "active", names: tuple[str, str, str] = ADO_FLEET, **kw: Any
) -> dict[str, Any]:
    kw.setdefault("target_branch", "main")
    return ado.pull_request(
        event_type=event_type, repo=repo(names), pr_id=7, source_branch="feature", source_commit=SHA_B,
        target_commit=SHA_A, author="bob@contoso.com", subscription_id=SUBSCRIPTION,
        notification_id=next(_notifications), status=status, title="Add cluster", **kw,
    )  # fmt: skip


def pr_comment(content: str, **kw: Any) -> dict[str, Any]:
    return ado.pr_comment(
        repo=repo(), pr_id=7, thread_id=31, comment_id=2, author="carol@contoso.com", content=content,
        subscription_id=SUBSCRIPTION, notification_id=next(_notifications), source_commit=SHA_B,
        pr_author="bob@contoso.com", **kw,
    )  # fmt: skip


async def accepted(response: ClientResponse) -> dict[str, Any]:
    assert response.status == 202, await response.text()
    body: dict[str, Any] = await response.json()
    assert "ignored" not in body and body["duplicate"] is False
    return body


async def ignored(response: ClientResponse) -> str:
    assert response.status == 202, await response.text()
    body = await response.json()
    assert set(body) == {"ignored"}
    return str(body["ignored"])


def pr_event(action: str, *, merged: bool = False, names: tuple[str, str, str] = ADO_FLEET) -> PullRequestEvent:
    return PullRequestEvent(
        repo=fleet_ref(names), number=7, action=action, head_sha=SHA_B, head_branch="feature", base_branch="main",
        author="bob@contoso.com", from_fork=False, merged=merged, title="Add cluster",
    )  # fmt: skip


async def test_a_branch_push_is_a_push_job(hooks: Hooks):
    payload = push()
    body = await accepted(await hooks.ado(payload))
    record = hooks.job(body["job"])
    assert_fresh_record(record, platform="azure-devops", kind="push", actor="alice@contoso.com", channel="", text="")
    assert PushEvent.from_json(record.event) == PushEvent(
        repo=fleet_ref(), branch="main", after=SHA_B, before=SHA_C, pusher="alice@contoso.com", commit_count=2,
        head_message="Bump podinfo",
    )  # fmt: skip
    key = f"fluxops:dedupe:ado:{SUBSCRIPTION}:{payload['notificationId']}"
    assert hooks.dedupe_keys() == {key: body["job"]}
    assert hooks.queued_task_ids() == [body["job"]]


async def test_a_push_that_moves_two_branches_traces_both(hooks: Hooks):
    payload = push()
    payload["resource"]["refUpdates"] += [
        {"name": "refs/heads/release", "oldObjectId": SHA_A, "newObjectId": SHA_C},
        {"name": "refs/tags/v1", "oldObjectId": "0" * 40, "newObjectId": SHA_C},
        {"name": "refs/heads/gone", "oldObjectId": SHA_A, "newObjectId": "0" * 40},
    ]
    body = await accepted(await hooks.ado(payload))
    branches = {PushEvent.from_json(hooks.job(job["job"]).event).branch for job in body["jobs"]}
    assert branches == {"main", "release"} and hooks.queue_length() == 2
    again = await hooks.ado(payload)
    assert [job["duplicate"] for job in (await again.json())["jobs"]] == [True, True]
    assert hooks.queue_length() == 2


async def test_the_organization_comes_from_the_resource_containers(hooks: Hooks):
    """Old-style URLs (org.visualstudio.com, a user name in remoteUrl) name the same repository."""
    payload = push()
    remote = "https://contoso@contoso.visualstudio.com/platform/_git/fleet"
    payload["resource"]["repository"]["remoteUrl"] = remote
    payload["resourceContainers"]["account"]["baseUrl"] = "https://contoso.visualstudio.com/"
    body = await accepted(await hooks.ado(payload))
    event = PushEvent.from_json(hooks.job(body["job"]).event)
    assert event.repo.full_name == "contoso/platform/fleet"
    assert event.repo.url == "https://contoso.visualstudio.com/platform/_git/fleet"  # no user name


@pytest.mark.parametrize(
    ("event_type", "status", "action"),
    [
        (ado.PR_CREATED, "active", "opened"),
        (ado.PR_UPDATED, "active", "updated"),
        (ado.PR_UPDATED, "abandoned", "closed"),
        (ado.PR_MERGED, "active", "updated"),  # a merge attempt that did not complete (conflicts)
    ],
)
async def test_pull_request_activity_on_a_fleet_repository_is_a_plan(
    hooks: Hooks, event_type: str, status: str, action: str
):
    body = await accepted(await hooks.ado(pr(event_type, status=status)))
    assert "jobs" not in body
    record = hooks.job(body["job"])
    channel = f"{'/'.join(ADO_FLEET)}#7"
    assert_fresh_record(record, platform="azure-devops", kind="plan", actor="bob@contoso.com", channel=channel, text="")
    assert PullRequestEvent.from_json(record.event) == pr_event(action)
    assert hooks.queue_length() == 1


async def test_a_completion_applies_once_however_often_it_is_announced(hooks: Hooks):
    updated = await accepted(await hooks.ado(pr(ado.PR_UPDATED, status="completed", merge_commit=SHA_C)))
    kinds = {job["kind"]: job for job in updated["jobs"]}
    assert set(kinds) == {"plan", "apply"} and not kinds["apply"]["duplicate"]
    for job in kinds.values():
        assert PullRequestEvent.from_json(hooks.job(job["job"]).event) == pr_event("merged", merged=True)
    # Azure DevOps also sends git.pullrequest.merged for the same completion: a new plan, the same apply
    merged = await accepted(await hooks.ado(pr(ado.PR_MERGED, status="completed", merge_commit=SHA_C)))
    again = {job["kind"]: job for job in merged["jobs"]}
    assert again["apply"] == {**kinds["apply"], "duplicate": True}
    assert not again["plan"]["duplicate"] and hooks.queue_length() == 3
    assert hooks.dedupe_keys()[f"fluxops:dedupe:ado:{REPO_ID}:pr7:apply-on-merge"] == kinds["apply"]["job"]


@pytest.mark.parametrize("variant", ["other target branch", "from a fork"])
async def test_completions_that_do_not_apply(hooks: Hooks, variant: str):
    if variant == "other target branch":
        payload = pr(ado.PR_UPDATED, status="completed", target_branch="release")
    else:
        fork = repo(("mallory", "forks", "fleet"))
        payload = pr(ado.PR_UPDATED, status="completed", fork_repo=fork)
    body = await accepted(await hooks.ado(payload))
    assert "jobs" not in body and hooks.job(body["job"]).kind == "plan"
    assert hooks.queue_length() == 1


async def test_pull_requests_elsewhere_are_ignored(hooks: Hooks):
    reason = await ignored(await hooks.ado(pr(ado.PR_CREATED, names=ADO_OTHER)))
    assert reason == f"{'/'.join(ADO_OTHER)} is not a fleet repository"
    hooks.assert_nothing_enqueued()


@pytest.mark.parametrize(
    ("content", "kind", "words"),
    [
        ("/flux apply", "apply", "apply"),
        ("/flux plan", "plan", "plan"),
        ("/flux config list -c prod-weu\n\nthanks", "command", "config list -c prod-weu"),
        ("/flux help config create", "command", "help config create"),
    ],
)
async def test_comments_addressed_to_fluxops(hooks: Hooks, content: str, kind: str, words: str):
    body = await accepted(await hooks.ado(pr_comment(content)))
    record = hooks.job(body["job"])
    channel = f"{'/'.join(ADO_FLEET)}#7"
    assert_fresh_record(
        record, platform="azure-devops", kind=kind, actor="carol@contoso.com", channel=channel, text=words
    )
    event = CommentEvent.from_json(record.event)
    assert abs(event.created_at - time.time()) < 120  # the comment's publishedDate: just now
    assert replace(event, created_at=0.0) == CommentEvent(
        repo=fleet_ref(),
        number=7,
        comment_id="2",
        author="carol@contoso.com",
        body=content,
        thread_id="31",
        body_digest=digest(content),
    )


async def test_the_thread_id_falls_back_to_resource_fields(hooks: Hooks):
    payload = pr_comment("/flux clusters")
    del payload["resource"]["comment"]["_links"]
    payload["resource"]["thread"] = {"id": 99}
    body = await accepted(await hooks.ado(payload))
    assert CommentEvent.from_json(hooks.job(body["job"]).event).thread_id == "99"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"content": "LGTM, but /flux apply later"}, "the comment does not start with /flux"),
        ({"lastContentUpdatedDate": "2030-01-01T00:00:00.0000000Z"}, "an edited comment: only new comments are read"),
        ({"isDeleted": True}, "the comment was deleted"),
        ({"commentType": "system"}, "a system comment"),
    ],
)
async def test_comments_that_are_ignored(hooks: Hooks, change: dict[str, Any], reason: str):
    payload = pr_comment("/flux apply")
    payload["resource"]["comment"].update(change)
    assert await ignored(await hooks.ado(payload)) == reason
    hooks.assert_nothing_enqueued()


async def test_concurrent_copies_of_one_notification_start_one_job(hooks: Hooks):
    body = encode(pr_comment("/flux apply"))
    headers = {"Authorization": "Basic " + base64.b64encode(f"{ADO_USER}:{ADO_PASSWORD}".encode()).decode(),
               "Content-Type": "application/json"}  # fmt: skip
    responses = await asyncio.gather(
        *(hooks.client.post("/webhooks/azure-devops", data=body, headers=headers) for _ in range(1000))
    )
    answers = [await r.json() for r in responses]
    assert {r.status for r in responses} == {202} and len({a["job"] for a in answers}) == 1
    assert sum(not a["duplicate"] for a in answers) == 1
    assert hooks.queue_length() == 1 and len(hooks.job_ids()) == 1


async def test_a_redelivered_notification_is_a_duplicate(hooks: Hooks):
    payload = push()
    first = await accepted(await hooks.ado(payload))
    payload["id"] = str(uuid.uuid4())  # a resend keeps the notification id; the event id may differ
    again = await hooks.ado(payload)
    assert await again.json() == {"job": first["job"], "duplicate": True}
    assert hooks.queue_length() == 1
