"""What fluxops reads from and writes to a Git host (GitHub, Azure DevOps), in neutral value types.

The capability Protocols of ``bot.ports`` (CommitStatuses, PullRequests, RepositoryFiles, DeployKeys) speak
these; the packages workers/github_host/ and workers/ado_host/ map them onto each provider's API (PyGithub;
Azure DevOps REST 7.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: commit status descriptions longer than this are refused by GitHub (and clipped by us first)
STATUS_DESCRIPTION_LIMIT = 140
#: the hidden marker that finds fluxops' one plan comment on a pull request again
PLAN_MARKER = "<!-- fluxops:plan -->"


class StatusState(StrEnum):
    """A commit status (GitHub's words; Azure DevOps: pending, succeeded, failed, error)."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"


class Permission(StrEnum):
    """A person's access to a repository, lowest first (GitHub's collaborator permission levels)."""

    NONE = "none"
    READ = "read"
    TRIAGE = "triage"
    WRITE = "write"
    MAINTAIN = "maintain"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Permission).index(self)

    def at_least(self, other: Permission) -> bool:
        return self.rank >= other.rank


@dataclass(frozen=True)
class CommitStatus:
    state: StatusState
    context: str  # "fluxops/<cluster>/<config>", or "fluxops/<config>" for a push to many clusters
    description: str  # clipped to STATUS_DESCRIPTION_LIMIT by the adapter if longer
    target_url: str = ""


@dataclass(frozen=True)
class CheckRun:
    """One check run with the whole (cluster, configuration) matrix (GitHub Apps only)."""

    name: str  # "fluxops"
    status: str  # "queued" | "in_progress" | "completed"
    conclusion: str | None  # when completed: "success" | "failure" | "neutral" | "timed_out" | "cancelled"
    title: str
    summary: str  # markdown
    text: str = ""  # markdown: the matrix


class Verdict(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


@dataclass(frozen=True)
class Review:
    """One reviewer's standing verdict on a pull request (their latest; a dismissed one is gone).

    ``commit`` is the head commit the verdict was given on: GitHub's review ``commit_id``; on Azure DevOps
    the source commit of the iteration (push) that was the newest when the vote was cast. "" when the host
    cannot tell, and then the verdict is on no commit in particular: an approval of that kind never counts.
    """

    user: str  # login / unique name
    verdict: Verdict
    commit: str = ""


@dataclass(frozen=True)
class PullRequestInfo:
    """A pull request as the host says it is now (never as a webhook claimed)."""

    number: int
    state: str  # "open" | "closed" | "merged"
    head_sha: str
    head_branch: str
    base_branch: str
    author: str
    from_fork: bool
    #: people whose latest review approves the current head commit (Azure DevOps: vote 10 or 5 cast after the
    #: last push); approvals of older commits are in ``reviews`` only
    approved_by: tuple[str, ...] = ()
    #: people whose latest review asks for changes (Azure DevOps: vote -5 or -10)
    changes_requested_by: tuple[str, ...] = ()
    title: str = ""
    url: str = ""  # the pull request's web page
    #: every reviewer's standing verdict, with the commit it was given on (what approvals are counted from)
    reviews: tuple[Review, ...] = ()
    #: who merged (GitHub ``merged_by``) or completed (Azure DevOps ``closedBy``) it; "" when open or unknown
    merged_by: str = ""
    #: the commit the merge made on the base branch (GitHub ``merge_commit_sha``, Azure DevOps
    #: ``lastMergeCommit``); "" when not merged or unknown
    merge_commit: str = ""

    @property
    def approved(self) -> bool:
        return bool(self.approved_by) and not self.changes_requested_by

    def approvals(self) -> tuple[Review, ...]:
        """The standing approvals, on whatever commit they were given."""
        return tuple(r for r in self.reviews if r.verdict is Verdict.APPROVED)


@dataclass(frozen=True)
class CommentRef:
    """A comment fluxops can edit again: its id, and on Azure DevOps the thread it is in."""

    id: str
    thread_id: str = ""


@dataclass(frozen=True)
class CommentInfo:
    ref: CommentRef
    author: str  # login / unique name
    body: str
    #: when the host says it was written, and its text last changed (epoch seconds; 0 when it does not say)
    published: float = 0.0
    edited: float = 0.0
