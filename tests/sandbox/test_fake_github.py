"""The fake GitHub, spoken to by the real PyGithub over HTTP, and its signed webhooks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from github import Auth, BadCredentialsException, Github, GithubException, UnknownObjectException

from bot.models import Secret
from sandbox.git_access import GitAccess, ssh_fingerprint
from sandbox.github import FakeGitHub, SandboxError, payloads
from sandbox.gitrepos import RepoStore

TOKEN = "ghp_sandboxtoken000000000000000000000000"
SECRET = "webhook-secret"
REPO = "acme/fleet"
APP_ID = 4242


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


APP_PRIVATE, APP_PUBLIC = rsa_pair()


def ssh_public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def ssh_key_pair() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


class Receiver:
    """A webhook receiver recording exactly what arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 202

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        return [(h["X-GitHub-Event"], json.loads(b)) for h, b in self.received]


@pytest.fixture
def store(tmp_path: Path) -> RepoStore:
    repos = RepoStore(tmp_path / "repos")
    repos.create_repo(REPO, {"clusters/prod.yaml": "name: prod\n", "README.md": "fleet\n"}, private=True)
    repos.create_repo("acme/public", {"a.txt": "a\n"}, private=False)
    return repos


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/webhooks/github", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield rec, f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/github"
    await runner.cleanup()


@pytest.fixture
async def fake(store: RepoStore, receiver: tuple[Receiver, str]) -> AsyncIterator[FakeGitHub]:
    gh = FakeGitHub(
        repos=store,
        access=GitAccess(),
        token=Secret(TOKEN),
        webhook_secret=Secret(SECRET),
        webhook_url=receiver[1],
    )
    await gh.start()
    yield gh
    await gh.stop()


@pytest.fixture
async def app_fake(store: RepoStore) -> AsyncIterator[FakeGitHub]:
    gh = FakeGitHub(repos=store, access=GitAccess(), token=Secret(TOKEN), app_id=APP_ID, app_public_key_pem=APP_PUBLIC)
    await gh.start()
    yield gh
    await gh.stop()


def client(fake: FakeGitHub, token: str = TOKEN) -> Github:
    return Github(
        auth=Auth.Token(token),
        base_url=fake.api_url,
        retry=0,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def app_client(fake: FakeGitHub) -> Github:
    auth = Auth.AppAuth(APP_ID, APP_PRIVATE).get_installation_auth(1)
    return Github(auth=auth, base_url=fake.api_url, retry=0, seconds_between_requests=None, seconds_between_writes=None)


async def run(fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


# -- repositories, commits, compare -------------------------------------------------------------------


async def test_repository_urls_follow_the_host_and_clone_urls_stay_on_github(fake: FakeGitHub) -> None:
    repo = await run(lambda: client(fake).get_repo(REPO))
    assert repo.full_name == REPO and repo.private is True and repo.default_branch == "main"
    assert repo.url == f"{fake.api_url}/repos/{REPO}"
    assert repo.html_url == f"{fake.api_url}/{REPO}"
    assert repo.clone_url == f"https://github.com/{REPO}.git"
    assert repo.ssh_url == f"git@github.com:{REPO}.git"


async def test_compare_on_real_commits(fake: FakeGitHub) -> None:
    first = await fake.push(REPO, "main", {"a.yaml": "a: 1\n"}, message="one")
    second = await fake.push(REPO, "main", {"b.yaml": "b: 1\n"}, message="two")
    side = await fake.push(REPO, "side", {"c.yaml": "c: 1\n"}, message="side")
    third = await fake.push(REPO, "main", {"d.yaml": "d: 1\n"}, message="three")

    def compare() -> list[tuple[str, int, int]]:
        repo = client(fake).get_repo(REPO)
        pairs = [(first.sha, second.sha), (second.sha, first.sha), (second.sha, second.sha), (side.sha, third.sha)]
        out = []
        for base, head in pairs:
            assert base is not None and head is not None
            c = repo.compare(base, head)
            out.append((c.status, c.ahead_by, c.behind_by))
        return out

    assert await run(compare) == [("ahead", 1, 0), ("behind", 0, 1), ("identical", 0, 0), ("diverged", 1, 1)]


async def test_commit_lists_its_files(fake: FakeGitHub) -> None:
    pushed = await fake.push(REPO, "main", {"clusters/prod.yaml": "name: prod2\n", "README.md": None}, message="m")
    assert pushed.sha is not None
    sha = pushed.sha
    commit = await run(lambda: client(fake).get_repo(REPO).get_commit(sha))
    assert commit.sha == pushed.sha and commit.commit.message == "m"
    assert {(f.filename, f.status) for f in commit.files} == {
        ("clusters/prod.yaml", "modified"),
        ("README.md", "removed"),
    }


# -- statuses and check runs ----------------------------------------------------------------------------


async def test_statuses_and_combined_status(fake: FakeGitHub) -> None:
    sha = (await fake.push(REPO, "main", {"x.yaml": "x\n"})).sha
    assert sha is not None

    def post() -> tuple[str, int, str]:
        commit = client(fake).get_repo(REPO).get_commit(sha)
        commit.create_status("pending", description="rolling out", context="fluxops/a")
        commit.create_status("success", description="applied", context="fluxops/a", target_url="https://x/1")
        commit.create_status("failure", description="broken", context="fluxops/b")
        combined = commit.get_combined_status()
        return combined.state, combined.total_count, commit.get_statuses()[0].state

    assert await run(post) == ("failure", 2, "failure")
    recorded = fake.statuses(REPO, sha)
    assert [s["state"] for s in recorded] == ["failure", "success", "pending"]
    assert recorded[1]["target_url"] == "https://x/1" and recorded[1]["creator"] == "fluxops-bot"


async def test_status_validation_matches_github(fake: FakeGitHub) -> None:
    sha = (await fake.push(REPO, "main", {"x.yaml": "x\n"})).sha
    assert sha is not None
    commit = await run(lambda: client(fake).get_repo(REPO).get_commit(sha))
    with pytest.raises(GithubException) as too_long:
        await run(lambda: commit.create_status("success", description="d" * 141, context="c"))
    assert too_long.value.status == 422
    with pytest.raises(GithubException) as bad_state:
        await run(lambda: commit.create_status("green", context="c"))
    assert bad_state.value.status == 422


async def test_check_runs_need_an_installation_token(fake: FakeGitHub) -> None:
    sha = (await fake.push(REPO, "main", {"x.yaml": "x\n"})).sha
    assert sha is not None
    with pytest.raises(GithubException) as refused:
        await run(lambda: client(fake).get_repo(REPO).create_check_run(name="fluxops", head_sha=sha))
    assert refused.value.status == 403
    assert refused.value.data["message"] == "Resource not accessible by personal access token"


async def test_check_runs_as_an_app(app_fake: FakeGitHub) -> None:
    sha = (await app_fake.push(REPO, "main", {"x.yaml": "x\n"})).sha
    assert sha is not None

    def flow() -> tuple[str, str, str | None, int]:
        repo = app_client(app_fake).get_repo(REPO)
        run_ = repo.create_check_run(
            name="fluxops", head_sha=sha, status="in_progress", output={"title": "t", "summary": "s"}
        )
        repo.get_check_run(run_.id).edit(
            status="completed", conclusion="success", output={"title": "t", "summary": "ok"}
        )
        again = repo.get_check_run(run_.id)
        listed = list(repo.get_commit(sha).get_check_runs())
        return again.status, again.output.summary, again.conclusion, len(listed)

    assert await run(flow) == ("completed", "ok", "success", 1)
    assert app_fake.check_runs(REPO, sha)[0]["conclusion"] == "success"
    assert app_fake.auth.installation_tokens_issued() == 1


async def test_app_jwt_must_be_signed_by_the_app(app_fake: FakeGitHub) -> None:
    other_private, _ = rsa_pair()
    auth = Auth.AppAuth(APP_ID, other_private).get_installation_auth(1)
    gh = Github(auth=auth, base_url=app_fake.api_url, retry=0, seconds_between_requests=None)
    with pytest.raises(GithubException) as refused:
        await run(lambda: gh.get_repo(REPO).full_name)
    assert refused.value.status == 401


# -- pull requests, reviews, permissions ------------------------------------------------------------


async def test_pull_request_reviews_and_forks(fake: FakeGitHub) -> None:
    own = await fake.open_pull(REPO, "feature", title="Add dev", author="alice", files={"clusters/dev.yaml": "d\n"})
    fork = await fake.open_pull(REPO, "main", title="From a fork", author="mallory", files={"x.yaml": "x\n"}, fork=True)
    await fake.review(REPO, own.number or 0, reviewer="bob", state="APPROVED")
    await fake.review(REPO, own.number or 0, reviewer="carol", state="CHANGES_REQUESTED")
    await fake.review(REPO, own.number or 0, reviewer="carol", state="COMMENTED")
    with pytest.raises(SandboxError):
        await fake.review(REPO, own.number or 0, reviewer="alice", state="APPROVED")

    def read() -> dict[str, Any]:
        repo = client(fake).get_repo(REPO)
        pr = repo.get_pull(own.number or 0)
        fpr = repo.get_pull(fork.number or 0)
        return {
            "head": (pr.head.ref, pr.head.sha, pr.head.repo.full_name, pr.base.ref),
            "user": pr.user.login,
            "reviews": [(r.user.login, r.state) for r in pr.get_reviews()],
            "files": [(f.filename, f.status) for f in pr.get_files()],
            "fork": (fpr.head.repo.full_name, fpr.head.repo.fork, fpr.head.ref),
            "issue": repo.get_issue(own.number or 0).pull_request is not None,
        }

    got = await run(read)
    assert got["head"] == ("feature", own.sha, REPO, "main")
    assert got["user"] == "alice"
    assert got["reviews"] == [("bob", "APPROVED"), ("carol", "CHANGES_REQUESTED"), ("carol", "COMMENTED")]
    assert got["files"] == [("clusters/dev.yaml", "added")]
    assert got["fork"] == ("mallory/fleet", True, "main")
    assert got["issue"] is True


async def test_collaborator_permissions(fake: FakeGitHub) -> None:
    fake.set_permission(REPO, "bob", "write")
    fake.set_permission(REPO, "mia", "maintain")
    fake.set_permission(REPO, "tia", "triage")

    def read() -> list[tuple[str, str]]:
        repo = client(fake).get_repo(REPO)
        people = ("acme", "bob", "mia", "tia", "nobody")
        return [(repo.get_collaborator_permission(p), repo.get_collaborator_role_name(p)) for p in people]

    assert await run(read) == [
        ("admin", "admin"),
        ("write", "write"),
        ("write", "maintain"),
        ("read", "triage"),
        ("none", "none"),
    ]


# -- comments and reactions ------------------------------------------------------------------------


async def test_comments_edit_and_react(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(REPO, "feature", author="alice", files={"a.yaml": "a\n"})
    person = await fake.comment(REPO, pr.number or 0, "/flux apply", author="bob")

    def flow() -> list[tuple[str, str]]:
        issue = client(fake).get_repo(REPO).get_issue(pr.number or 0)
        mine = issue.create_comment("plan <!-- fluxops:plan -->")
        issue.get_comment(mine.id).edit("plan v2 <!-- fluxops:plan -->")
        theirs = issue.get_comment(person.id or 0)
        theirs.create_reaction("eyes")
        theirs.create_reaction("eyes")  # the same reaction twice is one reaction
        return [(c.user.login, c.body) for c in issue.get_comments()]

    assert await run(flow) == [("bob", "/flux apply"), ("fluxops-bot", "plan v2 <!-- fluxops:plan -->")]
    comments = fake.comments(REPO, pr.number)
    assert comments[0]["reactions"] == [{"user": "fluxops-bot", "content": "eyes"}]


async def test_comment_pages_follow_link_headers(fake: FakeGitHub) -> None:
    pr = await fake.open_pull(REPO, "feature", author="alice", files={"a.yaml": "a\n"})
    for i in range(7):
        fake.add_comment(REPO, pr.number or 0, "bob", f"c{i}")
    gh = Github(auth=Auth.Token(TOKEN), base_url=fake.api_url, per_page=3, retry=0, seconds_between_requests=None)
    bodies = await run(lambda: [c.body for c in gh.get_repo(REPO).get_issue(pr.number or 0).get_comments()])
    assert bodies == [f"c{i}" for i in range(7)]


# -- contents --------------------------------------------------------------------------------------


async def test_contents_file_directory_and_missing(fake: FakeGitHub) -> None:
    await fake.push(REPO, "main", {"clusters/eu/a.yaml": "a: 1\n"})

    def read() -> tuple[bytes, list[tuple[str, str]]]:
        repo = client(fake).get_repo(REPO)
        file = repo.get_contents("clusters/prod.yaml", ref="main")
        listing = repo.get_contents("clusters")
        assert not isinstance(file, list) and isinstance(listing, list)
        return file.decoded_content, [(e.path, e.type) for e in listing]

    content, listing = await run(read)
    assert content == b"name: prod\n"
    assert listing == [("clusters/eu", "dir"), ("clusters/prod.yaml", "file")]
    with pytest.raises(UnknownObjectException):
        await run(lambda: client(fake).get_repo(REPO).get_contents("nope"))


# -- deploy keys -----------------------------------------------------------------------------------


async def test_deploy_keys_through_git_access(fake: FakeGitHub) -> None:
    public = ssh_public_key()

    def flow() -> tuple[int, bool, list[int]]:
        repo = client(fake).get_repo(REPO)
        key = repo.create_key("fluxops prod", public, read_only=True)
        with pytest.raises(GithubException) as in_use:
            repo.create_key("again", public)
        assert in_use.value.status == 422
        assert in_use.value.data["errors"][0]["message"] == "key is already in use"
        keys = [k.id for k in repo.get_keys()]
        repo.get_key(key.id).delete()
        return key.id, key.read_only, keys

    key_id, read_only, listed = await run(flow)
    assert read_only is True and listed == [key_id]
    assert fake.access.deploy_keys("github.com", REPO) == []


async def test_meta_through_the_pygithub_requester(fake: FakeGitHub) -> None:
    headers, meta = await run(lambda: client(fake).requester.requestJsonAndCheck("GET", "/meta"))
    assert headers["content-type"].startswith("application/json")
    assert meta["verifiable_password_authentication"] is False
    assert meta["ssh_keys"] == fake.access.host_keys("github.com")
    key_type, encoded = meta["ssh_keys"][0].split()
    assert key_type == "ssh-ed25519"
    # The fingerprint is the key's, as ssh-keygen -lf prints it without "SHA256:".
    expected = ssh_fingerprint(base64.b64decode(encoded)).removeprefix("SHA256:")
    assert meta["ssh_key_fingerprints"] == {"SHA256_ED25519": expected}
    for name in ("hooks", "web", "api", "git"):
        assert meta[name] and all(ipaddress.ip_network(cidr) for cidr in meta[name])
    async with aiohttp.ClientSession() as session, session.get(f"{fake.api_url}/meta") as anonymous:
        assert anonymous.status == 200
        assert (await anonymous.json())["ssh_keys"] == meta["ssh_keys"]


async def test_broken_deploy_keys_are_listed_but_refused_by_ssh(fake: FakeGitHub, store: RepoStore) -> None:
    handle = store.resolve_url(f"git@github.com:{REPO}.git")
    assert handle is not None
    broken, broken_public = ssh_key_pair()
    healthy, healthy_public = ssh_key_pair()
    route = f"{fake.api_url}/_sandbox/faults/deploy-keys"
    async with aiohttp.ClientSession() as session:
        async with session.post(route, json={"repo": "nope/nope"}) as missing:
            assert missing.status == 404
        async with session.post(route, json={"repo": REPO, "count": 0}) as zero:
            assert zero.status == 400
        async with session.post(route, json={"repo": REPO}) as answer:
            assert answer.status == 200
            assert await answer.json() == {"broken_next": 1}
    assert fake.break_next_deploy_keys(REPO, 2) == 3

    def register(title: str, public: str) -> tuple[int, list[int]]:
        repo = client(fake).get_repo(REPO)
        created = repo.create_key(title, public, read_only=True)
        return created.id, [k.id for k in repo.get_keys()]

    key_id, listed = await run(register, "fluxops prod", broken_public)
    assert listed == [key_id]  # GitHub lists it as any other key
    assert not fake.access.check_ssh(handle, broken).ok

    async with aiohttp.ClientSession() as session, session.delete(f"{fake.api_url}/_sandbox/faults") as cleared:
        assert cleared.status == 200
    assert fake.access.check_ssh(handle, broken).ok
    await run(register, "fluxops next", healthy_public)
    assert fake.access.check_ssh(handle, healthy).ok  # the two still pending went too


# -- auth and recording -----------------------------------------------------------------------------


async def test_bad_token_gets_401_and_requests_are_recorded_without_tokens(fake: FakeGitHub) -> None:
    with pytest.raises(BadCredentialsException):
        await run(lambda: client(fake, "ghp_wrong").get_repo(REPO).full_name)
    await run(lambda: client(fake).get_repo(REPO).full_name)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_url}/_sandbox/requests") as response:
            text = await response.text()
        async with session.get(f"{fake.api_url}/repos/{REPO}") as anonymous:
            assert anonymous.status == 404  # private: anonymous callers cannot see it
        async with session.get(f"{fake.api_url}/repos/acme/public") as public:
            assert public.status == 200
    assert TOKEN not in text and "ghp_wrong" not in text
    statuses = [(r["status"], r["principal"]) for r in json.loads(text)["requests"]]
    assert statuses == [(401, "anonymous"), (200, "fluxops-bot")]


async def test_faults_and_rate_limits(fake: FakeGitHub) -> None:
    fake.inject_fault(503, path="/repos/")
    fake.inject_rate_limit(30)
    with pytest.raises(GithubException) as unavailable:
        await run(lambda: client(fake).get_repo(REPO).full_name)
    assert unavailable.value.status == 503
    with pytest.raises(GithubException) as limited:
        await run(lambda: client(fake).get_repo(REPO).full_name)
    assert limited.value.status == 403
    assert limited.value.headers is not None and limited.value.headers["x-ratelimit-remaining"] == "0"
    assert await run(lambda: client(fake).get_repo(REPO).full_name) == REPO


# -- webhooks --------------------------------------------------------------------------------------


def verify(headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Hub-Signature-256"], expected)


async def test_push_delivers_a_signed_push(fake: FakeGitHub, receiver: tuple[Receiver, str]) -> None:
    rec = receiver[0]
    seen: list[tuple[str, str, str]] = []
    fake.on_push = lambda slug, branch, sha: seen.append((slug, branch, sha))
    outcome = await fake.push(REPO, "main", {"clusters/prod.yaml": "x\n", "new.yaml": "n\n"}, author="alice")
    headers, body = rec.received[-1]
    assert verify(headers, body)
    assert headers["X-Hub-Signature"].startswith("sha1=")
    assert headers["X-GitHub-Event"] == "push" and headers["X-GitHub-Delivery"] == outcome.delivery
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
    payload = json.loads(body)
    assert payload["ref"] == "refs/heads/main" and payload["after"] == outcome.sha
    assert payload["before"] == outcome.before and payload["created"] is False
    assert payload["repository"]["clone_url"] == f"https://github.com/{REPO}.git"
    assert payload["head_commit"]["added"] == ["new.yaml"]
    assert payload["head_commit"]["modified"] == ["clusters/prod.yaml"]
    assert payload["pusher"]["name"] == "alice" and payload["sender"]["login"] == "alice"
    assert "installation" not in payload
    assert seen == [(REPO, "main", outcome.sha)]
    assert fake.deliveries()[-1]["status"] == 202


async def test_redeliver_sends_the_same_bytes_and_delivery_id(fake: FakeGitHub, receiver: tuple[Receiver, str]) -> None:
    rec = receiver[0]
    outcome = await fake.comment(REPO, (await fake.open_pull(REPO, "f", files={"a": "a"})).number or 0, "/flux help")
    url = f"{fake.api_url}/_sandbox/redeliver"
    async with aiohttp.ClientSession() as session, session.post(url, json={"delivery": outcome.delivery}) as r:
        assert r.status == 200
    first, second = rec.received[-2], rec.received[-1]
    assert first[1] == second[1]
    assert first[0]["X-GitHub-Delivery"] == second[0]["X-GitHub-Delivery"] == outcome.delivery
    assert first[0]["X-Hub-Signature-256"] == second[0]["X-Hub-Signature-256"]
    assert [a["redelivery"] for a in fake.deliveries()[-1]["attempts"]] == [False, True]


async def test_pull_request_lifecycle_over_control_routes(fake: FakeGitHub, receiver: tuple[Receiver, str]) -> None:
    rec = receiver[0]
    base = fake.api_url

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.post(f"{base}{path}", json=body) as r:
            assert r.status < 300, await r.text()
            result: dict[str, Any] = await r.json()
            return result

    opened = await post(
        "/_sandbox/pulls",
        {"repo": REPO, "head": "dev", "title": "Dev", "author": "alice", "files": {"clusters/dev.yaml": "dev\n"}},
    )
    n = opened["number"]
    synced = await post(
        f"/_sandbox/pulls/{n}/push",
        {"repo": REPO, "files": {"clusters/dev.yaml": "dev2\n"}, "message": "tweak", "author": "alice"},
    )
    await post("/_sandbox/collaborators", {"repo": REPO, "login": "bob", "permission": "write"})
    await post("/_sandbox/comment", {"repo": REPO, "number": n, "author": "bob", "body": "/flux apply"})
    await post("/_sandbox/review", {"repo": REPO, "number": n, "reviewer": "bob", "state": "APPROVED"})
    merged = await post("/_sandbox/merge", {"repo": REPO, "number": n})

    events = rec.events()
    assert [(e, p.get("action")) for e, p in events] == [
        ("push", None),
        ("pull_request", "opened"),
        ("push", None),
        ("pull_request", "synchronize"),
        ("issue_comment", "created"),
        ("pull_request_review", "submitted"),
        ("pull_request", "closed"),
        ("push", None),
    ]
    assert all(verify(h, b) for h, b in rec.received)
    sync = events[3][1]
    assert sync["before"] == opened["sha"] and sync["after"] == synced["sha"]
    assert events[4][1]["comment"]["author_association"] == "COLLABORATOR"
    assert events[4][1]["issue"]["pull_request"]["url"].endswith(f"/pulls/{n}")
    assert events[5][1]["review"]["state"] == "approved"
    closed = events[6][1]["pull_request"]
    assert closed["merged"] is True and closed["merge_commit_sha"] == merged["sha"]
    assert events[7][1]["after"] == merged["sha"] and events[7][1]["ref"] == "refs/heads/main"

    def merged_pr() -> tuple[str, bool, str]:
        repo = client(fake).get_repo(REPO)
        pr = repo.get_pull(n)
        return pr.state, pr.merged, repo.compare(synced["sha"], merged["sha"]).status

    assert await run(merged_pr) == ("closed", True, "ahead")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/_sandbox/comments", params={"repo": REPO, "number": str(n)}) as r:
            assert [c["body"] for c in (await r.json())["comments"]] == ["/flux apply"]
        async with session.get(f"{base}/_sandbox/deliveries") as r:
            assert all(d["status"] == 202 for d in (await r.json())["deliveries"])


async def test_app_webhooks_carry_the_installation(store: RepoStore, receiver: tuple[Receiver, str]) -> None:
    gh = FakeGitHub(
        repos=store,
        access=GitAccess(),
        app_id=APP_ID,
        app_public_key_pem=APP_PUBLIC,
        installation_id=77,
        webhook_secret=Secret(SECRET),
        webhook_url=receiver[1],
    )
    await gh.start()
    try:
        await gh.push(REPO, "main", {"a.yaml": "a\n"})
    finally:
        await gh.stop()
    headers, body = receiver[0].received[-1]
    assert json.loads(body)["installation"] == payloads.installation(77)
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "integration"
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(APP_ID)


def test_payload_builders_have_githubs_shapes() -> None:
    repo = payloads.repository(full_name="o/r", repo_id=7, private=True)
    assert repo["owner"]["login"] == "o" and repo["clone_url"] == "https://github.com/o/r.git"
    assert repo["url"] == "https://api.github.com/repos/o/r" and repo["visibility"] == "private"
    created = payloads.push(
        repo=repo, ref="refs/heads/x", before=payloads.ZERO_SHA, after="a" * 40, pusher="p", commits=[]
    )
    assert created["created"] is True and created["head_commit"] is None
    deleted = payloads.push(
        repo=repo, ref="refs/heads/x", before="a" * 40, after=payloads.ZERO_SHA, pusher="p", commits=[]
    )
    assert deleted["deleted"] is True
    fork = payloads.repository(full_name="m/r", repo_id=8)
    pr = payloads.pull_request(
        action="opened",
        repo=repo,
        number=3,
        head_sha="b" * 40,
        head_ref="f",
        base_ref="main",
        base_sha="c" * 40,
        author="m",
        head_repo=fork,
        installation_id=5,
    )
    assert pr["pull_request"]["head"]["repo"]["full_name"] == "m/r"
    assert pr["pull_request"]["head"]["label"] == "m:f" and pr["installation"]["id"] == 5
    merged = payloads.pull_request(
        action="closed",
        repo=repo,
        number=3,
        head_sha="b" * 40,
        head_ref="f",
        base_ref="main",
        base_sha="c" * 40,
        author="m",
        merged=True,
    )
    assert merged["pull_request"]["state"] == "closed" and merged["pull_request"]["merged"] is True
    comment = payloads.issue_comment(
        repo=repo, number=3, comment_id=9, author="bob", body="/flux", is_pull_request=False
    )
    assert "pull_request" not in comment["issue"] and comment["comment"]["html_url"].endswith(
        "/issues/3#issuecomment-9"
    )
    review = payloads.pull_request_review(
        repo=repo,
        number=3,
        reviewer="bob",
        state="CHANGES_REQUESTED",
        head_sha="b" * 40,
        head_ref="f",
        base_ref="main",
        author="m",
    )
    assert review["review"]["state"] == "changes_requested" and "merged" not in review["pull_request"]
    assert payloads.ping(repo=repo, hook_id=2)["hook"]["id"] == 2
