"""Which approvals of a fleet pull request count, as Atlantis's apply requirements would have it.

An approval counts only when all of these hold:

- it was given on the pull request's current head commit (a push after it makes it stale), and is still
  the reviewer's standing verdict (not dismissed, not superseded by their newer review);
- the reviewer authored, committed or pushed none of the pull request's commits (nor opened it): a person
  never approves their own change;
- the reviewer holds a fluxops role, beyond what the policy gives everyone (``*``), on every cluster the
  plan changes;
- the reviewer has write access to the repository (GitHub collaborator write; Azure DevOps Contribute).

Any standing request for changes blocks. The rules are pure: ``tally`` takes what the host said and two
questions it asks the caller (``role_gap``, ``can_write``), and says who counted and why others did not.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.git_host import PullRequestInfo, Verdict


@dataclass(frozen=True)
class NotCounted:
    user: str
    reason: str

    def __str__(self) -> str:
        return f"{self.user} ({self.reason})"


@dataclass(frozen=True)
class Tally:
    """The approvals of one pull request at ``head``, counted."""

    head: str
    counted: tuple[str, ...]
    not_counted: tuple[NotCounted, ...]
    changes_requested: tuple[str, ...]
    #: how many counted approvals it needs (the policy's ``approvals:`` for ``apply``; at least one)
    required: int = 1

    @property
    def approved(self) -> bool:
        return len(self.counted) >= self.required and not self.changes_requested


def tally(
    pr: PullRequestInfo,
    *,
    authors: Collection[str],
    role_gap: Callable[[str], str],
    can_write: Callable[[str], str],
    required: int = 1,
) -> Tally:
    """Count ``pr``'s approvals on its head commit.

    ``authors``: who wrote or pushed its commits (case-folded); ``role_gap(user)``: "" when the user holds a
    fluxops role on every cluster the plan changes, else what they lack; ``can_write(user)``: "" when they
    have write access to the repository, else what they have. Both are asked only of approvals still in
    the running, so the host is not asked about people who cannot count anyway.
    """
    folded_authors = {a.casefold() for a in authors} | {pr.author.casefold()}
    counted: list[str] = []
    not_counted: list[NotCounted] = []
    for review in pr.approvals():
        user = review.user
        reason = ""
        if not review.commit:
            reason = "when it was given is unknown, so it is not known to cover the head commit"
        elif review.commit.lower() != pr.head_sha.lower():
            reason = f"approved {review.commit[:7]}, not the head commit {pr.head_sha[:7]}: commits came after it"
        elif user.casefold() == pr.author.casefold():
            reason = "opened this pull request"
        elif user.casefold() in folded_authors:
            reason = "wrote or pushed a commit of this pull request"
        else:
            reason = role_gap(user) or can_write(user)
        if reason:
            not_counted.append(NotCounted(user, reason))
        else:
            counted.append(user)
    blocking = tuple(sorted(r.user for r in pr.reviews if r.verdict is Verdict.CHANGES_REQUESTED))
    return Tally(pr.head_sha, tuple(sorted(counted)), tuple(not_counted), blocking, max(1, required))


def requirement(head: str) -> str:
    """What an approval must be, in one sentence (for refusals)."""
    return (
        f"an approval of the head commit {head[:7]} by someone with write access and a fluxops role on every "
        "cluster it changes, who wrote and pushed none of its commits"
    )


def shortfall(result: Tally) -> str:
    """Why ``result`` is not approved, for a refusal: who blocks, or that nobody's approval counts (and why)."""
    if result.changes_requested:
        return f"changes were requested by {', '.join(result.changes_requested)}"
    said = "it is not approved yet"
    if result.counted:
        said = f"it has {len(result.counted)} of the {result.required} approvals the policy asks for"
    if result.not_counted:
        said += "; approvals not counted: " + "; ".join(str(n) for n in result.not_counted)
    return said
