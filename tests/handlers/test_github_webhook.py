"""POST /webhooks/github through the real app (create_app) into a real redis-server.

Every test reads what the one Redis step left behind: the job hash, the dedupe key and the Celery
queue list. The module also holds the harness the Azure DevOps and bad-input tests share.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from bot.decision import digest
from bot.errors import ConfigurationError
from bot.gitevents import CommentEvent, PullRequestEvent, PushEvent, RepoRef, ReviewEvent, event_from_json
from bot.jobs import JobRecord
from bot.settings import Settings
from handlers.app import create_app
from tests import github_examples as published
from workers.redis_jobs import ACTIVE_JOBS_KEY, job_key

# -- the harness (imported by test_ado_webhook.py and test_webhook_bad_input.py) -----------------------

GITHUB_SECRET = "it's a secret to everybody"
ADO_USER = "fluxops-hook"
ADO_PASSWORD = "p@ss:word with colon"
HOOK_ID = "42"
QUEUE = "fluxops"  # the list the JobQueue of create_app pushes to
DB = 9  # a database of the session's redis-server of its own, flushed before each test

FLEET = "acme/fleet"  # apply_on_merge: true
MANUAL_FLEET = "acme/manual-fleet"  # a fleet repository without apply_on_merge
OTHER = "acme/app"  # not a fleet repository
ADO_FLEET = ("contoso", "platform", "fleet")  # apply_on_merge: true
ADO_OTHER = ("contoso", "platform", "app")

CONFIG = f"""
roles:
  - role: viewer
    github_users: ["*"]
    ado_users: ["*"]
fleet_repositories:
  - repository: https://github.com/{FLEET}
    apply_on_merge: true
  - repository: git@github.com:{MANUAL_FLEET}.git
  - repository: https://dev.azure.com/{"/".join(ADO_FLEET[:2])}/_git/{ADO_FLEET[2]}
    path: clusters
    apply_on_merge: true
"""


def sign(body: bytes, secret: str = GITHUB_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def basic(user: str = ADO_USER, password: str = ADO_PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def github_headers(event: str, body: bytes, *, delivery: str | None = None) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": HOOK_ID,
        "X-Hub-Signature-256": sign(body),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/tests",
    }


def ado_headers() -> dict[str, str]:
    return {"Authorization": basic(), "Content-Type": "application/json; charset=utf-8"}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@dataclass
class Hooks:
    """The app under test and a view of its Redis database."""

    client: TestClient[Any, Any]
    redis: redis.Redis

    async def github(self, event: str, payload: dict[str, Any], *, delivery: str | None = None) -> ClientResponse:
        body = encode(payload)
        return await self.client.post(
            "/webhooks/github", data=body, headers=github_headers(event, body, delivery=delivery)
        )

    async def ado(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.client.post("/webhooks/azure-devops", data=encode(payload), headers=ado_headers())

    def queue_length(self) -> int:
        return int(self.redis.llen(QUEUE))

    def job_ids(self) -> set[str]:
        return {key.removeprefix("fluxops:job:") for key in self.redis.scan_iter("fluxops:job:*")}

    def job(self, job_id: str) -> JobRecord:
        data = {str(k): str(v) for k, v in self.redis.hgetall(job_key(job_id)).items()}
        assert data, f"no job record for {job_id}"
        return JobRecord.from_mapping(data)

    def dedupe_keys(self) -> dict[str, str]:
        return {key: str(self.redis.get(key)) for key in self.redis.scan_iter("fluxops:dedupe:*")}

    def queued_task_ids(self) -> list[str]:
        return [json.loads(raw)["headers"]["id"] for raw in self.redis.lrange(QUEUE, 0, -1)]

    def assert_nothing_enqueued(self) -> None:
        assert self.queue_length() == 0
        assert self.job_ids() == set()
        assert self.dedupe_keys() == {}
        assert self.redis.zcard(ACTIVE_JOBS_KEY) == 0


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the process environment too: the tests see only what they pass."""
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


def settings_for(redis_server: str, tmp_path: Path, **env: str) -> Settings:
    config = tmp_path / "fluxops.yaml"
    config.write_text(CONFIG)
    values: dict[str, Any] = {
        "REDIS_URL": redis_server.rsplit("/", 1)[0] + f"/{DB}",
        "FLUXOPS_CONFIG": str(config),
        "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "ADO_WEBHOOK_USERNAME": ADO_USER,
        "ADO_WEBHOOK_PASSWORD": ADO_PASSWORD,
        **env,
    }
    return Settings(**values)


async def start_hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    settings = settings_for(redis_server, tmp_path)
    view = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    view.flushdb()
    client = await aiohttp_client(create_app(settings))
    yield Hooks(client, view)
    view.flushdb()
    view.close()


def assert_fresh_record(record: JobRecord, *, platform: str, kind: str, actor: str, channel: str, text: str) -> None:
    assert record.job_id.startswith("j-") and len(record.job_id) == 14
    assert (record.platform, record.kind, record.actor, record.channel, record.text) == (
        platform, kind, actor, channel, text
    )  # fmt: skip
    assert record.created_at > 0 and record.team == "" and record.response_url == "" and record.confirmed_by == ""


# -- fixtures and payloads -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture
async def hooks(aiohttp_client: Any, redis_server: str, tmp_path: Path) -> AsyncIterator[Hooks]:
    async for started in start_hooks(aiohttp_client, redis_server, tmp_path):
        yield started


# The payloads are GitHub's published examples (tests/github_examples.py); each builder changes only what
# its tests need: the repository (a fleet repository or not), the installation, an action or an account.
REPO_ID = 1001
INSTALLATION = 77
COMMENTER_ID = 4242
PUBLISHED_DEFAULT_BRANCH = "master"  # the examples' repository (Codertocat/Hello-World) default branch


def push(ref: str | None = None, *, full_name: str = FLEET) -> dict[str, Any]:
    """The published push of a branch (``ref`` replaces its ref), sent to a GitHub App installation."""
    payload = published.on_repository(published.example("push", ref_prefix="refs/heads/"), full_name, REPO_ID)
    payload["installation"]["id"] = INSTALLATION
    if ref is not None:
        payload["ref"] = ref
    return payload


def pr(
    action: str,
    *,
    full_name: str = FLEET,
    merged: bool = False,
    base_ref: str | None = None,
    installation: bool = False,
    sender: str | None = None,
    fork: str | None = None,
) -> dict[str, Any]:
    """The published pull_request delivery of ``action``; ``fork``: the head repository's full name."""
    payload = published.on_repository(published.example("pull_request", action=action), full_name, REPO_ID)
    pull = payload["pull_request"]
    if merged:
        pull["merged"] = True
    if base_ref is not None:
        pull["base"]["ref"] = base_ref
    if installation:
        payload["installation"] = {"id": INSTALLATION}
    if sender is not None:
        published.as_user(payload["sender"], sender, 9000 + len(sender))
    if fork is not None:
        published.retarget(pull["head"]["repo"], fork, 666)
    return payload


def comment(
    body: str, comment_id: int = 555, *, full_name: str = FLEET, author: str = "carol", installation: bool = False
) -> dict[str, Any]:
    """The published issue_comment ``created``, on a pull request (GitHub's ``issue.pull_request``), written
    by ``author`` (not the issue's author) with ``body``."""
    payload = published.on_repository(published.example("issue_comment", action="created"), full_name, REPO_ID)
    issue, note = payload["issue"], payload["comment"]
    pulls = f"{full_name}/pull/{issue['number']}"
    issue["pull_request"] = {
        "url": f"https://api.github.com/repos/{full_name}/pulls/{issue['number']}",
        "html_url": f"https://github.com/{pulls}", "diff_url": f"https://github.com/{pulls}.diff",
        "patch_url": f"https://github.com/{pulls}.patch",
    }  # fmt: skip
    written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # just now: older comments are not run
    note.update(id=comment_id, body=body, created_at=written, updated_at=written)
    published.as_user(note["user"], author, COMMENTER_ID)
    published.as_user(payload["sender"], author, COMMENTER_ID)
    if installation:
        payload["installation"] = {"id": INSTALLATION}
    return payload


def review(state: str | None = None, action: str = "submitted", *, full_name: str = FLEET) -> dict[str, Any]:
    """The published pull_request_review of ``action``; ``state`` replaces the review's state."""
    payload = published.on_repository(published.example("pull_request_review", action=action), full_name, REPO_ID)
    if state is not None:
        payload["review"]["state"] = state
    return payload


def fleet_ref(full_name: str = FLEET, installation_id: str = "") -> RepoRef:
    return RepoRef(
        provider="github", full_name=full_name, url=f"https://github.com/{full_name}.git", id=str(REPO_ID),
        default_branch=PUBLISHED_DEFAULT_BRANCH, installation_id=installation_id,
    )  # fmt: skip


def installation_of(payload: dict[str, Any]) -> str:
    """The GitHub App installation a published example was sent to ("" for a repository's own webhook)."""
    return str((payload.get("installation") or {}).get("id", ""))


def channel_of(payload: dict[str, Any]) -> str:
    number = (payload.get("pull_request") or payload.get("issue") or {})["number"]
    return f"{payload['repository']['full_name']}#{number}"


async def accepted(response: ClientResponse) -> dict[str, Any]:
    assert response.status == 202, await response.text()
    body: dict[str, Any] = await response.json()
    assert "ignored" not in body and body["duplicate"] is False
    return body


# -- tests ---------------------------------------------------------------------------------------------


async def test_ping_answers_without_enqueueing(hooks: Hooks):
    payload = published.example("ping")
    assert payload["hook_id"] and payload["zen"]  # a repository's hook, as published
    response = await hooks.github("ping", payload)
    assert response.status == 200
    assert await response.json() == {"pong": True, "hook_id": HOOK_ID}
    hooks.assert_nothing_enqueued()


async def test_a_branch_push_is_a_push_job(hooks: Hooks):
    delivery = str(uuid.uuid4())
    payload = push()
    body = await accepted(await hooks.github("push", payload, delivery=delivery))
    job_id = body["job"]
    record = hooks.job(job_id)
    pusher = payload["sender"]["login"]
    assert_fresh_record(record, platform="github", kind="push", actor=pusher, channel="", text="")
    assert PushEvent.from_json(record.event) == PushEvent(
        repo=fleet_ref(installation_id=str(INSTALLATION)), branch=payload["ref"].removeprefix("refs/heads/"),
        after=payload["after"], before=payload["before"], pusher=pusher, commit_count=len(payload["commits"]),
        head_message=payload["head_commit"]["message"].splitlines()[0],
    )  # fmt: skip
    # what the published example says, so the lines above compare something real
    assert (pusher, payload["ref"], len(payload["commits"])) == ("Codertocat", "refs/heads/master", 1)
    assert PushEvent.from_json(record.event).head_message == "Initial commit"
    # the dedupe key, the record, the active set and the Celery message came from one script
    assert hooks.dedupe_keys() == {f"fluxops:dedupe:github:{HOOK_ID}:{delivery}": job_id}
    assert hooks.queued_task_ids() == [job_id]
    assert hooks.redis.hget(job_key(job_id), "p:phase") == "queued"
    assert hooks.redis.zscore(ACTIVE_JOBS_KEY, job_id) is not None


async def test_pushes_to_any_repository_are_traced(hooks: Hooks):
    body = await accepted(await hooks.github("push", push("refs/heads/release/1.x", full_name=OTHER)))
    event = PushEvent.from_json(hooks.job(body["job"]).event)
    assert (event.repo.full_name, event.branch) == (OTHER, "release/1.x")


async def test_a_published_tag_push_is_not_traced(hooks: Hooks):
    payload = published.on_repository(published.example("push", ref_prefix="refs/tags/"), FLEET, REPO_ID)
    response = await hooks.github("push", payload)
    assert response.status == 202
    assert await response.json() == {
        "ignored": f"{payload['ref']} is not a branch (tags and other refs are not traced)"
    }
    hooks.assert_nothing_enqueued()


@pytest.mark.parametrize(
    ("action", "normalized"),
    [("opened", "opened"), ("synchronize", "synchronize"), ("reopened", "reopened"), ("ready_for_review", "updated")],
)
async def test_pull_request_activity_on_a_fleet_repository_is_a_plan(hooks: Hooks, action: str, normalized: str):
    payload = pr(action, installation=True)
    body = await accepted(await hooks.github("pull_request", payload))
    record = hooks.job(body["job"])
    pull = payload["pull_request"]
    author = pull["user"]["login"]
    assert_fresh_record(record, platform="github", kind="plan", actor=author, channel=channel_of(payload), text="")
    assert PullRequestEvent.from_json(record.event) == PullRequestEvent(
        repo=fleet_ref(installation_id=str(INSTALLATION)), number=pull["number"], action=normalized,
        head_sha=pull["head"]["sha"], head_branch=pull["head"]["ref"], base_branch=pull["base"]["ref"], author=author,
        from_fork=False, merged=False, title=pull["title"],
    )  # fmt: skip
    assert (pull["number"], pull["head"]["ref"], pull["base"]["ref"]) == (2, "changes", "master")  # as published
    assert hooks.queue_length() == 1


@pytest.mark.parametrize("action", ["labeled", "assigned", "locked", "review_requested"])
async def test_pull_request_activity_that_does_not_change_the_plan(hooks: Hooks, action: str):
    response = await hooks.github("pull_request", pr(action))
    assert await response.json() == {"ignored": f"pull_request {action} does not change the plan"}
    hooks.assert_nothing_enqueued()


async def test_a_closed_pull_request_is_a_plan_that_releases_locks(hooks: Hooks):
    body = await accepted(await hooks.github("pull_request", pr("closed")))
    assert "jobs" not in body
    event = PullRequestEvent.from_json(hooks.job(body["job"]).event)
    assert (event.action, event.merged) == ("closed", False)
    assert hooks.queue_length() == 1


async def test_a_merge_into_the_default_branch_applies_when_the_fleet_says_so(hooks: Hooks):
    delivery = str(uuid.uuid4())
    payload = pr("closed", merged=True, sender="erin")
    body = await accepted(await hooks.github("pull_request", payload, delivery=delivery))
    kinds = {job["kind"]: job["job"] for job in body["jobs"]}
    assert set(kinds) == {"plan", "apply"} and body["job"] == kinds["plan"]
    for kind, job_id in kinds.items():
        record = hooks.job(job_id)
        assert_fresh_record(record, platform="github", kind=kind, actor="erin", channel=channel_of(payload), text="")
        event = PullRequestEvent.from_json(record.event)
        assert (event.action, event.merged, event.base_branch) == ("merged", True, PUBLISHED_DEFAULT_BRANCH)
    assert hooks.queue_length() == 2
    base = f"fluxops:dedupe:github:{HOOK_ID}:{delivery}"
    assert hooks.dedupe_keys() == {base: kinds["plan"], f"{base}:apply": kinds["apply"]}


@pytest.mark.parametrize(
    "variant",
    ["other base branch", "no apply_on_merge", "from a fork"],
)
async def test_merges_that_do_not_apply(hooks: Hooks, variant: str):
    if variant == "other base branch":
        payload = pr("closed", merged=True, base_ref="release")
    elif variant == "no apply_on_merge":
        payload = pr("closed", merged=True, full_name=MANUAL_FLEET)
    else:
        payload = pr("closed", merged=True, fork="mallory/fleet")
    body = await accepted(await hooks.github("pull_request", payload))
    assert "jobs" not in body and hooks.job(body["job"]).kind == "plan"
    assert hooks.queue_length() == 1
    if variant == "from a fork":
        assert PullRequestEvent.from_json(hooks.job(body["job"]).event).from_fork is True


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
async def test_new_commits_on_pull_requests_elsewhere_are_a_preflight(hooks: Hooks, action: str):
    body = await accepted(await hooks.github("pull_request", pr(action, full_name=OTHER)))
    record = hooks.job(body["job"])
    assert "jobs" not in body and record.kind == "preflight"
    event = PullRequestEvent.from_json(record.event)
    assert (event.repo.full_name, event.action) == (OTHER, action)
    assert hooks.queue_length() == 1


async def test_closed_pull_requests_elsewhere_are_ignored(hooks: Hooks):
    response = await hooks.github("pull_request", pr("closed", full_name=OTHER))
    assert response.status == 202
    assert await response.json() == {
        "ignored": f"{OTHER} is not a fleet repository, and a closed pull request needs no preflight"
    }
    hooks.assert_nothing_enqueued()


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("/flux apply", "apply", "apply"),
        ("/flux plan\n\nplease", "plan", "plan"),
        ("  /FLUX Apply now", "apply", "Apply now"),
        ("/flux config show apps -c prod-weu\nthanks!", "command", "config show apps -c prod-weu"),
        ("/flux help", "command", "help"),
        ("/flux", "command", ""),
        ("/flux frobnicate", "command", "frobnicate"),  # the worker answers usage errors itself
    ],
)
async def test_comments_addressed_to_fluxops(hooks: Hooks, text: str, kind: str, words: str):
    payload = comment(text, installation=True)
    assert payload["issue"]["user"]["login"] == "Codertocat"  # the pull request's author, as published
    body = await accepted(await hooks.github("issue_comment", payload))
    record = hooks.job(body["job"])
    # the commenter is the actor, never the pull request's author
    assert_fresh_record(record, platform="github", kind=kind, actor="carol", channel=channel_of(payload), text=words)
    assert CommentEvent.from_json(record.event) == CommentEvent(
        repo=fleet_ref(installation_id=str(INSTALLATION)),
        number=payload["issue"]["number"],
        comment_id="555",
        author="carol",
        body=text,
        body_digest=digest(text),
        author_id=str(COMMENTER_ID),  # the account, not only its login
        created_at=datetime.fromisoformat(payload["comment"]["created_at"]).timestamp(),
    )


async def test_comments_that_are_ignored(hooks: Hooks):
    on_an_issue = comment("/flux apply")
    del on_an_issue["issue"]["pull_request"]  # the published comment as it is: on an issue
    edited = published.on_repository(published.example("issue_comment", action="edited"), FLEET, REPO_ID)
    for payload, reason in [
        (on_an_issue, "a comment on an issue, not on a pull request"),
        (edited, "comment edited: only new comments are read"),
        (comment("LGTM"), "the comment does not start with /flux"),
    ]:
        response = await hooks.github("issue_comment", payload)
        assert await response.json() == {"ignored": reason}
    hooks.assert_nothing_enqueued()


async def test_commands_work_in_any_repository(hooks: Hooks):
    payload = comment("/flux clusters", comment_id=9, full_name=OTHER)
    body = await accepted(await hooks.github("issue_comment", payload))
    record = hooks.job(body["job"])
    assert (record.kind, record.channel, record.text) == ("command", channel_of(payload), "clusters")
    assert record.channel.startswith(f"{OTHER}#")


@pytest.mark.parametrize(("state", "action", "expected"), [
    ("approved", "submitted", "approved"),
    ("CHANGES_REQUESTED", "submitted", "changes_requested"),
    (None, "submitted", "commented"),  # the published review: a comment
    (None, "dismissed", "dismissed"),
])  # fmt: skip
async def test_reviews_replan_to_show_approvals(hooks: Hooks, state: str | None, action: str, expected: str):
    payload = review(state, action)
    body = await accepted(await hooks.github("pull_request_review", payload))
    record = hooks.job(body["job"])
    reviewer = payload["review"]["user"]["login"]
    assert_fresh_record(record, platform="github", kind="plan", actor=reviewer, channel=channel_of(payload), text="")
    assert ReviewEvent.from_json(record.event) == ReviewEvent(
        repo=fleet_ref(installation_id=installation_of(payload)), number=payload["pull_request"]["number"],
        reviewer=reviewer, state=expected,
        head_sha=payload["pull_request"]["head"]["sha"],
    )  # fmt: skip


async def test_a_form_encoded_delivery_is_read_and_verified_over_its_raw_body(hooks: Hooks):
    payload = push()
    raw = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {**github_headers("push", raw), "Content-Type": "application/x-www-form-urlencoded"}
    body = await accepted(await hooks.client.post("/webhooks/github", data=raw, headers=headers))
    assert PushEvent.from_json(hooks.job(body["job"]).event).after == payload["after"]


async def test_a_large_push_within_the_route_cap_is_accepted(hooks: Hooks):
    """2 MiB: over the app's 1 MiB client_max_size, under the GitHub route's own 5 MiB cap."""
    payload = push()
    payload["commits"][0]["modified"] = [f"clusters/file-{i:07d}.yaml" for i in range(80_000)]
    body = encode(payload)
    assert 2 * 1024 * 1024 < len(body) < 5 * 1024 * 1024
    response = await hooks.client.post("/webhooks/github", data=body, headers=github_headers("push", body))
    await accepted(response)
    assert hooks.queue_length() == 1


async def test_a_thousand_concurrent_copies_start_one_job(hooks: Hooks):
    body = encode(push())
    headers = github_headers("push", body)  # one delivery id: GitHub retrying, or a proxy replaying
    responses = await asyncio.gather(
        *(hooks.client.post("/webhooks/github", data=body, headers=headers) for _ in range(1000))
    )
    answers = [await r.json() for r in responses]
    assert {r.status for r in responses} == {202}
    assert len({a["job"] for a in answers}) == 1
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 999
    assert hooks.queue_length() == 1 and len(hooks.job_ids()) == 1
    assert hooks.queued_task_ids() == [answers[0]["job"]]


async def test_a_redelivery_is_a_duplicate(hooks: Hooks):
    delivery = str(uuid.uuid4())
    first = await accepted(await hooks.github("issue_comment", comment("/flux apply"), delivery=delivery))
    again = await hooks.github("issue_comment", comment("/flux apply"), delivery=delivery)
    assert again.status == 202
    assert await again.json() == {"job": first["job"], "duplicate": True}
    assert hooks.queue_length() == 1 and hooks.job_ids() == {first["job"]}
    # the same signed comment under a new delivery id (a captured delivery replayed) runs once all the same
    replayed = await hooks.github("issue_comment", comment("/flux apply"))
    assert await replayed.json() == {"job": first["job"], "duplicate": True}
    assert hooks.queue_length() == 1
    # someone typing it again writes a new comment: a new job
    await accepted(await hooks.github("issue_comment", comment("/flux apply", comment_id=556)))
    assert hooks.queue_length() == 2


async def test_a_stored_event_reads_back_whole(hooks: Hooks):
    body = await accepted(await hooks.github("pull_request", pr("opened")))
    event = event_from_json(hooks.job(body["job"]).event)
    assert isinstance(event, PullRequestEvent) and event.repo == fleet_ref()


def test_refuses_to_start_with_a_github_token_but_no_webhook_secret(redis_server: str, tmp_path: Path):
    settings = settings_for(redis_server, tmp_path, GITHUB_TOKEN="ghp_x")
    settings = settings.model_copy(update={"github_webhook_secret": None})
    with pytest.raises(ConfigurationError, match="GITHUB_WEBHOOK_SECRET"):
        create_app(settings)


@pytest.mark.parametrize(
    "env", [{"GITHUB_WEBHOOK_SECRET": ""}, {"ADO_WEBHOOK_PASSWORD": " "}, {"ADO_WEBHOOK_USERNAME": ""}]
)
def test_refuses_to_start_with_an_empty_webhook_secret(redis_server: str, tmp_path: Path, env: dict[str, str]):
    with pytest.raises(ConfigurationError, match=f"{next(iter(env))} is set but empty"):
        create_app(settings_for(redis_server, tmp_path, **env))


async def test_receivers_are_mounted_only_with_their_secrets(aiohttp_client: Any, redis_server: str, tmp_path: Path):
    settings = settings_for(redis_server, tmp_path).model_copy(
        update={"github_webhook_secret": None, "ado_webhook_username": None, "ado_webhook_password": None}
    )
    client = await aiohttp_client(create_app(settings))
    for path in ("/webhooks/github", "/webhooks/azure-devops"):
        assert (await client.post(path, data=b"{}")).status == 404
