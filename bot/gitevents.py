"""Git hosting events, normalized: what a GitHub or Azure DevOps webhook means, in one shape for both.

The web process turns a verified delivery into one of these (handlers/github.py, handlers/azure_devops.py)
and stores it as JSON in the job record; the worker reads it back. Nothing here knows either provider's
payload: only what fluxops acts on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, TypeVar, get_type_hints

import orjson

GITHUB = "github"
AZURE_DEVOPS = "azure-devops"
PROVIDERS = (GITHUB, AZURE_DEVOPS)
#: how much of a comment's body a job record keeps (the command is its first line)
BODY_KEPT = 4096

_E = TypeVar("_E", bound="GitEvent")


@dataclass(frozen=True)
class RepoRef:
    """A repository on a Git host.

    ``full_name`` is ``owner/repo`` on GitHub and ``organization/project/repository`` on Azure DevOps;
    ``url`` is its HTTPS clone URL (what a Flux configuration's source would name); ``id`` is the
    provider's own id (GitHub's numeric id, the Azure DevOps repository GUID).
    """

    provider: str
    full_name: str
    url: str
    id: str = ""
    default_branch: str = "main"
    #: the GitHub App installation that delivered the event ("" for a token or Azure DevOps)
    installation_id: str = ""

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown git provider {self.provider!r}")

    @property
    def label(self) -> str:
        return self.full_name


_NAMES: dict[type, tuple[tuple[str, bool], ...]] = {}


def _names(cls: type) -> tuple[tuple[str, bool], ...]:
    """A dataclass's field names, each with whether its type is a dataclass (read once per class)."""
    names = _NAMES.get(cls)
    if names is None:
        hints = get_type_hints(cls)
        names = _NAMES[cls] = tuple((f.name, is_dataclass(hints[f.name])) for f in fields(cls))
    return names


def _fields_of(obj: object) -> dict[str, Any]:
    """A dataclass's fields as a dict, nested dataclasses too (what ``asdict`` gives, without its deep copies
    nor a look at every field: events are written once per delivery, on the web's hot path)."""
    return {
        name: _fields_of(getattr(obj, name)) if nested else getattr(obj, name) for name, nested in _names(type(obj))
    }


class GitEvent:
    """Base of the events below: JSON in and out of a job record."""

    kind: ClassVar[str] = ""

    def to_json(self) -> str:
        data = _fields_of(self)
        data["kind"] = self.kind
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()

    @classmethod
    def from_json(cls: type[_E], text: str) -> _E:
        data: dict[str, Any] = json.loads(text)
        if data.pop("kind", cls.kind) != cls.kind:
            raise ValueError(f"not a {cls.kind} event")
        data["repo"] = RepoRef(**data["repo"])
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


def event_from_json(text: str) -> PushEvent | PullRequestEvent | CommentEvent | ReviewEvent:
    kind = json.loads(text).get("kind")
    for cls in (PushEvent, PullRequestEvent, CommentEvent, ReviewEvent):
        if cls.kind == kind:
            return cls.from_json(text)
    raise ValueError(f"unknown git event kind {kind!r}")


@dataclass(frozen=True)
class PushEvent(GitEvent):
    """Commits pushed to a branch (GitHub ``push``, Azure DevOps ``git.push``)."""

    kind: ClassVar[str] = "push"

    repo: RepoRef
    branch: str  # without refs/heads/
    after: str  # the pushed head commit (full sha)
    before: str  # what the branch pointed at before ("" or zeros when created)
    pusher: str  # login / unique name
    commit_count: int = 0
    head_message: str = ""  # first line of the head commit's message
    deleted: bool = False  # the branch was deleted: nothing to trace


@dataclass(frozen=True)
class PullRequestEvent(GitEvent):
    """A pull request opened, updated (new commits), reopened, closed or merged."""

    kind: ClassVar[str] = "pull_request"

    repo: RepoRef
    number: int
    action: str  # "opened" | "synchronize" | "reopened" | "closed" | "merged" | "updated"
    head_sha: str
    head_branch: str
    base_branch: str
    author: str
    from_fork: bool = False
    merged: bool = False
    title: str = ""


@dataclass(frozen=True)
class CommentEvent(GitEvent):
    """A new comment on a pull request (GitHub ``issue_comment`` on a PR, Azure DevOps PR comment)."""

    kind: ClassVar[str] = "comment"

    repo: RepoRef
    number: int  # the pull request
    comment_id: str
    author: str  # login / unique name of the commenter (never the PR's author, unless the same person)
    body: str  # as delivered, capped at BODY_KEPT characters (the digest covers all of it)
    thread_id: str = ""  # Azure DevOps comment thread ("" on GitHub)
    #: SHA-256 of the whole body as the delivery had it: the worker runs the comment only while the host's matches
    body_digest: str = ""
    #: when the host says the comment was written (epoch seconds; 0 unknown)
    created_at: float = 0.0
    #: the commenter's numeric account id on GitHub ("" elsewhere): a login can be renamed and taken over
    author_id: str = ""


@dataclass(frozen=True)
class ReviewEvent(GitEvent):
    """A review submitted on a pull request (GitHub ``pull_request_review``)."""

    kind: ClassVar[str] = "review"

    repo: RepoRef
    number: int
    reviewer: str
    state: str  # "approved" | "changes_requested" | "commented" | "dismissed"
    head_sha: str = ""
