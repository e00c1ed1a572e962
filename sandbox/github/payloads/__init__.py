"""GitHub webhook payloads with GitHub's real shapes, and the REST objects they share.

Field lists follow GitHub's webhook and REST documentation (and the octokit/webhooks examples):
``repository``, ``sender`` and ``installation`` on every event, plus the event's own fields. URLs are
built from two bases: ``web`` (``https://github.com``: html and clone URLs) and ``api``
(``https://api.github.com``: every ``url`` a client follows). Builders that take a ``repo`` read both
bases back from it, so one ``repository(...)`` call decides them for a whole payload.

Ids are deterministic (derived from logins, repository ids and numbers), so a payload built twice is
the same bytes and the fake's REST answers agree with its webhooks.

One module per resource: ``repositories`` (and ``ping``), ``pushes``, ``pulls`` (and reviews),
``issues`` (and comments); ``common`` holds ids, users and the event envelope.
"""

from __future__ import annotations

from sandbox.github.payloads.common import ZERO_SHA, installation, node_id, now_iso, user, user_id, user_of
from sandbox.github.payloads.issues import comment_object, issue_comment, issue_object
from sandbox.github.payloads.pulls import pull_request, pull_request_object, pull_request_review, review_object
from sandbox.github.payloads.pushes import commit, push
from sandbox.github.payloads.repositories import ping, repository

__all__ = [
    "ZERO_SHA",
    "comment_object",
    "commit",
    "installation",
    "issue_comment",
    "issue_object",
    "node_id",
    "now_iso",
    "ping",
    "pull_request",
    "pull_request_object",
    "pull_request_review",
    "push",
    "repository",
    "review_object",
    "user",
    "user_id",
    "user_of",
]
