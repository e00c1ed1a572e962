"""What the fake Azure DevOps organization records: repositories, pull requests, threads, comments,
statuses, and the error it answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.azure_devops import payloads
from sandbox.gitrepos import RepoHandle

HOST = "dev.azure.com"
ZERO_SHA = "0" * 40
VOTES = (10, 5, 0, -5, -10)
THREAD_STATUSES = {0: "unknown", 1: "active", 2: "fixed", 3: "wontFix", 4: "closed", 5: "byDesign", 6: "pending"}
COMMENT_TYPES = {0: "unknown", 1: "text", 2: "codeChange", 3: "system"}
STATUS_STATES = ("notSet", "pending", "succeeded", "failed", "error", "notApplicable")


class AdoError(Exception):
    """An error Azure DevOps would answer with: status, ``typeKey`` and message (ADO's wrapped exception)."""

    def __init__(self, status: int, type_key: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type_key = type_key
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "$id": "1",
            "innerException": None,
            "message": self.message,
            "typeName": f"Microsoft.TeamFoundation.SourceControl.WebServer.{self.type_key}, "
            "Microsoft.TeamFoundation.SourceControl.WebServer",
            "typeKey": self.type_key,
            "errorCode": 0,
            "eventId": 3000,
        }


@dataclass
class Repo:
    org: str
    project: str
    name: str
    slug: str  # "org/project/name" as the store knows it
    handle: RepoHandle
    id: str
    project_id: str

    @property
    def short(self) -> str:
        """``project/name``, how the control routes name it."""
        return f"{self.project}/{self.name}"

    def payload(self) -> dict[str, Any]:
        return payloads.repository(
            org=self.org, project=self.project, name=self.name, repo_id=self.id, project_id=self.project_id
        )


@dataclass
class Comment:
    id: int
    parent: int
    author: str
    content: str
    published: str
    updated: str
    comment_type: str = "text"
    likes: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Thread:
    id: int
    published: str
    updated: str
    status: str = "active"
    comments: dict[int, Comment] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    #: the identities the properties name, by the keys they use ("1", "2", ...), as system threads carry them
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Status:
    id: int
    state: str
    description: str
    genre: str
    name: str
    target_url: str
    created: str
    creator: str
    iteration_id: int | None = None


@dataclass
class Iteration:
    """One push to a pull request's source (the first: its creation), as ``.../iterations`` lists them."""

    id: int
    created: str
    source_commit: str
    target_commit: str
    pushed_by: str
    reason: str = "push"


@dataclass
class PullRequest:
    id: int
    repo: Repo
    source: str
    target: str
    title: str
    description: str
    author: str
    created: str
    source_commit: str
    target_commit: str
    fork: Repo | None = None
    status: str = "active"
    closed: str = ""
    merge_commit: str | None = None
    closed_by: str = ""
    votes: dict[str, int] = field(default_factory=dict)
    iterations: list[Iteration] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)

    @property
    def source_repo(self) -> Repo:
        return self.fork or self.repo

    def resource(self) -> dict[str, Any]:
        return payloads.pull_request_resource(
            repo=self.repo.payload(),
            pr_id=self.id,
            source_branch=self.source,
            target_branch=self.target,
            source_commit=self.source_commit,
            target_commit=self.target_commit,
            author=self.author,
            status=self.status,
            title=self.title,
            description=self.description,
            reviewers=tuple(self.votes.items()),
            merge_commit=self.merge_commit,
            fork_repo=self.fork.payload() if self.fork else None,
            creation_date=self.created,
            closed_date=self.closed,
            closed_by=self.closed_by,
        )


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str
    message: str


def latest_only(statuses: list[Status]) -> list[Status]:
    """The newest status of each (genre, name), newest first."""
    seen: set[tuple[str, str]] = set()
    latest = []
    for status in reversed(statuses):
        key = (status.genre.lower(), status.name.lower())
        if key not in seen:
            seen.add(key)
            latest.append(status)
    return latest
