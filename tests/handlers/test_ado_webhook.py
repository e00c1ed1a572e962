"""POST /webhooks/azure-devops through the real app (create_app) into a real redis-server."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.decision import digest
from bot.gitevents import CommentEvent, PullRequestEvent, PushEvent, RepoRef
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
SAMPLES = Path(__file__).parent / "ado_samples"  # Microsoft's documented samples (see its README.md)
PUBLISHED_DEFAULT_BRANCH = "master"  # the documented repositories' defaultBranch (2022 samples)
COMMENTED_DEFAULT_BRANCH = "main"  # the comment sample's repository (a later page version)
_notifications = iter(range(1, 1_000_000))


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    async for started in start_hooks(aiohttp_client, redis_server, tmp_path):
        yield started


def sample(event_type: str) -> dict[str, Any]:
    """A documented sample as one delivery of this test's subscription (the page's samples have no
    subscriptionId and notificationId, which every real delivery carries)."""
    payload: dict[str, Any] = json.loads((SAMPLES / f"{event_type}.json").read_text())
    payload.update(subscriptionId=SUBSCRIPTION, notificationId=next(_notifications))
    return payload


def on_repository(repository: dict[str, Any], names: tuple[str, str, str] = ADO_FLEET) -> dict[str, Any]:
    """A documented repository object renamed to ``names`` (organization, project, repository); in place."""
    org, project, name = names
    repository.update(
        id=REPO_ID, name=name, remoteUrl=f"https://dev.azure.com/{org}/{project}/_git/{name}",
        url=f"https://dev.azure.com/{org}/{project}/_apis/git/repositories/{REPO_ID}",
    )  # fmt: skip
    repository["project"].update(id=PROJECT_ID, name=project)
    return repository


def fleet_ref(names: tuple[str, str, str] = ADO_FLEET, default_branch: str = PUBLISHED_DEFAULT_BRANCH) -> RepoRef:
    org, project, name = names
    return RepoRef(
        provider="azure-devops", full_name=f"{org}/{project}/{name}",
        url=f"https://dev.azure.com/{org}/{project}/_git/{name}", id=REPO_ID, default_branch=default_branch,
    )  # fmt: skip


def push(branch: str | None = None, *, names: tuple[str, str, str] = ADO_FLEET) -> dict[str, Any]:
    """The documented git.push; ``branch`` replaces the branch its one ref update moves."""
    payload = sample("git.push")
    on_repository(payload["resource"]["repository"], names)
    if branch is not None:
        payload["resource"]["refUpdates"][0]["name"] = f"refs/heads/{branch}"
    return payload


def pr(
    event_type: str,
    *,
    status: str | None = None,
    names: tuple[str, str, str] = ADO_FLEET,
    target_branch: str | None = None,
    fork: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """The documented pull request event; ``status`` replaces the pull request's status."""
    payload = sample(event_type)
    resource = payload["resource"]
    on_repository(resource["repository"], names)
    if status is not None:
        resource["status"] = status
    if target_branch is not None:
        resource["targetRefName"] = f"refs/heads/{target_branch}"
    if fork is not None:  # GitPullRequest.forkSource: the fork the source branch lives in
        resource["forkSource"] = {"name": "refs/heads/mytopic", "repository": on_repository(
            json.loads(json.dumps(resource["repository"])), fork
        )}  # fmt: skip
    return payload


def pr_comment(content: str) -> dict[str, Any]:
    """The pull request comment event, with ``content`` written just now (older comments are not run)."""
    payload = sample("ms.vss-code.git-pullrequest-comment-event")
    on_repository(payload["resource"]["pullRequest"]["repository"])
    comment = payload["resource"]["comment"]
    written = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    comment.update(content=content, publishedDate=written, lastUpdatedDate=written, lastContentUpdatedDate=written)
    comment["author"].update(uniqueName="carol@contoso.com", displayName="Carol")  # not the pull request's author
    # (the documented comment is an edit: publishedDate before lastContentUpdatedDate; this one is new)
    return payload


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


# what the documented samples say, so the expectations below compare something real
PUSHED, PUSHED_FROM = "33b55f7cb7e7e245323987634f960cf4a6e6bc74", "aad331d8d3b131fa9ae03cf5e53965b51942618a"
PUSHER = "Windows Live ID\\fabrikamfiber4@hotmail.com"  # pushedBy.uniqueName, as documented
PR_AUTHOR = "fabrikamfiber4@hotmail.com"
PR_CHANNEL = f"{'/'.join(ADO_FLEET)}#1"
PR_CREATED, PR_UPDATED, PR_MERGED = "git.pullrequest.created", "git.pullrequest.updated", "git.pullrequest.merged"


def pr_event(action: str, *, merged: bool = False, names: tuple[str, str, str] = ADO_FLEET) -> PullRequestEvent:
    return PullRequestEvent(
        repo=fleet_ref(names), number=1, action=action, head_sha="53d54ac915144006c2c9e90d2c7d3880920db49c",
        head_branch="mytopic", base_branch="master", author=PR_AUTHOR, from_fork=False, merged=merged,
        title="my first pull request",
    )  # fmt: skip


async def test_a_branch_push_is_a_push_job(hooks: Hooks):
    payload = push()
    body = await accepted(await hooks.ado(payload))
    record = hooks.job(body["job"])
    assert_fresh_record(record, platform="azure-devops", kind="push", actor=PUSHER, channel="", text="")
    assert PushEvent.from_json(record.event) == PushEvent(
        repo=fleet_ref(), branch="master", after=PUSHED, before=PUSHED_FROM, pusher=PUSHER, commit_count=1,
        head_message="Fixed bug in web.config file",
    )  # fmt: skip
    key = f"fluxops:dedupe:ado:{SUBSCRIPTION}:{payload['notificationId']}"
    assert hooks.dedupe_keys() == {key: body["job"]}
    assert hooks.queued_task_ids() == [body["job"]]


async def test_a_push_that_moves_two_branches_traces_both(hooks: Hooks):
    payload = push()
    payload["resource"]["refUpdates"] += [
        {"name": "refs/heads/release", "oldObjectId": PUSHED_FROM, "newObjectId": PUSHED},
        {"name": "refs/tags/v1", "oldObjectId": "0" * 40, "newObjectId": PUSHED},
        {"name": "refs/heads/gone", "oldObjectId": PUSHED_FROM, "newObjectId": "0" * 40},
    ]
    body = await accepted(await hooks.ado(payload))
    branches = {PushEvent.from_json(hooks.job(job["job"]).event).branch for job in body["jobs"]}
    assert branches == {"master", "release"} and hooks.queue_length() == 2
    again = await hooks.ado(payload)
    assert [job["duplicate"] for job in (await again.json())["jobs"]] == [True, True]
    assert hooks.queue_length() == 2


async def test_the_documented_repository_url_names_the_organization(hooks: Hooks):
    """The documented remoteUrl is a collection URL (.../fabrikam-fiber-inc/DefaultCollection/_git/...)."""
    payload = sample("git.push")
    body = await accepted(await hooks.ado(payload))
    event = PushEvent.from_json(hooks.job(body["job"]).event)
    assert event.repo.url == payload["resource"]["repository"]["remoteUrl"]
    assert event.repo.full_name == "fabrikam-fiber-inc/Fabrikam-Fiber-Git/Fabrikam-Fiber-Git"


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
        (PR_CREATED, None, "opened"),  # documented: active
        (PR_UPDATED, "active", "updated"),
        (PR_UPDATED, "abandoned", "closed"),
        (PR_MERGED, "active", "updated"),  # a merge attempt that did not complete (conflicts)
    ],
)
async def test_pull_request_activity_on_a_fleet_repository_is_a_plan(
    hooks: Hooks, event_type: str, status: str | None, action: str
):
    body = await accepted(await hooks.ado(pr(event_type, status=status)))
    assert "jobs" not in body
    record = hooks.job(body["job"])
    assert_fresh_record(record, platform="azure-devops", kind="plan", actor=PR_AUTHOR, channel=PR_CHANNEL, text="")
    assert PullRequestEvent.from_json(record.event) == pr_event(action)
    assert hooks.queue_length() == 1


async def test_a_completion_applies_once_however_often_it_is_announced(hooks: Hooks):
    # both documented samples announce the same completion (status completed)
    updated = await accepted(await hooks.ado(pr(PR_UPDATED)))
    kinds = {job["kind"]: job for job in updated["jobs"]}
    assert set(kinds) == {"plan", "apply"} and not kinds["apply"]["duplicate"]
    for job in kinds.values():
        assert PullRequestEvent.from_json(hooks.job(job["job"]).event) == pr_event("merged", merged=True)
    # Azure DevOps also sends git.pullrequest.merged for the same completion: a new plan, the same apply
    merged = await accepted(await hooks.ado(pr(PR_MERGED)))
    again = {job["kind"]: job for job in merged["jobs"]}
    assert again["apply"] == {**kinds["apply"], "duplicate": True}
    assert not again["plan"]["duplicate"] and hooks.queue_length() == 3
    assert hooks.dedupe_keys()[f"fluxops:dedupe:ado:{REPO_ID}:pr1:apply-on-merge"] == kinds["apply"]["job"]


@pytest.mark.parametrize("variant", ["other target branch", "from a fork"])
async def test_completions_that_do_not_apply(hooks: Hooks, variant: str):
    if variant == "other target branch":
        payload = pr(PR_UPDATED, target_branch="release")
    else:
        payload = pr(PR_UPDATED, fork=("mallory", "forks", "fleet"))
    body = await accepted(await hooks.ado(payload))
    assert "jobs" not in body and hooks.job(body["job"]).kind == "plan"
    assert hooks.queue_length() == 1


@pytest.mark.parametrize("event_type", [PR_CREATED, PR_UPDATED])
async def test_active_pull_requests_elsewhere_are_a_preflight(hooks: Hooks, event_type: str):
    body = await accepted(await hooks.ado(pr(event_type, status="active", names=ADO_OTHER)))
    record = hooks.job(body["job"])
    assert "jobs" not in body and record.kind == "preflight"
    assert PullRequestEvent.from_json(record.event).repo.full_name == "/".join(ADO_OTHER)
    assert hooks.queue_length() == 1


async def test_closed_pull_requests_elsewhere_are_ignored(hooks: Hooks):
    reason = await ignored(await hooks.ado(pr(PR_UPDATED, status="abandoned", names=ADO_OTHER)))
    assert reason == f"{'/'.join(ADO_OTHER)} is not a fleet repository, and a closed pull request needs no preflight"
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
    payload = pr_comment(content)
    body = await accepted(await hooks.ado(payload))
    record = hooks.job(body["job"])
    assert_fresh_record(
        record, platform="azure-devops", kind=kind, actor="carol@contoso.com", channel=PR_CHANNEL, text=words
    )
    assert CommentEvent.from_json(record.event) == CommentEvent(
        repo=fleet_ref(default_branch=COMMENTED_DEFAULT_BRANCH),
        number=1,
        comment_id="2",
        author="carol@contoso.com",
        body=content,
        thread_id="5",  # from the comment's _links.threads
        body_digest=digest(content),
        created_at=datetime.fromisoformat(payload["resource"]["comment"]["publishedDate"]).timestamp(),
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


async def test_the_documented_comment_is_an_edit_and_is_not_run(hooks: Hooks):
    payload = sample("ms.vss-code.git-pullrequest-comment-event")  # "Jamal Hartnett has edited a ... comment"
    on_repository(payload["resource"]["pullRequest"]["repository"])
    assert await ignored(await hooks.ado(payload)) == "an edited comment: only new comments are read"
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
