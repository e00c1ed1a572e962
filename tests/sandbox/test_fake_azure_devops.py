"""The fake Azure DevOps: REST 7.1 over HTTP, service hook deliveries, and the control routes."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sandbox.azure_devops import FakeAzureDevOps, payloads
from sandbox.gitrepos import RepoStore

PAT = "sandbox-ado-pat"
HOOK_USER = "fluxops-hooks"
HOOK_PASSWORD = "hook-password"
REPO = "Fleet Ops/fleet"
ALICE = "alice@contoso.com"


class Receiver:
    """A webhook receiver that records what arrives and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status, text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/azure-devops", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/webhooks/azure-devops"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def fake(tmp_path: Path, receiver: Receiver) -> AsyncIterator[FakeAzureDevOps]:
    ado = FakeAzureDevOps(
        store=RepoStore(tmp_path / "repos"),
        token=PAT,
        members={ALICE: "Alice Example"},
        webhook_url=receiver.url,
        webhook_username=HOOK_USER,
        webhook_password=HOOK_PASSWORD,
    )
    ado.create_repo(REPO, {"clusters/prod.yaml": "name: prod\n", "README.md": "fleet\n"})
    await ado.start()
    yield ado
    await ado.stop()


def basic(pat: str, user: str = "") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pat}".encode()).decode()}


async def rest(
    fake: FakeAzureDevOps,
    method: str,
    path: str,
    *,
    pat: str = PAT,
    version: str | None = "7.1",
    params: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    query = dict(params or {})
    if version:
        query["api-version"] = version
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"{fake.org_url}/{path}", params=query, json=body, headers={**basic(pat, "anything")}
        ) as response,
    ):
        text = await response.text()
        try:
            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, text


async def control(fake: FakeAzureDevOps, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.request(method, f"{fake.base_url}{path}", json=body) as r:
        return r.status, await r.json()


def repo_path(tail: str = "") -> str:
    return "Fleet%20Ops/_apis/git/repositories/fleet" + tail


async def test_auth_needs_a_known_pat_and_any_user_part(fake: FakeAzureDevOps):
    status, body = await rest(fake, "GET", repo_path(), pat="wrong")
    assert status == 401
    assert body["typeKey"] == "UnauthorizedRequestException"
    status, body = await rest(fake, "GET", repo_path())
    assert status == 200
    assert body["name"] == "fleet"
    assert body["project"]["name"] == "Fleet Ops"
    assert body["id"] == payloads.stable_id("repository", "fluxops-sandbox", "Fleet Ops", "fleet")
    assert body["remoteUrl"] == "https://dev.azure.com/fluxops-sandbox/Fleet%20Ops/_git/fleet"
    # by GUID, without the project, too
    status, again = await rest(fake, "GET", f"../{fake.org.name}/_apis/git/repositories/{body['id']}")
    assert status == 200
    assert again["id"] == body["id"]


async def test_api_version_is_required(fake: FakeAzureDevOps):
    status, body = await rest(fake, "GET", repo_path(), version=None)
    assert status == 400
    assert body["typeKey"] == "VssVersionNotSpecifiedException"
    status, body = await rest(fake, "GET", repo_path(), version="99.0")
    assert status == 400


async def test_unknown_repo_and_pr_are_404_with_ado_error_shape(fake: FakeAzureDevOps):
    status, body = await rest(fake, "GET", "Fleet%20Ops/_apis/git/repositories/nope")
    assert status == 404
    assert body["typeKey"] == "GitRepositoryNotFoundException"
    assert body["message"].startswith("TF401019")
    status, body = await rest(fake, "GET", repo_path("/pullrequests/42"))
    assert status == 404
    assert body["typeKey"] == "GitPullRequestNotFoundException"


async def test_push_delivers_git_push_with_basic_auth_and_increasing_notification_ids(
    fake: FakeAzureDevOps, receiver: Receiver
):
    seen: list[tuple[str, str, str]] = []
    fake.on_push = lambda slug, branch, sha: seen.append((slug, branch, sha))
    first = await fake.push(REPO, "main", {"clusters/dev.yaml": "name: dev\n"}, message="Add dev", author=ALICE)
    status, second = await control(
        fake,
        "POST",
        "_sandbox/push",
        {"repo": REPO, "branch": "main", "files": {"README.md": None}, "message": "Drop readme", "author": ALICE},
    )
    assert status == 200
    assert second["before"] == first["sha"]
    assert second["notification"] > first["notification"]
    assert seen == [
        ("fluxops-sandbox/Fleet Ops/fleet", "main", first["sha"]),
        ("fluxops-sandbox/Fleet Ops/fleet", "main", second["sha"]),
    ]
    headers, raw = receiver.received[0]
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{HOOK_USER}:{HOOK_PASSWORD}".encode()).decode()
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    event = json.loads(raw)
    assert event["eventType"] == "git.push"
    assert event["publisherId"] == "tfs"
    assert event["resourceVersion"] == "1.0"
    resource = event["resource"]
    assert resource["refUpdates"] == [
        {"name": "refs/heads/main", "oldObjectId": first["before"], "newObjectId": first["sha"]}
    ]
    assert resource["commits"][0]["commitId"] == first["sha"]
    assert resource["commits"][0]["comment"] == "Add dev"
    assert resource["pushedBy"]["uniqueName"] == ALICE
    assert resource["repository"]["remoteUrl"].endswith("/_git/fleet")
    ids = [b["notificationId"] for b in receiver.bodies()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len({b["subscriptionId"] for b in receiver.bodies()}) == 1
    assert len({b["id"] for b in receiver.bodies()}) == 2


async def test_redeliver_sends_the_same_body(fake: FakeAzureDevOps, receiver: Receiver):
    pushed = await fake.push(REPO, "main", {"a.yaml": "a: 1\n"})
    status, result = await control(fake, "POST", "_sandbox/redeliver", {"notification": pushed["notification"]})
    assert status == 200
    assert len(receiver.received) == 2
    assert receiver.received[0][1] == receiver.received[1][1]
    assert result["notification"] == pushed["notification"]
    assert len(result["attempts"]) == 2


async def test_pull_request_lifecycle_events(fake: FakeAzureDevOps, receiver: Receiver):
    opened = await fake.open_pull(
        REPO, source="feature", title="Add stage", author=ALICE, files={"clusters/stage.yaml": "name: stage\n"}
    )
    pr_id = opened["id"]
    updated = await fake.push_pull(pr_id, {"clusters/stage.yaml": "name: stage2\n"})
    assert updated["sha"] != opened["sha"]
    fake.add_member("bob@contoso.com", "Bob")
    await fake.vote(REPO, pr_id, reviewer="bob@contoso.com", vote=10)
    done = await fake.complete(REPO, pr_id)
    kinds = [b["eventType"] for b in receiver.bodies()]
    assert kinds == [
        "git.push",
        "git.pullrequest.created",
        "git.push",
        "git.pullrequest.updated",
        "git.pullrequest.updated",  # the vote
        "git.pullrequest.merged",
        "git.pullrequest.updated",
        "git.push",
    ]
    created = receiver.bodies()[1]["resource"]
    assert created["pullRequestId"] == pr_id
    assert created["sourceRefName"] == "refs/heads/feature"
    assert created["lastMergeSourceCommit"]["commitId"] == opened["sha"]
    assert created["createdBy"]["uniqueName"] == ALICE
    completed = receiver.bodies()[6]["resource"]
    assert completed["status"] == "completed"
    assert completed["lastMergeCommit"]["commitId"] == done["merge_commit"]
    assert completed["reviewers"][0]["vote"] == 10
    final_push = receiver.bodies()[7]["resource"]
    assert final_push["refUpdates"][0]["newObjectId"] == done["merge_commit"]
    # a real merge commit: two parents, and the target now has the file
    status, commit = await rest(fake, "GET", repo_path(f"/commits/{done['merge_commit']}"))
    assert status == 200
    assert len(commit["parents"]) == 2
    status, item = await rest(
        fake, "GET", repo_path("/items"), params={"path": "/clusters/stage.yaml", "includeContent": "true"}
    )
    assert item["content"] == "name: stage2\n"
    status, _again = await control(fake, "POST", "_sandbox/complete", {"repo": REPO, "id": pr_id})
    assert status == 409


async def test_comments_need_members_and_carry_the_thread_in_links(fake: FakeAzureDevOps, receiver: Receiver):
    pr = await fake.open_pull(REPO, source="feature", author=ALICE, files={"x.yaml": "x: 1\n"})
    status, _body = await control(
        fake, "POST", "_sandbox/comment", {"repo": REPO, "id": pr["id"], "author": "eve@evil.test", "content": "hi"}
    )
    assert status == 403
    status, made = await control(
        fake, "POST", "_sandbox/comment", {"repo": REPO, "id": pr["id"], "author": ALICE, "content": "/flux plan"}
    )
    assert status == 200
    event = receiver.bodies()[-1]
    assert event["eventType"] == "ms.vss-code.git-pullrequest-comment-event"
    assert event["resourceVersion"] == "2.0"
    comment = event["resource"]["comment"]
    assert comment["content"] == "/flux plan"
    assert comment["author"]["uniqueName"] == ALICE
    assert comment["author"]["displayName"] == "Alice Example"
    assert comment["_links"]["threads"]["href"].endswith(f"/threads/{made['thread_id']}")
    assert event["resource"]["pullRequest"]["pullRequestId"] == pr["id"]
    status, reply = await control(
        fake,
        "POST",
        "_sandbox/comment",
        {"repo": REPO, "id": pr["id"], "author": ALICE, "content": "/flux apply", "thread_id": made["thread_id"]},
    )
    assert reply["thread_id"] == made["thread_id"]
    assert reply["comment_id"] == 2
    status, threads = await control(fake, "GET", f"_sandbox/threads?repo={REPO}&id={pr['id']}")
    assert [c["content"] for c in threads[0]["comments"]] == ["/flux plan", "/flux apply"]


async def test_rest_threads_comments_edits_and_likes(fake: FakeAzureDevOps, receiver: Receiver):
    pr = await fake.open_pull(REPO, source="feature", author=ALICE, files={"x.yaml": "x: 1\n"})
    base = repo_path(f"/pullRequests/{pr['id']}/threads")
    status, thread = await rest(
        fake,
        "POST",
        base,
        body={"comments": [{"parentCommentId": 0, "content": "plan", "commentType": 1}], "status": 1},
    )
    assert status == 200
    assert thread["status"] == "active"
    assert thread["comments"][0]["author"]["uniqueName"] == fake.bot_user
    tid = thread["id"]
    status, comment = await rest(
        fake, "PATCH", repo_path(f"/pullrequests/{pr['id']}/threads/{tid}/comments/1"), body={"content": "plan v2"}
    )
    assert status == 200
    assert comment["content"] == "plan v2"
    status, _ = await rest(fake, "POST", repo_path(f"/PULLREQUESTS/{pr['id']}/threads/{tid}/comments/1/likes"))
    assert status == 200
    status, likes = await rest(fake, "GET", repo_path(f"/pullRequests/{pr['id']}/threads/{tid}/comments/1/likes"))
    assert [i["uniqueName"] for i in likes["value"]] == [fake.bot_user]
    status, listed = await rest(fake, "GET", base)
    assert listed["count"] == 1
    assert listed["value"][0]["comments"][0]["usersLiked"][0]["uniqueName"] == fake.bot_user
    await fake.hooks.drain()
    assert receiver.bodies()[-1]["eventType"] == "ms.vss-code.git-pullrequest-comment-event"


async def test_statuses_on_prs_and_commits(fake: FakeAzureDevOps):
    pushed = await fake.push(REPO, "main", {"a.yaml": "a: 1\n"})
    sha = pushed["sha"]
    body = {"state": "pending", "description": "applying", "context": {"genre": "fluxops", "name": "prod/apps"}}
    status, created = await rest(fake, "POST", repo_path(f"/commits/{sha}/statuses"), body=body)
    assert status == 201
    assert created["context"] == {"name": "prod/apps", "genre": "fluxops"}
    await rest(fake, "POST", repo_path(f"/commits/{sha}/statuses"), body={**body, "state": "succeeded"})
    status, listed = await rest(fake, "GET", repo_path(f"/commits/{sha}/statuses"), params={"latestOnly": "true"})
    assert [s["state"] for s in listed["value"]] == ["succeeded"]
    status, _bad = await rest(fake, "POST", repo_path(f"/commits/{sha}/statuses"), body={**body, "state": "green"})
    assert status == 400
    status, recorded = await control(fake, "GET", f"_sandbox/statuses?repo={REPO}&sha={sha}")
    assert [s["state"] for s in recorded] == ["pending", "succeeded"]
    pr = await fake.open_pull(REPO, source="feature", author=ALICE, files={"x.yaml": "x: 1\n"})
    status, _ = await rest(fake, "POST", repo_path(f"/pullRequests/{pr['id']}/statuses"), body=body)
    assert status == 200
    status, pr_statuses = await control(fake, "GET", f"_sandbox/pr-statuses?repo={REPO}&id={pr['id']}")
    assert pr_statuses[0]["description"] == "applying"


async def test_items_and_diffs_use_real_git(fake: FakeAzureDevOps):
    first = fake.org.head(fake.org.repo_by_short(REPO), "main")
    pushed = await fake.push(REPO, "main", {"clusters/dev.yaml": "name: dev\n"})
    status, listing = await rest(
        fake,
        "GET",
        repo_path("/items"),
        params={"scopePath": "/clusters", "recursionLevel": "Full", "versionDescriptor.version": "main"},
    )
    assert status == 200
    assert [i["path"] for i in listing["value"]] == ["/clusters", "/clusters/dev.yaml", "/clusters/prod.yaml"]
    assert listing["value"][0]["isFolder"] is True
    status, missing = await rest(fake, "GET", repo_path("/items"), params={"path": "/nope.yaml"})
    assert status == 404
    assert missing["typeKey"] == "GitItemNotFoundException"
    params = {
        "baseVersion": str(first),
        "baseVersionType": "commit",
        "targetVersion": pushed["sha"],
        "targetVersionType": "commit",
    }
    status, diff = await rest(fake, "GET", repo_path("/diffs/commits"), params=params)
    assert (diff["aheadCount"], diff["behindCount"], diff["commonCommit"]) == (1, 0, first)
    assert diff["changes"][0]["item"]["path"] == "/clusters/dev.yaml"
    status, diff = await rest(
        fake,
        "GET",
        repo_path("/diffs/commits"),
        params={**params, "baseVersion": pushed["sha"], "targetVersion": str(first)},
    )
    assert (diff["aheadCount"], diff["behindCount"]) == (0, 1)


async def test_requests_are_recorded_without_credentials(fake: FakeAzureDevOps):
    await rest(fake, "GET", repo_path())
    await rest(fake, "GET", repo_path(), pat="wrong")
    _status, recorded = await control(fake, "GET", "_sandbox/requests")
    assert [(r["method"], r["status"], r["user"]) for r in recorded] == [
        ("GET", 200, fake.bot_user),
        ("GET", 401, None),
    ]
    text = json.dumps(recorded)
    assert PAT not in text
    assert base64.b64encode(f"anything:{PAT}".encode()).decode() not in text


async def test_fork_pull_requests_carry_fork_source(fake: FakeAzureDevOps):
    # a fork made a second or more after its upstream still shares its history (and so can merge)
    await asyncio.sleep(1.1)
    opened = await fake.open_pull(
        REPO, source="patch", author=ALICE, fork="Fleet Ops/fleet-fork", files={"x.yaml": "x: 2\n"}
    )
    pr = fake.pull(REPO, opened["id"])
    assert pr["forkSource"]["repository"]["name"] == "fleet-fork"
    assert pr["repository"]["name"] == "fleet"
    done = await fake.complete(REPO, opened["id"])
    head = fake.org.head(fake.org.repo_by_short(REPO), "main")
    assert head == done["merge_commit"]


def test_payload_builders_have_the_documented_shapes() -> None:
    repo = payloads.repository(org="contoso", project="ops", name="fleet", repo_id="r-1", project_id="p-1")
    push = payloads.git_push(
        repo=repo,
        branch="main",
        before="0" * 40,
        after="a" * 40,
        pusher=ALICE,
        commits=[payloads.commit(sha="a" * 40, message="m", author=ALICE, date="2024-01-01T00:00:00Z", repo=repo)],
        subscription_id="s-1",
        notification_id=7,
    )
    assert push["resourceContainers"]["project"]["id"] == "p-1"
    assert push["resourceContainers"]["account"]["id"] == payloads.stable_id("organization", "contoso")
    assert push["resource"]["pushedBy"]["uniqueName"] == ALICE
    fork = payloads.repository(org="contoso", project="ops", name="fork", repo_id="r-2", project_id="p-1")
    pr = payloads.pull_request(
        event_type=payloads.PR_UPDATED,
        repo=repo,
        pr_id=3,
        source_branch="f",
        target_branch="main",
        source_commit="b" * 40,
        target_commit="a" * 40,
        author=ALICE,
        subscription_id="s-2",
        notification_id=8,
        status="completed",
        reviewers=(("bob@contoso.com", -5),),
        merge_commit="c" * 40,
        fork_repo=fork,
    )
    resource = pr["resource"]
    assert resource["forkSource"]["repository"]["id"] == "r-2"
    assert resource["closedDate"]
    assert resource["reviewers"][0]["vote"] == -5
    assert resource["artifactId"] == "vstfs:///Git/PullRequestId/p-1%2fr-1%2f3"
    comment = payloads.pr_comment(
        repo=repo,
        pr_id=3,
        thread_id=5,
        comment_id=2,
        author=ALICE,
        content="/flux apply",
        subscription_id="s-3",
        notification_id=9,
    )
    assert comment["resource"]["comment"]["parentCommentId"] == 1
    assert comment["resource"]["comment"]["_links"]["threads"]["href"].endswith("/pullRequests/3/threads/5")


async def test_git_security_namespace_acls_with_inheritance_and_deny(fake: FakeAzureDevOps) -> None:
    status, granted = await control(
        fake,
        "POST",
        "_sandbox/permissions",
        {"user": ALICE, "repo": REPO, "allow": ["GenericRead", "GenericContribute"], "project_wide": True},
    )
    assert status == 200 and granted["token"].startswith("repoV2/") and granted["token"].count("/") == 1
    repo = fake.repository(REPO)
    repo_token = f"{granted['token']}/{repo['id']}"
    fake.grant(ALICE, REPO, deny=("GenericContribute",))
    namespace = "_apis/accesscontrollists/2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
    descriptor = f"Microsoft.IdentityModel.Claims.ClaimsIdentity;{ALICE}"
    params = {"token": repo_token, "descriptors": descriptor, "includeExtendedInfo": "true"}
    status, body = await rest(fake, "GET", namespace, params=params)
    assert status == 200
    [acl] = body["value"]
    ace = acl["acesDictionary"][descriptor]
    assert (ace["allow"], ace["deny"]) == (0, 4)
    assert ace["extendedInfo"]["effectiveAllow"] == 2 and ace["extendedInfo"]["effectiveDeny"] == 4
    status, body = await rest(fake, "GET", namespace, params={**params, "descriptors": "nobody"})
    assert body["value"] == []
    status, body = await rest(fake, "GET", namespace, params={"token": granted["token"], "recurse": "true"})
    assert sorted(a["token"] for a in body["value"]) == [granted["token"], repo_token]


async def test_pushes_are_iterations_votes_leave_a_timed_thread_and_completion_names_who(
    fake: FakeAzureDevOps,
) -> None:
    fake.add_member("bob@contoso.com")
    opened = await fake.open_pull(REPO, source="f", author=ALICE, files={"clusters/dev.yaml": "name: dev\n"})
    pr_id = int(opened["id"])
    await fake.vote(REPO, pr_id, reviewer="bob@contoso.com", vote=10)
    pushed = await fake.push_pull(pr_id, {"clusters/dev.yaml": "name: dev2\n"}, author="bob@contoso.com")
    pr_path = repo_path(f"/pullRequests/{pr_id}")
    status, iterations = await rest(fake, "GET", pr_path + "/iterations")
    assert status == 200
    assert [i["sourceRefCommit"]["commitId"] for i in iterations["value"]] == [opened["sha"], pushed["sha"]]
    assert iterations["value"][1]["push"]["pushedBy"]["uniqueName"] == "bob@contoso.com"
    status, threads = await rest(fake, "GET", pr_path + "/threads")
    [vote] = [
        t for t in threads["value"] if t["properties"].get("CodeReviewThreadType", {}).get("$value") == "VoteUpdate"
    ]
    assert vote["properties"]["CodeReviewVoteResult"]["$value"] == "10"
    # the voter is named by a key into the thread's identities, as Azure DevOps writes it
    voter = vote["identities"][vote["properties"]["CodeReviewVotedByIdentity"]["$value"]]
    assert voter["uniqueName"] == "bob@contoso.com"
    assert vote["publishedDate"] < iterations["value"][1]["createdDate"]
    status, commits = await rest(fake, "GET", pr_path + "/commits")
    assert [c["author"]["email"] for c in commits["value"]] == ["bob@contoso.com", ALICE]
    done = await fake.complete(REPO, pr_id, by="bob@contoso.com")
    status, pr = await rest(fake, "GET", pr_path)
    assert pr["closedBy"]["uniqueName"] == "bob@contoso.com"
    assert pr["lastMergeCommit"]["commitId"] == done["merge_commit"]
