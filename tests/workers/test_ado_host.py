"""AzureDevOpsHost over real HTTP against the fake Azure DevOps (served from a thread of its own)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot import errors
from bot.git_capabilities import deploy_keys
from bot.git_host import (
    PLAN_MARKER,
    STATUS_DESCRIPTION_LIMIT,
    CheckRun,
    CommentRef,
    CommitStatus,
    Permission,
    StatusState,
)
from bot.gitevents import AZURE_DEVOPS, RepoRef
from bot.ports import CommitStatuses, DeployKeys, GitHost, PullRequests, RepositoryFiles
from bot.settings import Settings
from sandbox.azure_devops import FakeAzureDevOps
from sandbox.gitrepos import RepoStore
from workers.ado_host import AzureDevOpsHost, ado_host_from_settings

PAT = "pat-for-the-fluxops-bot"
ALICE = "alice@contoso.com"
BOB = "bob@contoso.com"
REPO = "ops/fleet"
T = TypeVar("T")


class Served:
    """The fake on an event loop in a background thread, so the blocking adapter can call it."""

    def __init__(self, fake: FakeAzureDevOps) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.run(fake.start())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    fake = FakeAzureDevOps(store=RepoStore(tmp_path / "repos"), token=PAT, members={ALICE: "Alice", BOB: "Bob"})
    fake.create_repo(
        REPO,
        {
            "clusters/prod.yaml": "name: prod\n",
            "clusters/eu/stage.yml": "name: stage\n",
            "clusters/notes.txt": "not yaml\n",
            "README.md": "fleet\n",
        },
    )
    s = Served(fake)
    yield s
    s.close()


@pytest.fixture
def fake(served: Served) -> FakeAzureDevOps:
    return served.fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def host(fake: FakeAzureDevOps, sleeps: list[float]) -> AzureDevOpsHost:
    return AzureDevOpsHost(org_url=fake.org_url, token=PAT, timeout=5.0, retries=2, backoff=0.01, sleep=sleeps.append)


@pytest.fixture
def repo(fake: FakeAzureDevOps) -> RepoRef:
    data = fake.repository(REPO)
    return RepoRef(
        provider=AZURE_DEVOPS,
        full_name=f"{fake.org.name}/ops/fleet",
        url=data["remoteUrl"],
        id=data["id"],
    )


def open_pr(served: Served, **kw: Any) -> int:
    args: dict[str, Any] = {"source": "feature", "author": ALICE, "files": {"clusters/dev.yaml": "name: dev\n"}}
    args.update(kw)
    result = served.run(served.fake.open_pull(REPO, **args))
    return int(result["id"])


def test_is_a_git_host(host: AzureDevOpsHost) -> None:
    checked: GitHost = host
    assert checked.provider == "azure-devops"
    run = CheckRun(name="fluxops", status="queued", conclusion=None, title="t", summary="s")
    assert host.publish_check_run(RepoRef(AZURE_DEVOPS, "a/b/c", "u"), "a" * 40, run) is None


def test_commit_status_maps_context_state_and_clips_description(
    host: AzureDevOpsHost, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    sha = fake.org.head(fake.org.repo_by_short(REPO), "main")
    assert sha is not None
    host.set_commit_status(repo, sha, CommitStatus(StatusState.PENDING, "fluxops/prod-weu/apps", "applying"))
    long = "x" * 300
    host.set_commit_status(
        repo, sha, CommitStatus(StatusState.SUCCESS, "fluxops/prod-weu/apps", long, target_url="https://x/1")
    )
    host.set_commit_status(repo, sha, CommitStatus(StatusState.FAILURE, "fluxops/dev/apps", "broke"))
    host.set_commit_status(repo, sha, CommitStatus(StatusState.ERROR, "fluxops/dev/infra", "oops"))
    statuses = fake.statuses(REPO, sha)
    assert [(s["state"], s["context"]["genre"], s["context"]["name"]) for s in statuses] == [
        ("pending", "fluxops", "prod-weu/apps"),
        ("succeeded", "fluxops", "prod-weu/apps"),
        ("failed", "fluxops", "dev/apps"),
        ("error", "fluxops", "dev/infra"),
    ]
    assert len(statuses[1]["description"]) == STATUS_DESCRIPTION_LIMIT
    assert statuses[1]["targetUrl"] == "https://x/1"
    assert statuses[0]["createdBy"]["uniqueName"] == fake.bot_user
    calls = [r for r in fake.recorded() if r["method"] == "POST"]
    assert all(r["query"]["api-version"] == "7.1" for r in calls)


def test_comments_threads_edit_find_get_and_like(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    number = open_pr(served)
    # someone quoting the plan carries the marker too, but it is not ours
    served.run(fake.comment(REPO, number, author=ALICE, content=f"look: {PLAN_MARKER} plan"))
    assert host.find_comment(repo, number, PLAN_MARKER) is None
    ref = host.comment(repo, number, f"{PLAN_MARKER}\nplan v1")
    assert ref.thread_id and ref.id == "1"
    assert host.find_comment(repo, number, PLAN_MARKER) == ref
    host.edit_comment(repo, number, ref, f"{PLAN_MARKER}\nplan v2")
    info = host.get_comment(repo, number, ref)
    assert info.body.endswith("plan v2")
    assert info.author == fake.bot_user
    made = served.run(fake.comment(REPO, number, author=BOB, content="/flux apply"))
    command = CommentRef(id=str(made["comment_id"]), thread_id=str(made["thread_id"]))
    assert host.get_comment(repo, number, command).author == BOB
    host.acknowledge(repo, number, command)
    reply = host.comment(repo, number, "on it", reply_to=command)
    assert reply.thread_id == command.thread_id and reply.id == "2"
    threads = {t["id"]: t for t in fake.threads(REPO, number)}
    replied = threads[int(command.thread_id)]
    assert [u["uniqueName"] for u in replied["comments"][0]["usersLiked"]] == [fake.bot_user]
    assert replied["comments"][1]["parentCommentId"] == 1
    assert threads[int(ref.thread_id)]["status"] == "active"


def test_pull_request_info_with_votes_and_states(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    number = open_pr(served, title="Add dev")
    served.run(fake.vote(REPO, number, reviewer=BOB, vote=5))
    served.run(fake.vote(REPO, number, reviewer=ALICE, vote=-10))
    info = host.pull_request(repo, number)
    assert info.state == "open"
    assert (info.head_branch, info.base_branch, info.author, info.title) == ("feature", "main", ALICE, "Add dev")
    assert info.head_sha == fake.org.head(fake.org.repo_by_short(REPO), "feature")
    assert info.approved_by == (BOB,)
    assert info.changes_requested_by == (ALICE,)
    assert not info.approved and not info.from_fork
    assert info.url.endswith(f"/_git/fleet/pullrequest/{number}")
    served.run(fake.vote(REPO, number, reviewer=ALICE, vote=0))
    assert host.pull_request(repo, number).approved
    served.run(fake.complete(REPO, number))
    assert host.pull_request(repo, number).state == "merged"
    other = open_pr(served, source="other", files={"b.yaml": "b: 1\n"})
    served.run(fake.abandon(REPO, other))
    assert host.pull_request(repo, other).state == "closed"


def test_pull_request_from_a_fork(host: AzureDevOpsHost, served: Served, repo: RepoRef) -> None:
    number = open_pr(served, fork="ops/fleet-fork", source="patch")
    info = host.pull_request(repo, number)
    assert info.from_fork
    assert info.head_branch == "patch"


def test_is_ancestor_on_real_commits(host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef):
    first = fake.org.head(fake.org.repo_by_short(REPO), "main")
    assert first is not None
    second = served.run(fake.push(REPO, "main", {"a.yaml": "a: 1\n"}))["sha"]
    side = served.run(fake.push(REPO, "side", {"b.yaml": "b: 1\n"}))["sha"]
    assert host.is_ancestor(repo, first, second)
    assert not host.is_ancestor(repo, second, first)
    assert host.is_ancestor(repo, second, second)
    assert not host.is_ancestor(repo, side, second)
    assert host.is_ancestor(repo, first, side)
    assert not host.is_ancestor(repo, "f" * 40, second)


def test_read_files(host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef) -> None:
    assert host.read_files(repo, "main", "clusters") == {
        "clusters/prod.yaml": "name: prod\n",
        "clusters/eu/stage.yml": "name: stage\n",
    }
    assert host.read_files(repo, "main", "README.md") == {"README.md": "fleet\n"}
    first = fake.org.head(fake.org.repo_by_short(REPO), "main")
    assert first is not None
    served.run(fake.push(REPO, "main", {"clusters/prod.yaml": "name: prod2\n"}))
    assert host.read_files(repo, first, "clusters/prod.yaml") == {"clusters/prod.yaml": "name: prod\n"}
    assert host.read_files(repo, "main", "clusters/prod.yaml") == {"clusters/prod.yaml": "name: prod2\n"}
    assert host.read_files(repo, "main", "nowhere") == {}
    assert host.read_files(repo, "no-such-branch", "clusters") == {}


def test_permission_comes_from_the_git_security_namespace(
    host: AzureDevOpsHost, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    # a member of the organization with no Git permission is no writer (it used to be: "member = write")
    assert host.permission(repo, ALICE) == Permission.NONE
    fake.grant(ALICE, REPO, allow=("GenericRead", "GenericContribute", "PullRequestContribute"))
    assert host.permission(repo, ALICE) == Permission.WRITE
    assert host.permission(repo, "ALICE@contoso.com") == Permission.WRITE
    # project-wide grants count for every repository of the project; a repository's own deny wins
    fake.grant(BOB, REPO, allow=("GenericRead",), project_wide=True)
    assert host.permission(repo, BOB) == Permission.READ
    fake.grant(BOB, REPO, allow=("Administer", "GenericRead", "GenericContribute"), project_wide=True)
    assert host.permission(repo, BOB) == Permission.ADMIN
    fake.grant(BOB, REPO, deny=("Administer", "GenericContribute"))
    assert host.permission(repo, BOB) == Permission.READ
    assert host.permission(repo, "mallory@evil.test") == Permission.NONE
    fake.add_member("mallory@evil.test")
    assert host.permission(repo, "mallory@evil.test") == Permission.NONE
    asked = [r for r in fake.recorded() if "accesscontrollists" in r["path"]]
    assert asked and all(r["path"].endswith("/2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87") for r in asked)
    assert all(r["query"]["includeExtendedInfo"] == "true" for r in asked)


def test_repository_is_read_by_id_not_from_the_event(
    host: AzureDevOpsHost, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    fake.create_repo("ops/other", {"README.md": "other\n"})
    other = fake.repository("ops/other")
    forged = RepoRef(AZURE_DEVOPS, repo.full_name, repo.url, id=other["id"])
    found = host.repository(forged)
    assert found.id == other["id"] and found.full_name == f"{fake.org.name}/ops/other"
    assert found.url.endswith("/ops/_git/other") and found.url != repo.url
    assert host.repository(repo).url == repo.url


def test_votes_count_on_the_commit_of_the_push_before_them(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    number = open_pr(served)
    served.run(fake.vote(REPO, number, reviewer=BOB, vote=10))
    first = host.pull_request(repo, number)
    assert first.approved_by == (BOB,) and first.reviews[0].commit == first.head_sha
    # a push after the vote: the vote stays on Azure DevOps (no reset policy) but covers the older commit
    served.run(fake.push_pull(number, {"clusters/dev.yaml": "name: dev2\n"}, author=ALICE))
    second = host.pull_request(repo, number)
    assert second.head_sha != first.head_sha
    assert second.approved_by == () and not second.approved
    assert [(r.user, r.commit) for r in second.approvals()] == [(BOB, first.head_sha)]
    served.run(fake.vote(REPO, number, reviewer=BOB, vote=10))
    assert host.pull_request(repo, number).approved_by == (BOB,)


def test_authors_merger_and_merge_commit_come_from_the_api(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    fake.add_member("carol@contoso.com")
    number = open_pr(served)
    served.run(fake.push_pull(number, {"clusters/x.yaml": "name: x\n"}, author="carol@contoso.com"))
    assert host.pull_request_authors(repo, number) == {ALICE, "carol@contoso.com"}
    info = host.pull_request(repo, number)
    assert info.merged_by == "" and info.merge_commit == ""
    done = served.run(fake.complete(REPO, number, by=BOB))
    merged = host.pull_request(repo, number)
    assert merged.state == "merged" and merged.merged_by == BOB
    assert merged.merge_commit == done["merge_commit"]
    assert host.pull_request_authors(repo, number) == {ALICE, "carol@contoso.com"}


def test_wrong_token_is_unauthorized_and_names_the_scopes(fake: FakeAzureDevOps, repo: RepoRef) -> None:
    host = AzureDevOpsHost(org_url=fake.org_url, token="not-the-pat", retries=0)
    with pytest.raises(errors.Unauthorized) as caught:
        host.pull_request(repo, 1)
    assert not caught.value.retryable
    assert "Code (Read & status)" in caught.value.recommendation
    assert "Pull Request Threads" in caught.value.recommendation
    assert "not-the-pat" not in caught.value.user_text()


def test_203_sign_in_page_is_unauthorized(host: AzureDevOpsHost, fake: FakeAzureDevOps, repo: RepoRef) -> None:
    fake.fail_next(203, body="<html>Sign in</html>", content_type="text/html")
    with pytest.raises(errors.Unauthorized):
        host.pull_request(repo, 1)


def test_missing_pr_and_repo_are_not_found(host: AzureDevOpsHost, fake: FakeAzureDevOps, repo: RepoRef) -> None:
    with pytest.raises(errors.NotFound) as caught:
        host.pull_request(repo, 99)
    assert "!99" in caught.value.message and "ops/fleet" in caught.value.message
    assert not caught.value.retryable
    missing = RepoRef(AZURE_DEVOPS, f"{fake.org.name}/ops/nothing", "https://dev.azure.com/x/ops/_git/nothing")
    with pytest.raises(errors.NotFound):
        host.read_files(missing, "main", "clusters")


def test_server_errors_are_retried_then_retryable(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef, sleeps: list[float]
) -> None:
    number = open_pr(served)
    fake.fail_next(503, count=1)
    assert host.pull_request(repo, number).number == number
    assert sleeps == [0.01]
    fake.fail_next(500, count=10)
    with pytest.raises(errors.ServiceUnavailable) as caught:
        host.pull_request(repo, number)
    assert caught.value.retryable
    fake.rest.faults.clear()
    # creating a comment is not idempotent: no blind retry, the job layer decides
    fake.fail_next(502, count=1, method="POST")
    before = len(sleeps)
    with pytest.raises(errors.ServiceUnavailable):
        host.comment(repo, number, "hello")
    assert len(sleeps) == before
    assert fake.threads(REPO, number) == []


def test_throttling_honours_retry_after(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef, sleeps: list[float]
) -> None:
    number = open_pr(served)
    fake.fail_next(429, count=1, retry_after=2)
    host.pull_request(repo, number)
    assert sleeps == [2.0]
    fake.fail_next(429, count=5, retry_after=60)
    with pytest.raises(errors.Throttled) as caught:
        host.pull_request(repo, number)
    assert caught.value.retryable
    assert caught.value.retry_after == 60.0
    assert sleeps == [2.0]  # too long to wait in the worker: the job is retried later instead


def test_unreachable_service_is_retryable(repo: RepoRef) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host = AzureDevOpsHost(org_url=f"http://127.0.0.1:{port}/fluxops-sandbox", token=PAT, retries=0, timeout=2)
    with pytest.raises(errors.ServiceUnavailable) as caught:
        host.pull_request(repo, 1)
    assert caught.value.retryable


def test_pat_never_shows(
    host: AzureDevOpsHost, served: Served, fake: FakeAzureDevOps, repo: RepoRef, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    number = open_pr(served)
    fake.fail_next(500, count=1)
    host.pull_request(repo, number)
    host.comment(repo, number, "hi")
    assert PAT not in repr(host)
    assert PAT not in caplog.text
    assert PAT not in str(fake.recorded())


def test_other_organization_is_a_configuration_error(host: AzureDevOpsHost) -> None:
    other = RepoRef(AZURE_DEVOPS, "contoso/ops/fleet", "https://dev.azure.com/contoso/ops/_git/fleet")
    with pytest.raises(errors.ConfigurationError):
        host.pull_request(other, 1)


def test_factory_needs_org_url_and_token() -> None:
    assert ado_host_from_settings(Settings.model_validate({})) is None
    assert ado_host_from_settings(Settings.model_validate({"ADO_ORG_URL": "https://dev.azure.com/contoso"})) is None
    host = ado_host_from_settings(
        Settings.model_validate({"ADO_ORG_URL": "https://dev.azure.com/contoso/", "ADO_TOKEN": PAT})
    )
    assert host is not None
    assert host.org == "contoso"
    assert host.identities_url == "https://vssps.dev.azure.com/contoso"
    assert PAT not in repr(host)


def test_deploy_keys_are_refused_with_what_to_use_instead(
    host: AzureDevOpsHost, fake: FakeAzureDevOps, repo: RepoRef
) -> None:
    """Azure DevOps has no deploy keys: the host is no DeployKeys, and asking it for them says what to use."""
    before = len(fake.recorded())
    assert not isinstance(host, DeployKeys)
    assert isinstance(host, (CommitStatuses, PullRequests, RepositoryFiles))
    with pytest.raises(errors.InvalidRequest) as refused:
        deploy_keys(host, f"adding deploy key 'fluxops dk-0123456789' to {repo.label}")
    assert refused.value.retryable is False
    assert "Azure DevOps has no per-repository deploy keys" in refused.value.message
    assert "--https-user USER --https-key-ref REF" in refused.value.recommendation
    assert "/flux key rotate --https-key-ref REF" in refused.value.recommendation
    assert "--provider azure" in refused.value.recommendation
    assert len(fake.recorded()) == before  # nothing was asked of Azure DevOps
