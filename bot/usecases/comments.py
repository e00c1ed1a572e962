"""Comments on pull requests as fluxops trusts them: as the signed delivery carried them, still so on the host."""

from __future__ import annotations

import logging

from bot import errors
from bot.decision import digest
from bot.git_host import CommentRef
from bot.gitevents import AZURE_DEVOPS, CommentEvent
from bot.policy import Identity
from bot.ports import GitHost

log = logging.getLogger(__name__)

#: how the policy names each Git host's people (FLUXOPS_CONFIG roles: github_users, ado_users)
POLICY_PLATFORM = {"github": "github", AZURE_DEVOPS: "ado"}


def identity_of(event: CommentEvent) -> Identity:
    return Identity(POLICY_PLATFORM[event.repo.provider], event.author)


class CommentChanged(errors.Forbidden):
    """The comment on the host is not the one the signed delivery carried: it was edited since."""


def reread(host: GitHost, event: CommentEvent) -> CommentEvent | None:
    """The comment, once the host confirms it is still exactly what was delivered.

    None when it is gone or was not written by who the delivery says; CommentChanged when its text on
    the host no longer matches the delivery's digest (an edit after it was sent never runs, whoever made it).
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
    return event
