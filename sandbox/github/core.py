"""What the fake GitHub's parts share: its state, the JSON views REST and webhooks both send, and errors.

:class:`GitHubCore` is built once per fake; :mod:`sandbox.github.hook_events`,
:mod:`sandbox.github.actions` and :mod:`sandbox.github.server` add webhooks, sandbox actions and serving.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.models import Secret
from sandbox.git_access import GitAccess
from sandbox.github import payloads
from sandbox.github.auth import AppConfig, Authenticator
from sandbox.github.git import RepoGit
from sandbox.github.rest import GIT_WEB, RestApi, repository_for
from sandbox.github.state import Comment, GitHubState, PullRequest, Reaction, key, repo_id
from sandbox.github.webhooks import Webhooks
from sandbox.gitrepos import RepoHandle, RepoStore


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


class GitHubCore:
    """The fake's state (repositories, deploy keys, pull requests, comments...) and the JSON views of it.

    Its arguments are :class:`~sandbox.github.server.FakeGitHub`'s.
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
