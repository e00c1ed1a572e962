"""Comments on pull requests as fluxops trusts them: as the signed delivery carried them, still so on the host."""

from __future__ import annotations

import logging

from bot import errors
from bot.decision import digest
from bot.git_host import CommentRef
from bot.gitevents import AZURE_DEVOPS, CommentEvent
from bot.policy import Identity
from bot.ports import PullRequests

log = logging.getLogger(__name__)

#: how the policy names each Git host's people (FLUXOPS_CONFIG roles: github_users, ado_users)
POLICY_PLATFORM = {"github": "github", AZURE_DEVOPS: "ado"}


def identity_of(event: CommentEvent) -> Identity:
    return Identity(POLICY_PLATFORM[event.repo.provider], event.author)


class CommentChanged(errors.Forbidden):
    """The comment on the host is not the one the signed delivery carried: it was edited since."""


#: a comment older than this (seconds) when fluxops received it is not run (FLUXOPS_COMMENT_MAX_AGE)
COMMENT_MAX_AGE = 600.0
#: the host's edit time may trail its publish time by this much without the comment having been edited
_EDIT_SLACK = 2.0


def reread(
    host: PullRequests, event: CommentEvent, *, received_at: float = 0.0, max_age: float = COMMENT_MAX_AGE
) -> CommentEvent | None:
    """The comment, once the host confirms it is still exactly what was delivered.

    None when it is gone or was not written by who the delivery says; CommentChanged when its text on
    the host no longer matches the delivery's digest (an edit after it was sent never runs, whoever made it),
    when the host says it was edited, or when the host says it was written more than ``max_age`` before
    fluxops received it (``received_at``): the host's times count, not the delivery's, which Azure DevOps
    does not sign.
    """
    try:
        info = host.get_comment(event.repo, event.number, CommentRef(event.comment_id, event.thread_id))
    except errors.NotFound:
        return None
    if info.author.casefold() != event.author.casefold():
        log.warning(
            "comment %s on %s#%s: the payload says %r wrote it, the host says %r; ignored",
            event.comment_id,
            event.repo.full_name,
            event.number,
            event.author,
            info.author,
        )
        return None
    if not event.body_digest or digest(info.body) != event.body_digest:
        raise CommentChanged(
            "the comment changed after it was sent, so fluxops does not run it",
            recommendation="write the command in a new comment (edited comments are never run)",
        )
    if info.published and info.edited > info.published + _EDIT_SLACK:
        raise CommentChanged(
            "the comment was edited after it was written, so fluxops does not run it",
            recommendation="write the command in a new comment (edited comments are never run)",
        )
    if info.published and received_at and received_at - info.published > max_age:
        raise CommentChanged(
            f"the comment was written {int(received_at - info.published)} s before it reached fluxops; comments "
            f"older than {int(max_age)} s are not run (FLUXOPS_COMMENT_MAX_AGE)",
            recommendation="write the command in a new comment",
        )
    return event
