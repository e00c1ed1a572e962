"""What the fake GitHub keeps in memory: pull requests, comments, reactions, reviews, statuses, check
runs, collaborators, webhook deliveries and every API request it answered.

Repositories and their commits are not here: they are real git repositories in a ``RepoStore``.
Everything lives on the event loop that serves the fake; tests in the same process may read it.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, field
from typing import Any

from bot.repo_urls import repo_key

#: GitHub's permission levels, lowest first; "none" is no access at all
PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def key(slug: str) -> str:
    """The case-insensitive key of a GitHub repository slug."""
    return repo_key("github.com", slug)[1]


def repo_id(slug: str) -> int:
    """A stable numeric id for a repository (GitHub's ids are opaque positive integers)."""
    return zlib.crc32(key(slug).encode()) % 900_000_000 + 100_000_000


@dataclass
class PullRequest:
    repo: str  # the base repository's slug
    number: int
    head_ref: str  # the head branch as GitHub shows it
    git_branch: str  # where the head commits live in the base repository (a fork's are kept apart)
    base_ref: str
    author: str
    title: str
    body: str | None
    created_at: str
    updated_at: str
    head_sha: str
    fork_owner: str | None = None
    state: str = "open"
    merged: bool = False
    merged_by: str | None = None
    merged_at: str | None = None
    closed_at: str | None = None
    merge_commit_sha: str | None = None


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    created_at: str


@dataclass
class Comment:
    id: int
    repo: str
    number: int
    author: str
    body: str
    created_at: str
    updated_at: str
    via_app: bool = False
    reactions: list[Reaction] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.reactions:
            counts[r.content] = counts.get(r.content, 0) + 1
        return counts


@dataclass
class Review:
    id: int
    repo: str
    number: int
    reviewer: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    body: str
    commit_id: str
    submitted_at: str


@dataclass
class Status:
    id: int
    repo: str
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str


@dataclass
class CheckRun:
    id: int
    repo: str
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    output: dict[str, Any]
    details_url: str | None
    external_id: str | None
    started_at: str
    completed_at: str | None


@dataclass
class Attempt:
    status: int | None  # the receiver's status code; None when it could not be reached
    error: str | None
    at: str
    redelivery: bool


@dataclass
class Delivery:
    id: str  # X-GitHub-Delivery
    event: str
    action: str | None
    repo: str
    body: bytes
    headers: dict[str, str]
    attempts: list[Attempt] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else None
        return {
            "delivery": self.id,
            "event": self.event,
            "action": self.action,
            "repo": self.repo,
            "status": last.status if last else None,
            "error": last.error if last else None,
            "attempts": [
                {"status": a.status, "error": a.error, "at": a.at, "redelivery": a.redelivery} for a in self.attempts
            ],
        }


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    principal: str  # who the request authenticated as (a login, "app" or "anonymous"); never a token

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "principal": self.principal,
        }


class GitHubState:
    """Everything GitHub remembers besides git objects."""

    def __init__(self) -> None:
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.comments: dict[int, Comment] = {}
        self.reviews: list[Review] = []
        self.statuses: list[Status] = []
        self.check_runs: dict[int, CheckRun] = {}
        self.collaborators: dict[str, dict[str, tuple[str, str]]] = {}  # repo key -> login key -> (login, perm)
        #: the GitHub user each commit made through the fake is attributed to (author and committer)
        self.commit_users: dict[str, str] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.requests: list[RequestRecord] = []
        self._numbers: dict[str, itertools.count[int]] = {}
        self._ids = itertools.count(1_000_001)

    def next_id(self) -> int:
        return next(self._ids)

    def next_number(self, slug: str) -> int:
        """Issues and pull requests share one numbering per repository."""
        return next(self._numbers.setdefault(key(slug), itertools.count(1)))

    def pull(self, slug: str, number: int) -> PullRequest | None:
        return self.pulls.get((key(slug), number))

    def add_pull(self, pr: PullRequest) -> None:
        self.pulls[(key(pr.repo), pr.number)] = pr

    def set_permission(self, slug: str, login: str, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {', '.join(PERMISSIONS)}")
        people = self.collaborators.setdefault(key(slug), {})
        if permission == "none":
            people.pop(login.casefold(), None)
        else:
            people[login.casefold()] = (login, permission)

    def permission(self, slug: str, login: str) -> str | None:
        """The collaborator's role, or None when they are not a collaborator (the owner is admin)."""
        if slug.split("/", 1)[0].casefold() == login.casefold():
            return "admin"
        entry = self.collaborators.get(key(slug), {}).get(login.casefold())
        return entry[1] if entry else None

    def comments_on(self, slug: str, number: int) -> list[Comment]:
        k = key(slug)
        return [c for c in self.comments.values() if key(c.repo) == k and c.number == number]

    def reviews_on(self, slug: str, number: int) -> list[Review]:
        k = key(slug)
        return [r for r in self.reviews if key(r.repo) == k and r.number == number]

    def statuses_of(self, slug: str, sha: str) -> list[Status]:
        """Statuses of a commit, newest first (as GitHub lists them)."""
        k = key(slug)
        return [s for s in reversed(self.statuses) if key(s.repo) == k and s.sha == sha]

    def check_runs_of(self, slug: str, sha: str) -> list[CheckRun]:
        k = key(slug)
        return [c for c in self.check_runs.values() if key(c.repo) == k and c.head_sha == sha]
