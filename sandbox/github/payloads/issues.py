"""Issues and their comments: the REST objects and the ``issue_comment`` event."""

from __future__ import annotations

from typing import Any

from sandbox.github.payloads.common import envelope, node_id, now_iso, reaction_summary, user_of


def issue_object(
    *,
    repo: dict[str, Any],
    number: int,
    author: str,
    title: str = "",
    body: str | None = None,
    state: str = "open",
    is_pull_request: bool = True,
    comments: int = 0,
    created_at: str | None = None,
    merged_at: str | None = None,
) -> dict[str, Any]:
    """An ``issue`` object (REST ``GET .../issues/{n}`` and ``issue_comment`` events); PRs are issues too."""
    base_url = repo["url"]
    issue_url = f"{base_url}/issues/{number}"
    kind = "pull" if is_pull_request else "issues"
    html = f"{repo['html_url']}/{kind}/{number}"
    issue_id = repo["id"] * 1000 + number + 500
    created = created_at or now_iso()
    owner = repo["owner"]["login"]
    obj: dict[str, Any] = {
        "url": issue_url,
        "repository_url": base_url,
        "labels_url": f"{issue_url}/labels{{/name}}",
        "comments_url": f"{issue_url}/comments",
        "events_url": f"{issue_url}/events",
        "html_url": html,
        "id": issue_id,
        "node_id": node_id("PullRequest" if is_pull_request else "Issue", issue_id),
        "number": number,
        "title": title,
        "user": user_of(repo, author),
        "labels": [],
        "state": "closed" if state in ("closed", "merged") else "open",
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": comments,
        "created_at": created,
        "updated_at": created,
        "closed_at": None if state == "open" else created,
        "author_association": "OWNER" if author.casefold() == owner.casefold() else "CONTRIBUTOR",
        "active_lock_reason": None,
        "draft": False,
        "body": body,
        "reactions": reaction_summary(f"{issue_url}/reactions"),
        "timeline_url": f"{issue_url}/timeline",
        "performed_via_github_app": None,
        "state_reason": None,
    }
    if is_pull_request:
        web_pr = f"{repo['html_url']}/pull/{number}"
        obj["pull_request"] = {
            "url": f"{base_url}/pulls/{number}",
            "html_url": web_pr,
            "diff_url": f"{web_pr}.diff",
            "patch_url": f"{web_pr}.patch",
            "merged_at": merged_at,
        }
    else:
        del obj["draft"]
    return obj


def comment_object(
    *,
    repo: dict[str, Any],
    number: int,
    comment_id: int,
    author: str,
    body: str,
    is_pull_request: bool = True,
    created_at: str | None = None,
    updated_at: str | None = None,
    author_association: str | None = None,
    reactions: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An issue ``comment`` object (REST and ``issue_comment`` events)."""
    base_url = repo["url"]
    kind = "pull" if is_pull_request else "issues"
    url = f"{base_url}/issues/comments/{comment_id}"
    created = created_at or now_iso()
    owner = repo["owner"]["login"]
    association = author_association or ("OWNER" if author.casefold() == owner.casefold() else "NONE")
    return {
        "url": url,
        "html_url": f"{repo['html_url']}/{kind}/{number}#issuecomment-{comment_id}",
        "issue_url": f"{base_url}/issues/{number}",
        "id": comment_id,
        "node_id": node_id("IssueComment", comment_id),
        "user": user_of(repo, author),
        "created_at": created,
        "updated_at": updated_at or created,
        "author_association": association,
        "body": body,
        "reactions": reaction_summary(f"{url}/reactions", reactions),
        "performed_via_github_app": None,
    }


def issue_comment(
    *,
    repo: dict[str, Any],
    number: int,
    comment_id: int,
    author: str,
    body: str,
    is_pull_request: bool = True,
    action: str = "created",
    installation_id: int | None = None,
    issue_author: str | None = None,
    title: str = "",
    author_association: str | None = None,
    previous_body: str | None = None,
    created_at: str | None = None,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """An ``issue_comment`` event; ``issue.pull_request`` is present when the issue is a pull request.

    ``issue_author`` is the PR's author (default: the commenter); ``previous_body`` fills ``changes``
    of an ``edited`` event; ``created_at``/``updated_at`` the comment's times (default: now).
    """
    payload: dict[str, Any] = {"action": action}
    if action == "edited":
        payload["changes"] = {"body": {"from": previous_body or ""}}
    payload["issue"] = issue_object(
        repo=repo, number=number, author=issue_author or author, title=title, is_pull_request=is_pull_request
    )
    payload["comment"] = comment_object(
        repo=repo,
        number=number,
        comment_id=comment_id,
        author=author,
        body=body,
        is_pull_request=is_pull_request,
        author_association=author_association,
        created_at=created_at,
        updated_at=updated_at,
    )
    return envelope(payload, repo, author, installation_id)
