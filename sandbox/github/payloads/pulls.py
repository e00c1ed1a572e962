"""Pull requests and reviews: the REST objects and the ``pull_request`` / ``pull_request_review`` events."""

from __future__ import annotations

from typing import Any

from sandbox.github.payloads.common import ZERO_SHA, envelope, node_id, now_iso, user_of

_REVIEW_STATES = {"approved", "changes_requested", "commented", "dismissed", "pending"}


def pull_request_object(
    *,
    repo: dict[str, Any],
    number: int,
    head_sha: str,
    head_ref: str,
    base_ref: str,
    base_sha: str,
    author: str,
    title: str = "",
    body: str | None = None,
    state: str = "open",
    merged: bool = False,
    head_repo: dict[str, Any] | None = None,
    created_at: str | None = None,
    updated_at: str | None = None,
    closed_at: str | None = None,
    merge_commit_sha: str | None = None,
    draft: bool = False,
    merged_by: str | None = None,
    simple: bool = False,
) -> dict[str, Any]:
    """A ``pull-request`` object (REST ``GET .../pulls/{n}`` and the ``pull_request`` event).

    ``simple`` leaves out the fields GitHub omits in ``pull_request_review`` events (merged, counts...).
    """
    head = head_repo or repo
    pr_id = repo["id"] * 1000 + number
    base_url = repo["url"]
    html = f"{repo['html_url']}/pull/{number}"
    created = created_at or now_iso()
    if merged:
        state = "closed"
    closed = closed_at or (now_iso() if state == "closed" else None)
    owner = repo["owner"]["login"]
    pr_url = f"{base_url}/pulls/{number}"
    obj: dict[str, Any] = {
        "url": pr_url,
        "id": pr_id,
        "node_id": node_id("PullRequest", pr_id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": f"{base_url}/issues/{number}",
        "number": number,
        "state": state,
        "locked": False,
        "title": title,
        "user": user_of(repo, author),
        "body": body,
        "created_at": created,
        "updated_at": updated_at or closed or created,
        "closed_at": closed,
        "merged_at": closed if merged else None,
        "merge_commit_sha": merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [],
        "milestone": None,
        "draft": draft,
        "commits_url": f"{pr_url}/commits",
        "review_comments_url": f"{pr_url}/comments",
        "review_comment_url": f"{base_url}/pulls/comments{{/number}}",
        "comments_url": f"{base_url}/issues/{number}/comments",
        "statuses_url": f"{base_url}/statuses/{head_sha}",
        "head": {
            "label": f"{head['owner']['login']}:{head_ref}",
            "ref": head_ref,
            "sha": head_sha,
            "user": head["owner"],
            "repo": head,
        },
        "base": {
            "label": f"{owner}:{base_ref}",
            "ref": base_ref,
            "sha": base_sha,
            "user": repo["owner"],
            "repo": repo,
        },
        "_links": {
            "self": {"href": pr_url},
            "html": {"href": html},
            "issue": {"href": f"{base_url}/issues/{number}"},
            "comments": {"href": f"{base_url}/issues/{number}/comments"},
            "review_comments": {"href": f"{pr_url}/comments"},
            "review_comment": {"href": f"{base_url}/pulls/comments{{/number}}"},
            "commits": {"href": f"{pr_url}/commits"},
            "statuses": {"href": f"{base_url}/statuses/{head_sha}"},
        },
        "author_association": "OWNER" if author.casefold() == owner.casefold() else "CONTRIBUTOR",
        "auto_merge": None,
        "active_lock_reason": None,
    }
    if not simple:
        obj.update(
            {
                "merged": merged,
                "mergeable": None if state == "closed" else True,
                "rebaseable": None if state == "closed" else True,
                "mergeable_state": "unknown" if state == "closed" else "clean",
                "merged_by": user_of(repo, merged_by) if merged and merged_by else None,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": 1,
                "additions": 0,
                "deletions": 0,
                "changed_files": 0,
            }
        )
    return obj


def pull_request(
    *,
    action: str,
    repo: dict[str, Any],
    number: int,
    head_sha: str,
    head_ref: str,
    base_ref: str,
    base_sha: str,
    author: str,
    title: str = "",
    state: str = "open",
    merged: bool = False,
    head_repo: dict[str, Any] | None = None,
    installation_id: int | None = None,
    sender: str | None = None,
    before: str | None = None,
    merge_commit_sha: str | None = None,
    body: str | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """A ``pull_request`` event. ``synchronize`` carries ``before``/``after``; a merge is ``closed`` + merged."""
    pr = pull_request_object(
        repo=repo,
        number=number,
        head_sha=head_sha,
        head_ref=head_ref,
        base_ref=base_ref,
        base_sha=base_sha,
        author=author,
        title=title,
        body=body,
        state="closed" if action == "closed" else state,
        merged=merged,
        head_repo=head_repo,
        merge_commit_sha=merge_commit_sha,
        merged_by=sender if merged else None,
        created_at=created_at,
    )
    payload: dict[str, Any] = {"action": action, "number": number}
    if action == "synchronize":
        payload["before"] = before or ZERO_SHA
        payload["after"] = head_sha
    payload["pull_request"] = pr
    return envelope(payload, repo, sender or author, installation_id)


def review_object(
    *,
    repo: dict[str, Any],
    number: int,
    review_id: int,
    reviewer: str,
    state: str,
    commit_id: str,
    body: str | None = None,
    submitted_at: str | None = None,
    rest: bool = False,
) -> dict[str, Any]:
    """A review: webhook events write ``state`` in lower case, the REST API in upper case (``rest``)."""
    lowered = state.lower()
    if lowered not in _REVIEW_STATES:
        raise ValueError(f"unknown review state {state!r}")
    pr_url = f"{repo['url']}/pulls/{number}"
    html = f"{repo['html_url']}/pull/{number}#pullrequestreview-{review_id}"
    owner = repo["owner"]["login"]
    return {
        "id": review_id,
        "node_id": node_id("PullRequestReview", review_id),
        "user": user_of(repo, reviewer),
        "body": body,
        "commit_id": commit_id,
        "submitted_at": submitted_at or now_iso(),
        "state": lowered.upper() if rest else lowered,
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": "OWNER" if reviewer.casefold() == owner.casefold() else "COLLABORATOR",
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
    }


def pull_request_review(
    *,
    repo: dict[str, Any],
    number: int,
    reviewer: str,
    state: str,
    head_sha: str,
    head_ref: str,
    base_ref: str,
    author: str,
    review_id: int = 1,
    installation_id: int | None = None,
    base_sha: str = "",
    title: str = "",
    body: str | None = None,
    action: str = "submitted",
    head_repo: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``pull_request_review`` event; ``state`` is APPROVED|CHANGES_REQUESTED|COMMENTED in either case."""
    payload: dict[str, Any] = {
        "action": action,
        "review": review_object(
            repo=repo,
            number=number,
            review_id=review_id,
            reviewer=reviewer,
            state=state,
            commit_id=head_sha,
            body=body,
        ),
        "pull_request": pull_request_object(
            repo=repo,
            number=number,
            head_sha=head_sha,
            head_ref=head_ref,
            base_ref=base_ref,
            base_sha=base_sha,
            author=author,
            title=title,
            head_repo=head_repo,
            simple=True,
        ),
    }
    return envelope(payload, repo, reviewer, installation_id)
