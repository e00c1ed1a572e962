"""GitHubHost (PyGithub) against the fake GitHub over HTTP: every GitHost method and the error mapping."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from bot import errors
from bot.git_host import (
    PLAN_MARKER,
    STATUS_DESCRIPTION_LIMIT,
    CheckRun,
    CommentRef,
    CommitStatus,
    Permission,
    StatusState,
)
from bot.gitevents import GITHUB, RepoRef
from bot.models import Secret
from bot.settings import Settings
from sandbox.git_access import GitAccess
from sandbox.github import FakeGitHub
from sandbox.gitrepos import RepoStore
from workers.github_host import GitHubHost, github_host_from_settings
from workers.ssh_keys import Ed25519KeyMaker

T = TypeVar("T")
TOKEN = "ghp_adaptertoken0000000000000000000000000"
SLUG = "acme/fleet"
APP_ID = 1717
INSTALLATION = 55
REPO = RepoRef(provider=GITHUB, full_name=SLUG, url=f"https://github.com/{SLUG}.git")
APP_REPO = RepoRef(provider=GITHUB, full_name=SLUG, url=REPO.url, installation_id=str(INSTALLATION))

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APP_PRIVATE = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
APP_PUBLIC = (
    _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
)

FILES = {
    "README.md": "fleet\n",
    "clusters/prod.yaml": "name: prod\n",
    "clusters/eu/weu.yml": "name: weu\n",
    "clusters/eu/notes.txt": "not yaml\n",
}


@pytest.fixture
def store(tmp_path: Path) -> RepoStore:
    repos = RepoStore(tmp_path / "repos")
    repos.create_repo(SLUG, FILES, private=True)
    return repos


@pytest.fixture
async def fake(store: RepoStore) -> AsyncIterator[FakeGitHub]:
    gh = FakeGitHub(
        repos=store,
        access=GitAccess(),
        token=Secret(TOKEN),
        app_id=APP_ID,
        app_public_key_pem=APP_PUBLIC,
        installation_id=INSTALLATION,
    )
    await gh.start()
    yield gh
    await gh.stop()


def token_host(fake: FakeGitHub, *, token: str = TOKEN, retries: int = 0) -> GitHubHost:
    return GitHubHost(
        base_url=fake.api_url,
        token=Secret(token),
        retries=retries,
        backoff=0.01,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def app_host(fake: FakeGitHub) -> GitHubHost:
    return GitHubHost(
        base_url=fake.api_url,
        app_id=str(APP_ID),
        app_private_key=Secret(APP_PRIVATE),
        retries=0,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


# -- statuses and check runs ------------------------------------------------------------------------


async def test_status_description_is_clipped_to_githubs_limit(fake: FakeGitHub) -> None:
    sha = (await fake.push(SLUG, "main", {"a.yaml": "a\n"})).sha
    assert sha is not None
    status = CommitStatus(StatusState.SUCCESS, "fluxops/prod/apps", "x" * 300, "https://example.test/run/1")
    await run(token_host(fake).set_commit_status, REPO, sha, status)
    [posted] = fake.statuses(SLUG, sha)
    assert posted["state"] == "success" and posted["context"] == "fluxops/prod/apps"
    assert len(posted["description"]) == STATUS_DESCRIPTION_LIMIT and posted["description"].endswith("…")
    assert posted["target_url"] == "https://example.test/run/1"


async def test_check_runs_none_for_a_token_created_then_updated_for_an_app(fake: FakeGitHub) -> None:
    sha = (await fake.push(SLUG, "main", {"a.yaml": "a\n"})).sha
    assert sha is not None
    before = len(fake.requests())
    run_ = CheckRun(name="fluxops", status="in_progress", conclusion=None, title="Rolling out", summary="0/2")
    assert await run(token_host(fake).publish_check_run, REPO, sha, run_) is None
    assert len(fake.requests()) == before  # nothing was even tried

    host = app_host(fake)
    run_id = await run(host.publish_check_run, APP_REPO, sha, run_)
    assert run_id is not None
    done = CheckRun(
        name="fluxops", status="completed", conclusion="success", title="Applied", summary="2/2", text="| a | b |"
    )
    assert await run(host.publish_check_run, APP_REPO, sha, done, run_id) == run_id
    [check] = fake.check_runs(SLUG, sha)
    assert check["id"] == int(run_id)
    assert (check["status"], check["conclusion"], check["output"]["summary"]) == ("completed", "success", "2/2")
    assert fake.auth.installation_tokens_issued() == 1  # the installation token is reused


async def test_app_without_installation_in_the_event_finds_it(fake: FakeGitHub) -> None:
    sha = (await fake.push(SLUG, "main", {"a.yaml": "a\n"})).sha
    assert sha is not None
    host = app_host(fake)
    status = CommitStatus(StatusState.PENDING, "fluxops/x", "waiting")
    await run(host.set_commit_status, REPO, sha, status)
    await run(host.set_commit_status, REPO, sha, status)
    paths = [r["path"] for r in fake.requests()]
    assert paths.count(f"/repos/{SLUG}/installation") == 1
    assert paths.count(f"/app/installations/{INSTALLATION}/access_tokens") == 1
    assert fake.statuses(SLUG, sha)[0]["creator"] == "fluxops[bot]"


# -- commits and pull requests -----------------------------------------------------------------------


async def test_is_ancestor_on_real_commits(fake: FakeGitHub) -> None:
    one = (await fake.push(SLUG, "main", {"a.yaml": "1\n"})).sha
    two = (await fake.push(SLUG, "main", {"a.yaml": "2\n"})).sha
    side = (await fake.push(SLUG, "side", {"b.yaml": "b\n"})).sha
    three = (await fake.push(SLUG, "main", {"a.yaml": "3\n"})).sha
    assert one and two and side and three
    host = token_host(fake)
    assert await run(host.is_ancestor, REPO, one, three) is True
    assert await run(host.is_ancestor, REPO, two, two) is True
    assert await run(host.is_ancestor, REPO, three, one) is False
    assert await run(host.is_ancestor, REPO, side, three) is False
    with pytest.raises(errors.NotFound):
        await run(host.is_ancestor, REPO, "f" * 40, three)


async def test_pull_request_info_with_latest_reviews_and_forks(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(SLUG, "dev", title="Add dev", author="alice", files={"clusters/dev.yaml": "d\n"})
    number = pr.number or 0
    await fake.review(SLUG, number, reviewer="bob", state="APPROVED")
    await fake.review(SLUG, number, reviewer="bob", state="CHANGES_REQUESTED")
    await fake.review(SLUG, number, reviewer="carol", state="CHANGES_REQUESTED")
    await fake.review(SLUG, number, reviewer="carol", state="APPROVED")
    await fake.review(SLUG, number, reviewer="dave", state="APPROVED")
    await fake.review(SLUG, number, reviewer="dave", state="COMMENTED")  # a comment keeps dave's approval
    host = token_host(fake)
    info = await run(host.pull_request, REPO, number)
    assert (info.number, info.state, info.head_sha, info.head_branch, info.base_branch) == (
        number,
        "open",
        pr.sha,
        "dev",
        "main",
    )
    assert info.author == "alice" and info.title == "Add dev" and info.from_fork is False
    assert info.approved_by == ("carol", "dave") and info.changes_requested_by == ("bob",)
    assert info.approved is False
    assert info.url == f"{fake.api_url}/{SLUG}/pull/{number}"

    fork = await fake.open_pull(SLUG, "main", author="mallory", files={"x.yaml": "x\n"}, fork=True)
    assert (await run(host.pull_request, REPO, fork.number or 0)).from_fork is True

    await fake.merge(SLUG, number)
    assert (await run(host.pull_request, REPO, number)).state == "merged"
    with pytest.raises(errors.NotFound) as missing:
        await run(host.pull_request, REPO, 999)
    assert "pull request #999" in missing.value.message and SLUG in missing.value.message
    assert missing.value.retryable is False


async def test_reviews_carry_their_commit_and_stale_approvals_do_not_approve(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(SLUG, "stale", author="alice", files={"clusters/dev.yaml": "d\n"})
    number = pr.number or 0
    await fake.review(SLUG, number, reviewer="bob", state="APPROVED")
    host = token_host(fake)
    first = await run(host.pull_request, REPO, number)
    assert first.approved_by == ("bob",) and [(r.user, r.commit) for r in first.approvals()] == [("bob", pr.sha)]
    pushed = await fake.push_to_pull(SLUG, number, {"clusters/dev.yaml": "d2\n"}, author="carol")
    second = await run(host.pull_request, REPO, number)
    assert second.head_sha == pushed.sha and second.approved_by == () and not second.approved
    assert [(r.user, r.commit) for r in second.approvals()] == [("bob", pr.sha)]


async def test_authors_merger_and_merge_commit(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(SLUG, "authored", author="alice", files={"clusters/dev.yaml": "d\n"})
    number = pr.number or 0
    await fake.push_to_pull(SLUG, number, {"clusters/x.yaml": "x\n"}, author="carol")
    host = token_host(fake)
    assert await run(host.pull_request_authors, REPO, number) == {"alice", "carol"}
    open_info = await run(host.pull_request, REPO, number)
    assert open_info.merged_by == "" and open_info.merge_commit == ""
    merged = await fake.merge(SLUG, number, author="dave")
    info = await run(host.pull_request, REPO, number)
    assert (info.state, info.merged_by, info.merge_commit) == ("merged", "dave", merged.sha)
    # the merge commit is not one of the pull request's commits
    assert await run(host.pull_request_authors, REPO, number) == {"alice", "carol"}
    found = await run(host.repository, REPO)
    assert found.url == f"https://github.com/{SLUG}.git" and found.full_name == SLUG and found.id


async def test_permission_levels(fake: FakeGitHub) -> None:
    for login, level in (("wendy", "write"), ("mia", "maintain"), ("tia", "triage"), ("rita", "read")):
        fake.set_permission(SLUG, login, level)
    host = token_host(fake)
    got = {u: await run(host.permission, REPO, u) for u in ("acme", "wendy", "mia", "tia", "rita", "nobody")}
    assert got == {
        "acme": Permission.ADMIN,
        "wendy": Permission.WRITE,
        "mia": Permission.MAINTAIN,
        "tia": Permission.TRIAGE,
        "rita": Permission.READ,
        "nobody": Permission.NONE,
    }
    gone = RepoRef(provider=GITHUB, full_name="acme/gone", url="https://github.com/acme/gone.git")
    assert await run(host.permission, gone, "wendy") == Permission.NONE


async def test_read_files(fake: FakeGitHub) -> None:
    host = token_host(fake)
    assert await run(host.read_files, REPO, "main", "clusters") == {
        "clusters/eu/weu.yml": "name: weu\n",
        "clusters/prod.yaml": "name: prod\n",
    }
    assert await run(host.read_files, REPO, "main", "/README.md") == {"README.md": "fleet\n"}
    assert await run(host.read_files, REPO, "main", "nothing/here") == {}
    with pytest.raises(errors.NotFound) as no_ref:
        await run(host.read_files, REPO, "no-such-branch", "clusters")
    assert "no-such-branch" in no_ref.value.message


# -- comments ----------------------------------------------------------------------------------------


async def test_comment_find_edit_read_and_acknowledge(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(SLUG, "dev", author="alice", files={"clusters/dev.yaml": "d\n"})
    number = pr.number or 0
    # someone quoting the marker is not fluxops
    await fake.comment(SLUG, number, f"quoting {PLAN_MARKER}", author="bob")
    command = await fake.comment(SLUG, number, "/flux apply", author="bob")
    host = token_host(fake)
    assert await run(host.find_comment, REPO, number, PLAN_MARKER) is None
    ref = await run(host.comment, REPO, number, f"{PLAN_MARKER}\nplan v1")
    assert await run(host.find_comment, REPO, number, PLAN_MARKER) == ref
    await run(host.edit_comment, REPO, number, ref, f"{PLAN_MARKER}\nplan v2")
    mine = await run(host.get_comment, REPO, number, ref)
    assert (mine.author, mine.body) == ("fluxops-bot", f"{PLAN_MARKER}\nplan v2")
    theirs = CommentRef(id=str(command.id))
    assert (await run(host.get_comment, REPO, number, theirs)).author == "bob"
    await run(host.acknowledge, REPO, number, theirs)
    [reacted] = [c for c in fake.comments(SLUG, number) if c["id"] == command.id]
    assert reacted["reactions"] == [{"user": "fluxops-bot", "content": "eyes"}]


async def test_app_finds_its_own_bot_comment(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(SLUG, "dev", author="alice", files={"clusters/dev.yaml": "d\n"})
    number = pr.number or 0
    host = app_host(fake)
    ref = await run(host.comment, APP_REPO, number, f"{PLAN_MARKER} plan")
    assert await run(host.find_comment, APP_REPO, number, PLAN_MARKER) == ref
    assert fake.comments(SLUG, number)[0]["author"] == "fluxops[bot]"


# -- errors ------------------------------------------------------------------------------------------


async def test_bad_token_is_not_retryable_and_never_shown(fake: FakeGitHub) -> None:
    wrong = "ghp_wrongwrongwrongwrongwrongwrongwrong00"
    with pytest.raises(errors.Unauthorized) as refused:
        await run(token_host(fake, token=wrong).pull_request, REPO, 1)
    assert refused.value.retryable is False
    assert "GITHUB_TOKEN" in refused.value.recommendation
    assert wrong not in refused.value.user_text() and wrong not in repr(refused.value)
    recorded = json.dumps(fake.requests())
    assert wrong not in recorded and TOKEN not in recorded


async def test_server_errors_are_retried_briefly_then_retryable(fake: FakeGitHub) -> None:
    fake.inject_fault(503, method="GET", count=1)
    assert (await run(token_host(fake, retries=2).permission, REPO, "acme")) == Permission.ADMIN
    fake.inject_fault(502, method="GET", count=5)
    with pytest.raises(errors.ServiceUnavailable) as failed:
        await run(token_host(fake, retries=1).pull_request, REPO, 1)
    assert failed.value.retryable is True and "502" in failed.value.message
    fake.faults.clear()


async def test_rate_limits_say_when_to_retry(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(SLUG, "dev", author="alice", files={"a.yaml": "a\n"})
    fake.inject_rate_limit(120)
    with pytest.raises(errors.Throttled) as primary:
        await run(token_host(fake).pull_request, REPO, pr.number or 0)
    assert primary.value.retryable is True
    assert primary.value.retry_after is not None and 100 <= primary.value.retry_after <= 121
    fake.inject_rate_limit(7, secondary=True)
    with pytest.raises(errors.Throttled) as secondary:
        await run(token_host(fake).comment, REPO, pr.number or 0, "hi")
    assert secondary.value.retry_after == 7


async def test_unreachable_github_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host = GitHubHost(base_url=f"http://127.0.0.1:{port}", token=Secret(TOKEN), retries=0, timeout=2)
    with pytest.raises(errors.ServiceUnavailable) as down:
        await run(host.pull_request, REPO, 1)
    assert down.value.retryable is True and TOKEN not in down.value.user_text()


# -- deploy keys -------------------------------------------------------------------------------------

OTHER = RepoRef(provider=GITHUB, full_name="acme/other", url="https://github.com/acme/other.git")


async def test_deploy_key_is_added_read_only_with_its_title_and_listed(fake: FakeGitHub) -> None:
    key = Ed25519KeyMaker().generate()
    host = token_host(fake)
    key_id = await run(host.add_deploy_key, REPO, "fluxops dk-0123456789", key.public_key)
    [entry] = fake.access.deploy_keys("github.com", SLUG)
    assert (entry.id, entry.title, entry.read_only, entry.fingerprint) == (
        key_id,
        "fluxops dk-0123456789",
        True,
        key.fingerprint,
    )
    [posted] = [r for r in fake.requests() if r["method"] == "POST" and r["path"] == f"/repos/{SLUG}/keys"]
    assert posted["body"]["read_only"] is True and posted["body"]["key"] == key.public_key
    assert await run(host.deploy_key_ids, REPO) == {key_id: key.public_key}


async def test_re_adding_the_same_key_returns_its_id(fake: FakeGitHub) -> None:
    key = Ed25519KeyMaker().generate()
    host = token_host(fake)
    first = await run(host.add_deploy_key, REPO, "fluxops dk-0123456789", key.public_key)
    # a resumed job adds its key again (a comment on the line changes nothing)
    again = await run(host.add_deploy_key, REPO, "fluxops dk-0123456789", key.public_key + " fluxops@job")
    assert again == first
    assert [k.id for k in fake.access.deploy_keys("github.com", SLUG)] == [first]


async def test_a_key_in_use_on_another_repository_is_refused(fake: FakeGitHub, store: RepoStore) -> None:
    store.create_repo(OTHER.full_name, {"README.md": "other\n"}, private=True)
    key = Ed25519KeyMaker().generate()
    host = token_host(fake)
    await run(host.add_deploy_key, OTHER, "fluxops dk-aaaaaaaaaa", key.public_key)
    with pytest.raises(errors.InvalidRequest) as refused:
        await run(host.add_deploy_key, REPO, "fluxops dk-aaaaaaaaaa", key.public_key)
    assert "already in use" in refused.value.message and "another repository" in refused.value.message
    assert refused.value.retryable is False
    assert fake.access.deploy_keys("github.com", SLUG) == []


async def test_an_invalid_key_says_what_github_said(fake: FakeGitHub) -> None:
    with pytest.raises(errors.InvalidRequest) as refused:
        await run(token_host(fake).add_deploy_key, REPO, "fluxops", "ssh-ed25519 bm90IGEga2V5")
    assert "key is invalid" in refused.value.message


async def test_remove_is_one_delete_and_idempotent(fake: FakeGitHub) -> None:
    key = Ed25519KeyMaker().generate()
    host = token_host(fake)
    key_id = await run(host.add_deploy_key, REPO, "fluxops dk-0123456789", key.public_key)
    before = len(fake.requests())
    assert await run(host.remove_deploy_key, REPO, key_id) is True
    assert await run(host.remove_deploy_key, REPO, key_id) is False
    calls = [(r["method"], r["path"], r["status"]) for r in fake.requests()[before:]]
    assert calls == [("DELETE", f"/repos/{SLUG}/keys/{key_id}", 204), ("DELETE", f"/repos/{SLUG}/keys/{key_id}", 404)]
    assert fake.access.deploy_keys("github.com", SLUG) == []
    assert await run(host.deploy_key_ids, REPO) == {}


async def test_a_failed_delete_is_retryable_and_keeps_github_s_retry_after(fake: FakeGitHub) -> None:
    key = Ed25519KeyMaker().generate()
    host = token_host(fake)
    key_id = await run(host.add_deploy_key, REPO, "fluxops dk-0123456789", key.public_key)
    fake.inject_fault(500, method="DELETE", path="/keys/", retry_after=9)
    with pytest.raises(errors.ServiceUnavailable) as failed:
        await run(host.remove_deploy_key, REPO, key_id)
    assert failed.value.retryable is True and failed.value.retry_after == 9 and "500" in failed.value.message
    assert "removing deploy key" in failed.value.message
    assert [k.id for k in fake.access.deploy_keys("github.com", SLUG)] == [key_id]
    fake.inject_rate_limit(7, secondary=True, method="DELETE")
    with pytest.raises(errors.Throttled) as throttled:
        await run(host.remove_deploy_key, REPO, key_id)
    assert throttled.value.retry_after == 7
    assert await run(host.remove_deploy_key, REPO, key_id) is True


async def test_ssh_host_keys_come_from_meta(fake: FakeGitHub) -> None:
    expected = fake.access.host_keys("github.com")
    assert await run(token_host(fake).ssh_host_keys) == expected
    assert all(line.startswith(("ssh-", "ecdsa-")) for line in expected)
    # an app with no installation client yet asks anonymously, as /meta allows
    assert await run(app_host(fake).ssh_host_keys) == expected
    assert fake.requests()[-1]["path"] == "/meta"


async def test_ssh_host_keys_when_github_fails(fake: FakeGitHub) -> None:
    fake.inject_fault(503, path="^/meta$")
    with pytest.raises(errors.ServiceUnavailable) as failed:
        await run(token_host(fake).ssh_host_keys)
    assert failed.value.retryable is True and "GET /meta" in failed.value.message


# -- settings ----------------------------------------------------------------------------------------


def test_factory_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    assert github_host_from_settings(Settings()) is None
    token = github_host_from_settings(Settings(GITHUB_TOKEN=SecretStr(TOKEN), GITHUB_API_URL="http://gh.test"))
    assert token is not None and not token.is_app and TOKEN not in repr(token)
    escaped = APP_PRIVATE.replace("\n", "\\n")
    app = github_host_from_settings(
        Settings(GITHUB_APP_ID=str(APP_ID), GITHUB_APP_PRIVATE_KEY=SecretStr(escaped))  # as env vars often hold it
    )
    assert app is not None and app.is_app
    with pytest.raises(errors.ConfigurationError):
        github_host_from_settings(Settings(GITHUB_APP_ID=str(APP_ID)))
