"""``FakeGitHub``: GitHub's REST API, its webhooks and the sandbox's control over them, in one aiohttp app.

Repositories are the real git repositories of a ``RepoStore`` (host ``github.com``); deploy keys live in
a ``GitAccess``; everything else GitHub remembers (pull requests, comments, reviews, statuses, check
runs, collaborators) is in memory (``fake.state``). See the package docstring for the control routes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.models import Secret
from sandbox.git_access import GitAccess
from sandbox.github import payloads
from sandbox.github.auth import AppConfig, Authenticator, AuthError
from sandbox.github.git import GitFailure, MergeConflict, RepoGit
from sandbox.github.rest import GIT_WEB, PRINCIPAL, ApiError, RestApi, repository_for
from sandbox.github.state import (
    PERMISSIONS,
    Comment,
    Delivery,
    GitHubState,
    PullRequest,
    Reaction,
    RequestRecord,
    Review,
    key,
    repo_id,
)
from sandbox.github.webhooks import Webhooks
from sandbox.gitrepos import RepoHandle, RepoStore

log = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024
RATE_LIMIT = 5000
DEFAULT_AUTHOR = "sandbox-user"
#: query parameters never recorded (GitHub once accepted tokens there)
_SECRET_QUERY = re.compile(r"token|secret|password|key", re.IGNORECASE)
ZERO_SHA = payloads.ZERO_SHA


class SandboxError(Exception):
    """A control request that cannot be done: an HTTP status and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Outcome:
    """What a sandbox action did: the commit it made, the pull request or comment it touched, and the
    webhook deliveries it sent (``delivery`` is the main one; ``deliveries`` all, in order)."""

    delivery: str | None
    deliveries: tuple[str, ...] = ()
    sha: str | None = None
    before: str | None = None
    number: int | None = None
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"delivery": self.delivery, "deliveries": list(self.deliveries)}
        for name in ("sha", "before", "number", "id"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


@dataclass
class Fault:
    """An answer to give instead of the real one, ``remaining`` more times, to matching API requests."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # a regular expression searched in the request path
    method: str | None = None
    remaining: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


class FakeGitHub:
    """GitHub.com for the sandbox, served over plain HTTP.

    ``token`` is the personal access token fluxops may use (as ``GITHUB_TOKEN``); ``app_id`` with
    ``app_public_key_pem`` makes it a GitHub App installed once (``installation_id``) whose webhooks carry
    ``installation``. ``webhook_url`` is where deliveries go, signed with ``webhook_secret``; ``on_push``
    is called with (slug, branch, sha) after every commit the fake makes on a branch.
    """

    def __init__(
        self,
        *,
        repos: RepoStore,
        access: GitAccess,
        token: Secret | None = None,
        token_login: str = "fluxops-bot",  # noqa: S107 - a login, not a secret
        webhook_secret: Secret | None = None,
        webhook_url: str | None = None,
        app_id: int | None = None,
        app_public_key_pem: str | None = None,
        app_slug: str = "fluxops",
        installation_id: int = 1,
        installation_token_ttl: float = 3600.0,
        hook_id: int = 1,
        on_push: Callable[[str, str, str], None] | None = None,
    ) -> None:
        if (app_id is None) != (app_public_key_pem is None):
            raise ValueError("a GitHub App needs both app_id and app_public_key_pem")
        self.repos = repos
        self.access = access
        self.git = RepoGit(repos)
        self.state = GitHubState()
        app = (
            AppConfig(app_id, app_public_key_pem, app_slug, installation_id, installation_token_ttl)
            if app_id is not None and app_public_key_pem is not None
            else None
        )
        self.auth = Authenticator(token=token, token_login=token_login, app=app)
        self.webhooks = Webhooks(
            state=self.state,
            secret=webhook_secret,
            hook_id=hook_id,
            target_type="integration" if app else "repository",
            target_id=app_id,
        )
        self.webhooks.url = webhook_url
        self.on_push = on_push
        #: "http://host:port/" once served
        self.base_url = ""
        self.faults: list[Fault] = []
        self.key_added_by: dict[int, str] = {}
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self._write = asyncio.Lock()
        self._default_branches: dict[str, str] = {}
        self._rate_used = 0
        self._rate_reset = int(time.time()) + 3600

    def __repr__(self) -> str:
        return f"FakeGitHub(base_url={self.base_url!r})"

    @property
    def webhook_url(self) -> str | None:
        return self.webhooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.webhooks.url = url

    @property
    def api_url(self) -> str:
        """What to give PyGithub as ``base_url`` (GITHUB_API_URL)."""
        return self.base_url.rstrip("/")

    @property
    def installation_id(self) -> int | None:
        return self.auth.app.installation_id if self.auth.app else None

    # -- serving -----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        from sandbox.github.control import Control

        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._middleware])
        Control(self).add_routes(app)
        self.rest.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port); returns and sets ``base_url``."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/"
        return self.base_url

    async def stop(self) -> None:
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            response: web.StreamResponse = await handler(request)
            return response
        principal_name = "anonymous"
        try:
            principal = self.auth.principal(request.headers.get("Authorization"))
            request[PRINCIPAL] = principal
            principal_name = principal.login or principal.kind
            fault = next((f for f in self.faults if f.matches(request.method, request.path)), None)
            if fault is not None:
                fault.remaining -= 1
                raise ApiError(fault.status, fault.message, headers=fault.headers)
            response = await handler(request)
        except ApiError as exc:
            response = exc.response()
        except AuthError as exc:
            response = ApiError(exc.status, exc.message).response()
        except web.HTTPMethodNotAllowed:
            response = ApiError(404, "Not Found").response()
        except web.HTTPNotFound:
            response = ApiError(404, "Not Found").response()
        self._rate_headers(response)
        await self._record(request, response.status, principal_name)
        return response

    def _rate_headers(self, response: web.StreamResponse) -> None:
        now = int(time.time())
        if now >= self._rate_reset:
            self._rate_reset, self._rate_used = now + 3600, 0
        self._rate_used += 1
        defaults = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - self._rate_used)),
            "X-RateLimit-Reset": str(self._rate_reset),
            "X-RateLimit-Used": str(self._rate_used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
        }
        for name, value in defaults.items():
            response.headers.setdefault(name, value)

    async def _record(self, request: web.Request, status: int, principal: str) -> None:
        body: Any = None
        raw = await request.read() if request.body_exists else b""
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unparsed_bytes": len(raw)}
        query = {k: ("**********" if _SECRET_QUERY.search(k) else v) for k, v in request.query.items()}
        if request.path.endswith("/access_tokens"):
            body = None  # nothing secret goes in, but nothing from the token exchange is kept either
        self.state.requests.append(RequestRecord(request.method, request.path, query, body, status, principal))

    # -- faults ------------------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int = 503,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer the next ``count`` matching API requests with ``status``."""
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        text = message or {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}.get(status, "Error")
        fault = Fault(status, text, headers, path, method, count)
        self.faults.append(fault)
        return fault

    def inject_rate_limit(
        self,
        reset_in: float = 60.0,
        *,
        secondary: bool = False,
        path: str | None = None,
        method: str | None = None,
        count: int = 1,
    ) -> Fault:
        """Answer as GitHub does when a rate limit is hit: 403 with X-RateLimit-Reset (primary) or
        429 with Retry-After (secondary)."""
        reset = int(time.time() + reset_in)
        if secondary:
            headers = {"Retry-After": str(int(reset_in))}
            message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            fault = Fault(429, message, headers, path, method, count)
        else:
            headers = {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Used": str(RATE_LIMIT),
            }
            message = "API rate limit exceeded for installation. Check out the documentation for more details."
            fault = Fault(403, message, headers, path, method, count)
        self.faults.append(fault)
        return fault

    def break_next_deploy_keys(self, slug: str, count: int = 1) -> int:
        """A fault: the next ``count`` deploy keys added to ``slug`` are accepted and listed, but SSH
        does not honour them. Returns how many are now pending for that repository."""
        handle = self._handle(slug)
        if count < 1:
            raise SandboxError(400, "count must be a positive integer")
        return self.access.break_next_keys("github.com", handle.slug, count)

    def clear_faults(self) -> None:
        """Drop every pending API fault and deploy-key fault, and let SSH honour broken keys again."""
        self.faults.clear()
        self.access.clear_key_faults()

    # -- JSON shared by REST and webhooks ----------------------------------------------------------

    def _handle(self, slug: str) -> RepoHandle:
        handle = self.git.handle(slug)
        if handle is None:
            raise SandboxError(404, f"no repository {slug} in the sandbox")
        return handle

    def default_branch(self, handle: RepoHandle) -> str:
        k = key(handle.slug)
        if k not in self._default_branches:
            self._default_branches[k] = self.git.default_branch(handle)
        return self._default_branches[k]

    def repository_json(self, handle: RepoHandle, *, api: str, web: str) -> dict[str, Any]:
        return repository_for(handle, self.default_branch(handle), api=api, web=web)

    def fork_json(self, handle: RepoHandle, owner: str, *, api: str, web: str) -> dict[str, Any]:
        name = handle.slug.split("/", 1)[1]
        fork = payloads.repository(
            full_name=f"{owner}/{name}",
            repo_id=repo_id(f"{owner}/{name}"),
            default_branch=self.default_branch(handle),
            web=web,
            api=api,
            git_web=GIT_WEB,
        )
        fork["fork"] = True
        return fork

    def current_head(self, handle: RepoHandle, pr: PullRequest) -> str:
        if pr.state == "open":
            return self.git.branch_head(handle, pr.git_branch) or pr.head_sha
        return pr.head_sha

    def pull_request_json(self, pr: PullRequest, handle: RepoHandle, *, api: str, web: str) -> dict[str, Any]:
        repo = self.repository_json(handle, api=api, web=web)
        head_sha = self.current_head(handle, pr)
        base_sha = self.git.branch_head(handle, pr.base_ref) or ""
        body = payloads.pull_request_object(
            repo=repo,
            number=pr.number,
            head_sha=head_sha,
            head_ref=pr.head_ref,
            base_ref=pr.base_ref,
            base_sha=base_sha,
            author=pr.author,
            title=pr.title,
            body=pr.body,
            state=pr.state,
            merged=pr.merged,
            head_repo=self.fork_json(handle, pr.fork_owner, api=api, web=web) if pr.fork_owner else None,
            created_at=pr.created_at,
            updated_at=pr.updated_at,
            closed_at=pr.closed_at,
            merge_commit_sha=pr.merge_commit_sha,
            merged_by=pr.merged_by,
        )
        if base_sha:
            merge_base = self.git.merge_base(handle, base_sha, head_sha) or base_sha
            comparison = self.git.compare(handle, merge_base, head_sha)
            changes = self.git.changes(handle, merge_base, head_sha)
            body["commits"] = comparison.ahead_by
            body["changed_files"] = len(changes)
            body["additions"] = sum(c.additions for c in changes)
            body["deletions"] = sum(c.deletions for c in changes)
        body["comments"] = len(self.state.comments_on(handle.slug, pr.number))
        return body

    def association(self, slug: str, login: str) -> str:
        role = self.state.permission(slug, login)
        if role == "admin" and slug.split("/", 1)[0].casefold() == login.casefold():
            return "OWNER"
        return "COLLABORATOR" if role else "NONE"

    def add_comment(self, slug: str, number: int, login: str, text: str, *, via_app: bool = False) -> Comment:
        now = payloads.now_iso()
        comment = Comment(self.state.next_id(), slug, number, login, text, now, now, via_app=via_app)
        self.state.comments[comment.id] = comment
        return comment

    def add_reaction(self, comment: Comment, login: str, content: str) -> Reaction:
        reaction = Reaction(self.state.next_id(), login, content, payloads.now_iso())
        comment.reactions.append(reaction)
        return reaction

    # -- webhooks ----------------------------------------------------------------------------------

    def _hook_repo(self, handle: RepoHandle) -> dict[str, Any]:
        api = self.api_url or "https://api.github.com"
        return self.repository_json(handle, api=api, web=GIT_WEB)

    def _hook_fork(self, handle: RepoHandle, pr: PullRequest) -> dict[str, Any] | None:
        if not pr.fork_owner:
            return None
        return self.fork_json(handle, pr.fork_owner, api=self.api_url or "https://api.github.com", web=GIT_WEB)

    async def _deliver(self, event: str, payload: dict[str, Any], handle: RepoHandle) -> str:
        delivery = await self.webhooks.send(event, payload, repo=handle.slug)
        return delivery.id

    def _commit_entry(self, handle: RepoHandle, sha: str, author: str, *, distinct: bool = True) -> dict[str, Any]:
        info = self.git.commit(handle, sha)
        parent = info.parents[0] if info.parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        added: list[str] = []
        removed: list[str] = []
        modified: list[str] = []
        for change in self.git.changes(handle, parent, sha):
            if change.status == "added":
                added.append(change.filename)
            elif change.status == "removed":
                removed.append(change.filename)
            elif change.status == "renamed":
                added.append(change.filename)
                removed.append(change.previous_filename or change.filename)
            else:
                modified.append(change.filename)
        return payloads.commit(
            sha=sha,
            message=info.message,
            author=author,
            timestamp=info.author_date,
            repo=self._hook_repo(handle),
            added=added,
            removed=removed,
            modified=modified,
            tree_id=info.tree,
            distinct=distinct,
        )

    async def _push_event(
        self, handle: RepoHandle, branch: str, before: str, after: str, commits: list[dict[str, Any]], pusher: str
    ) -> str:
        payload = payloads.push(
            repo=self._hook_repo(handle),
            ref=f"refs/heads/{branch}",
            before=before,
            after=after,
            pusher=pusher,
            commits=commits,
            installation_id=self.installation_id,
        )
        delivery = await self._deliver("push", payload, handle)
        if self.on_push is not None:
            try:
                self.on_push(handle.slug, branch, after)
            except Exception:  # the callback is the sandbox's business; the push itself happened
                log.exception("on_push callback failed for %s@%s", handle.slug, branch)
        return delivery

    def _pr_payload(self, action: str, handle: RepoHandle, pr: PullRequest, **extra: Any) -> dict[str, Any]:
        return payloads.pull_request(
            action=action,
            repo=self._hook_repo(handle),
            number=pr.number,
            head_sha=self.current_head(handle, pr),
            head_ref=pr.head_ref,
            base_ref=pr.base_ref,
            base_sha=self.git.branch_head(handle, pr.base_ref) or "",
            author=pr.author,
            title=pr.title,
            state=pr.state,
            merged=pr.merged,
            head_repo=self._hook_fork(handle, pr),
            installation_id=self.installation_id,
            body=pr.body,
            created_at=pr.created_at,
            merge_commit_sha=pr.merge_commit_sha,
            **extra,
        )

    # -- sandbox actions (call on the fake's event loop) -------------------------------------------

    async def push(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str | None],
        *,
        message: str = "Update files",
        author: str = DEFAULT_AUTHOR,
    ) -> Outcome:
        """Commit ``files`` (None deletes) on ``branch`` and deliver ``push`` (and ``synchronize`` to
        open pull requests whose head is that branch)."""
        handle = self._handle(repo)
        async with self._write:
            before = self.git.branch_head(handle, branch) or ZERO_SHA
            sha = await self._commit(handle, branch, files, message, author)
            entry = await asyncio.to_thread(self._commit_entry, handle, sha, author)
            deliveries = [await self._push_event(handle, branch, before, sha, [entry], author)]
            for pr in list(self.state.pulls.values()):
                if key(pr.repo) == key(handle.slug) and pr.state == "open" and pr.git_branch == branch:
                    deliveries.append(await self._synchronize(handle, pr, before, sha, author))
        return Outcome(deliveries[0], tuple(deliveries), sha=sha, before=before)

    async def _commit(
        self, handle: RepoHandle, branch: str, files: Mapping[str, str | None], message: str, author: str
    ) -> str:
        if not files:
            raise SandboxError(400, "files must name at least one file")
        try:
            sha = await asyncio.to_thread(self.repos.commit, handle.slug, dict(files), message, branch=branch)
        except ValueError as exc:
            raise SandboxError(400, str(exc)) from None
        except GitFailure as exc:
            raise SandboxError(409, str(exc)) from None
        # git records the sandbox's one author; GitHub would match the commit's e-mail to this user
        self.state.commit_users[sha] = author
        return sha

    async def _synchronize(self, handle: RepoHandle, pr: PullRequest, before: str, after: str, sender: str) -> str:
        pr.head_sha = after
        pr.updated_at = payloads.now_iso()
        payload = self._pr_payload("synchronize", handle, pr, before=before, sender=sender)
        return await self._deliver("pull_request", payload, handle)

    async def open_pull(
        self,
        repo: str,
        head: str,
        *,
        base: str | None = None,
        title: str = "",
        author: str = DEFAULT_AUTHOR,
        files: Mapping[str, str | None] | None = None,
        fork: bool = False,
        body: str | None = None,
        message: str | None = None,
    ) -> Outcome:
        """Open a pull request from ``head`` into ``base`` (default branch), committing ``files`` on the
        head first when given. ``fork``: the head lives in ``author``'s fork (its commits are kept in the
        base repository under ``pull/<n>/head``, as GitHub keeps them)."""
        handle = self._handle(repo)
        base = base or self.default_branch(handle)
        async with self._write:
            if self.git.branch_head(handle, base) is None:
                raise SandboxError(422, f"base branch {base} does not exist")
            for other in self.state.pulls.values():
                if (
                    key(other.repo) == key(handle.slug)
                    and other.state == "open"
                    and other.head_ref == head
                    and other.base_ref == base
                    and other.fork_owner == (author if fork else None)
                ):
                    raise SandboxError(422, f"A pull request already exists for {author if fork else ''}:{head}.")
            number = self.state.next_number(handle.slug)
            git_branch = f"pull/{number}/head" if fork else head
            deliveries: list[str] = []
            if fork:
                start = self.git.branch_head(handle, head) or self.git.branch_head(handle, base)
                assert start is not None
                await asyncio.to_thread(self.git.create_branch, handle, git_branch, start)
            elif self.git.branch_head(handle, head) is None:
                if not files:
                    raise SandboxError(422, f"head branch {head} does not exist (give files to create it)")
                start = self.git.branch_head(handle, base)
                assert start is not None
                await asyncio.to_thread(self.git.create_branch, handle, git_branch, start)
            if files:
                before = self.git.branch_head(handle, git_branch) or ZERO_SHA
                sha = await self._commit(handle, git_branch, files, message or title or "Change files", author)
                if not fork:
                    entry = await asyncio.to_thread(self._commit_entry, handle, sha, author)
                    deliveries.append(await self._push_event(handle, git_branch, before, sha, [entry], author))
            head_sha = self.git.branch_head(handle, git_branch)
            assert head_sha is not None
            base_sha = self.git.branch_head(handle, base)
            if head_sha == base_sha:
                raise SandboxError(422, f"No commits between {base} and {head}")
            now = payloads.now_iso()
            pr = PullRequest(
                repo=handle.slug,
                number=number,
                head_ref=head,
                git_branch=git_branch,
                base_ref=base,
                author=author,
                title=title or head,
                body=body,
                created_at=now,
                updated_at=now,
                head_sha=head_sha,
                fork_owner=author if fork else None,
            )
            self.state.add_pull(pr)
            opened = await self._deliver("pull_request", self._pr_payload("opened", handle, pr), handle)
            deliveries.append(opened)
        return Outcome(opened, tuple(deliveries), sha=head_sha, number=number)

    def _open_pull(self, handle: RepoHandle, number: int) -> PullRequest:
        pr = self.state.pull(handle.slug, number)
        if pr is None:
            raise SandboxError(404, f"no pull request #{number} in {handle.slug}")
        return pr

    async def push_to_pull(
        self,
        repo: str,
        number: int,
        files: Mapping[str, str | None],
        *,
        message: str = "Update files",
        author: str | None = None,
    ) -> Outcome:
        """Commit on the pull request's head: ``push`` (not for a fork) then ``pull_request`` synchronize."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        if pr.state != "open":
            raise SandboxError(422, f"pull request #{number} is closed")
        if not pr.fork_owner:
            outcome = await self.push(repo, pr.git_branch, files, message=message, author=author or pr.author)
            sync = outcome.deliveries[-1]
            return Outcome(sync, outcome.deliveries, sha=outcome.sha, before=outcome.before, number=number)
        async with self._write:
            before = self.current_head(handle, pr)
            sha = await self._commit(handle, pr.git_branch, files, message, author or pr.author)
            sync = await self._synchronize(handle, pr, before, sha, author or pr.author)
        return Outcome(sync, (sync,), sha=sha, before=before, number=number)

    async def comment(
        self, repo: str, number: int, body: str, *, author: str = DEFAULT_AUTHOR, created_at: str | None = None
    ) -> Outcome:
        """A person comments on the pull request: ``issue_comment`` created. ``created_at`` backdates the
        comment (a delivery that reaches fluxops long after the comment was written)."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        comment = self.add_comment(handle.slug, number, author, body)
        if created_at is not None:
            comment.created_at = comment.updated_at = created_at
        payload = payloads.issue_comment(
            repo=self._hook_repo(handle),
            number=number,
            comment_id=comment.id,
            author=author,
            body=body,
            installation_id=self.installation_id,
            issue_author=pr.author,
            title=pr.title,
            author_association=self.association(handle.slug, author),
            created_at=comment.created_at,
        )
        delivery = await self._deliver("issue_comment", payload, handle)
        return Outcome(delivery, (delivery,), number=number, id=comment.id)

    async def edit_comment(self, repo: str, comment_id: int, body: str, *, editor: str) -> Outcome:
        """Someone (``editor``: anyone with write access can edit others' comments) changes a comment's
        text: ``issue_comment`` edited, with the comment's author unchanged, as GitHub sends it."""
        handle = self._handle(repo)
        comment = self.state.comments.get(comment_id)
        if comment is None or key(comment.repo) != key(handle.slug):
            raise SandboxError(404, f"no comment {comment_id} on {repo}")
        pr = self._open_pull(handle, comment.number)
        previous, comment.body, comment.updated_at = comment.body, body, payloads.now_iso()
        payload = payloads.issue_comment(
            repo=self._hook_repo(handle),
            number=comment.number,
            comment_id=comment.id,
            author=comment.author,
            body=body,
            action="edited",
            installation_id=self.installation_id,
            issue_author=pr.author,
            title=pr.title,
            author_association=self.association(handle.slug, comment.author),
            previous_body=previous,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
        )
        payload["sender"] = payloads.user_of(self._hook_repo(handle), editor)
        delivery = await self._deliver("issue_comment", payload, handle)
        return Outcome(delivery, (delivery,), number=comment.number, id=comment.id)

    async def replay(self, delivery_id: str) -> Delivery:
        """What someone who captured a delivery can do: send its exact bytes and signature again under a
        new X-GitHub-Delivery (the delivery id is not covered by the signature)."""
        delivery = await self.webhooks.replay(delivery_id)
        if delivery is None:
            raise SandboxError(404, f"no delivery {delivery_id}")
        return delivery

    async def review(self, repo: str, number: int, *, reviewer: str, state: str, body: str = "") -> Outcome:
        """A review is submitted (APPROVED | CHANGES_REQUESTED | COMMENTED): ``pull_request_review``."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        upper = state.upper()
        if upper not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED"):
            raise SandboxError(400, "state must be APPROVED, CHANGES_REQUESTED or COMMENTED")
        if upper != "COMMENTED" and reviewer.casefold() == pr.author.casefold():
            verb = "approve" if upper == "APPROVED" else "request changes on"
            raise SandboxError(422, f"Can not {verb} your own pull request")
        head_sha = self.current_head(handle, pr)
        review = Review(self.state.next_id(), handle.slug, number, reviewer, upper, body, head_sha, payloads.now_iso())
        self.state.reviews.append(review)
        payload = payloads.pull_request_review(
            repo=self._hook_repo(handle),
            number=number,
            reviewer=reviewer,
            state=upper,
            head_sha=head_sha,
            head_ref=pr.head_ref,
            base_ref=pr.base_ref,
            author=pr.author,
            review_id=review.id,
            installation_id=self.installation_id,
            base_sha=self.git.branch_head(handle, pr.base_ref) or "",
            title=pr.title,
            body=body or None,
            head_repo=self._hook_fork(handle, pr),
        )
        delivery = await self._deliver("pull_request_review", payload, handle)
        return Outcome(delivery, (delivery,), number=number, id=review.id)

    async def merge(self, repo: str, number: int, *, author: str | None = None) -> Outcome:
        """Merge the pull request with a merge commit on its base: ``pull_request`` closed (merged) and
        the base branch's ``push``."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        merger = author or handle.slug.split("/", 1)[0]
        async with self._write:
            if pr.state != "open":
                raise SandboxError(422, f"pull request #{number} is not open")
            head_sha = self.current_head(handle, pr)
            before = self.git.branch_head(handle, pr.base_ref) or ZERO_SHA
            head_owner = pr.fork_owner or handle.slug.split("/", 1)[0]
            message = f"Merge pull request #{number} from {head_owner}/{pr.head_ref}\n\n{pr.title}"
            try:
                sha = await asyncio.to_thread(self.git.merge, handle, pr.base_ref, head_sha, message, merger)
            except MergeConflict as exc:
                raise SandboxError(405, f"Pull Request is not mergeable: {exc}") from None
            now = payloads.now_iso()
            pr.head_sha = head_sha
            pr.state, pr.merged, pr.merged_by = "closed", True, merger
            pr.merged_at = pr.closed_at = pr.updated_at = now
            pr.merge_commit_sha = sha
            self.state.commit_users[sha] = merger
            closed = await self._deliver("pull_request", self._pr_payload("closed", handle, pr, sender=merger), handle)
            shas = (await asyncio.to_thread(self.git.compare, handle, before, sha)).commits
            entries = [
                await asyncio.to_thread(
                    self._commit_entry, handle, s, merger if s == sha else pr.author, distinct=s == sha
                )
                for s in shas
            ]
            pushed = await self._push_event(handle, pr.base_ref, before, sha, entries, merger)
        return Outcome(closed, (closed, pushed), sha=sha, before=before, number=number)

    async def close(self, repo: str, number: int, *, author: str | None = None) -> Outcome:
        """Close the pull request without merging: ``pull_request`` closed."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        if pr.state != "open":
            raise SandboxError(422, f"pull request #{number} is not open")
        pr.head_sha = self.current_head(handle, pr)
        pr.state = "closed"
        pr.closed_at = pr.updated_at = payloads.now_iso()
        payload = self._pr_payload("closed", handle, pr, sender=author or pr.author)
        delivery = await self._deliver("pull_request", payload, handle)
        return Outcome(delivery, (delivery,), number=number)

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """Make ``login`` a collaborator with ``permission`` (``none`` removes them)."""
        handle = self._handle(repo)
        if permission not in PERMISSIONS:
            raise SandboxError(400, f"permission must be one of {', '.join(PERMISSIONS)}")
        self.state.set_permission(handle.slug, login, permission)

    async def ping(self, repo: str) -> Outcome:
        """The ``ping`` GitHub sends when a webhook is created."""
        handle = self._handle(repo)
        payload = payloads.ping(repo=self._hook_repo(handle), hook_id=self.webhooks.hook_id, url=self.webhook_url or "")
        delivery = await self._deliver("ping", payload, handle)
        return Outcome(delivery, (delivery,))

    async def redeliver(self, delivery_id: str) -> Delivery:
        """Send a delivery again: same GUID, same bytes, same signatures."""
        delivery = await self.webhooks.redeliver(delivery_id)
        if delivery is None:
            raise SandboxError(404, f"no delivery {delivery_id}")
        return delivery

    # -- reading what fluxops did ------------------------------------------------------------------

    def statuses(self, repo: str, sha: str | None = None) -> list[dict[str, Any]]:
        """Commit statuses, newest first."""
        k = key(repo)
        return [
            {
                "id": s.id,
                "repo": s.repo,
                "sha": s.sha,
                "state": s.state,
                "context": s.context,
                "description": s.description,
                "target_url": s.target_url,
                "creator": s.creator,
                "created_at": s.created_at,
            }
            for s in reversed(self.state.statuses)
            if key(s.repo) == k and (sha is None or s.sha == sha)
        ]

    def comments(self, repo: str, number: int | None = None) -> list[dict[str, Any]]:
        """Comments on pull requests, oldest first."""
        k = key(repo)
        return [
            {
                "id": c.id,
                "repo": c.repo,
                "number": c.number,
                "author": c.author,
                "body": c.body,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "via_app": c.via_app,
                "reactions": [{"user": r.user, "content": r.content} for r in c.reactions],
            }
            for c in sorted(self.state.comments.values(), key=lambda c: c.id)
            if key(c.repo) == k and (number is None or c.number == number)
        ]

    def check_runs(self, repo: str, sha: str | None = None) -> list[dict[str, Any]]:
        k = key(repo)
        return [
            {
                "id": r.id,
                "repo": r.repo,
                "head_sha": r.head_sha,
                "name": r.name,
                "status": r.status,
                "conclusion": r.conclusion,
                "output": r.output,
                "details_url": r.details_url,
                "external_id": r.external_id,
                "started_at": r.started_at,
                "completed_at": r.completed_at,
            }
            for r in self.state.check_runs.values()
            if key(r.repo) == k and (sha is None or r.head_sha == sha)
        ]

    def requests(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.state.requests]

    def deliveries(self) -> list[dict[str, Any]]:
        return [d.as_json() for d in self.state.deliveries.values()]

    def delivery(self, delivery_id: str) -> Delivery | None:
        return self.state.deliveries.get(delivery_id)
