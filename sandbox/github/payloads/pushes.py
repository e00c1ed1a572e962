"""The ``push`` event and the commits it lists."""

from __future__ import annotations

import zlib
from typing import Any

from sandbox.github.payloads.common import ZERO_SHA, envelope, git_person


def commit(
    *,
    sha: str,
    message: str,
    author: str,
    timestamp: str,
    repo: dict[str, Any],
    added: list[str] | tuple[str, ...] = (),
    removed: list[str] | tuple[str, ...] = (),
    modified: list[str] | tuple[str, ...] = (),
    tree_id: str | None = None,
    distinct: bool = True,
) -> dict[str, Any]:
    """One entry of a push's ``commits`` (and its ``head_commit``); ``author`` is a login."""
    person = git_person(repo, author)
    return {
        "id": sha,
        "tree_id": tree_id or format(zlib.crc32(sha.encode()), "08x") * 5,
        "distinct": distinct,
        "message": message,
        "timestamp": timestamp,
        "url": f"{repo['html_url']}/commit/{sha}",
        "author": dict(person),
        "committer": dict(person),
        "added": list(added),
        "removed": list(removed),
        "modified": list(modified),
    }


def push(
    *,
    repo: dict[str, Any],
    ref: str,
    before: str,
    after: str,
    pusher: str,
    commits: list[dict[str, Any]],
    sender: str | None = None,
    installation_id: int | None = None,
    forced: bool = False,
) -> dict[str, Any]:
    """A ``push`` event: ``ref`` is the full ref (``refs/heads/main``); zeros in before/after mean created/deleted."""
    created = before == ZERO_SHA
    deleted = after == ZERO_SHA
    html = repo["html_url"]
    short = ref.split("/", 2)[-1]
    if created:
        compare = f"{html}/compare/{short}" if len(commits) != 1 else f"{html}/commit/{after[:12]}"
    else:
        compare = f"{html}/compare/{before[:12]}...{after[:12]}"
    payload: dict[str, Any] = {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": None,
        "pusher": {"name": pusher, "email": git_person(repo, pusher)["email"]},
        "sender": None,
        "created": created,
        "deleted": deleted,
        "forced": forced,
        "base_ref": None,
        "compare": compare,
        "commits": [] if deleted else list(commits),
        "head_commit": None if deleted or not commits else commits[-1],
    }
    return envelope(payload, repo, sender or pusher, installation_id)
