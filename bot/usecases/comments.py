"""Comments on pull requests as fluxops trusts them: re-read from the host, and who wrote them."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import errors
from bot.git_host import CommentRef
from bot.gitevents import AZURE_DEVOPS, CommentEvent
from bot.policy import Identity
from bot.ports import GitHost

log = logging.getLogger(__name__)

#: how the policy names each Git host's people (FLUXOPS_CONFIG roles: github_users, ado_users)
POLICY_PLATFORM = {"github": "github", AZURE_DEVOPS: "ado"}


def identity_of(event: CommentEvent) -> Identity:
    return Identity(POLICY_PLATFORM[event.repo.provider], event.author)


def reread(host: GitHost, event: CommentEvent) -> CommentEvent | None:
    """The comment as the host has it now; None when it is gone or was not written by who the payload says."""
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
    return replace(event, body=info.body)
