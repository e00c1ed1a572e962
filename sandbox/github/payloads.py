"""GitHub webhook payloads with GitHub's real shapes, and the REST objects they share.

Field lists follow GitHub's webhook and REST documentation (and the octokit/webhooks examples):
``repository``, ``sender`` and ``installation`` on every event, plus the event's own fields. URLs are
built from two bases: ``web`` (``https://github.com``: html and clone URLs) and ``api``
(``https://api.github.com``: every ``url`` a client follows). Builders that take a ``repo`` read both
bases back from it, so one ``repository(...)`` call decides them for a whole payload.

Ids are deterministic (derived from logins, repository ids and numbers), so a payload built twice is
the same bytes and the fake's REST answers agree with its webhooks.
"""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

ZERO_SHA = "0" * 40
_REVIEW_STATES = {"approved", "changes_requested", "commented", "dismissed", "pending"}


def now_iso() -> str:
    """The current time as GitHub writes it: ``2024-05-01T12:00:00Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    """A legacy global node id (``MDEwOlJlcG9zaXRvcnkx...``): base64 of ``0<len>:<Kind><id>``."""
    return base64.b64encode(f"0{len(kind):02d}:{kind}{number}".encode()).decode()


def user_id(login: str) -> int:
    """A stable numeric id for a login (GitHub's ids are opaque positive integers)."""
    return zlib.crc32(login.casefold().encode()) % 90_000_000 + 1_000_000


def user(login: str, *, api: str = "https://api.github.com", web: str = "https://github.com") -> dict[str, Any]:
    """A ``simple-user`` object; logins ending in ``[bot]`` are GitHub App bots."""
    uid = user_id(login)
    is_bot = login.endswith("[bot]")
    base = f"{api}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": node_id("Bot" if is_bot else "User", uid),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"{web}/apps/{login[:-5]}" if is_bot else f"{web}/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": "Bot" if is_bot else "User",
        "user_view_type": "public",
        "site_admin": False,
    }


def installation(installation_id: int) -> dict[str, Any]:
    """The ``installation`` field of an event delivered to a GitHub App."""
    return {"id": installation_id, "node_id": node_id("Integration::Installation", installation_id)}


def repository(
    *,
    full_name: str,
    repo_id: int,
    private: bool = False,
    default_branch: str = "main",
    web: str = "https://github.com",
    api: str = "https://api.github.com",
    git_web: str | None = None,
) -> dict[str, Any]:
    """A full ``repository`` object (REST ``GET /repos/{owner}/{repo}`` and every webhook).

    ``git_web`` is where clone URLs point when it differs from ``web`` (the fake serves its API and
    pages on 127.0.0.1 while the repositories keep their ``github.com`` clone URLs); default ``web``.
    """
    owner_login, name = full_name.split("/", 1)
    html = f"{web}/{full_name}"
    clone_base = git_web or web
    git_host = urlsplit(clone_base).netloc or "github.com"
    base = f"{api}/repos/{full_name}"
    created = "2024-01-01T00:00:00Z"
    return {
        "id": repo_id,
        "node_id": node_id("Repository", repo_id),
        "name": name,
        "full_name": full_name,
        "private": private,
        "owner": user(owner_login, api=api, web=web),
        "html_url": html,
        "description": None,
        "fork": False,
        "url": base,
        "forks_url": f"{base}/forks",
        "keys_url": f"{base}/keys{{/key_id}}",
        "collaborators_url": f"{base}/collaborators{{/collaborator}}",
        "teams_url": f"{base}/teams",
        "hooks_url": f"{base}/hooks",
        "issue_events_url": f"{base}/issues/events{{/number}}",
        "events_url": f"{base}/events",
        "assignees_url": f"{base}/assignees{{/user}}",
        "branches_url": f"{base}/branches{{/branch}}",
        "tags_url": f"{base}/tags",
        "blobs_url": f"{base}/git/blobs{{/sha}}",
        "git_tags_url": f"{base}/git/tags{{/sha}}",
        "git_refs_url": f"{base}/git/refs{{/sha}}",
        "trees_url": f"{base}/git/trees{{/sha}}",
        "statuses_url": f"{base}/statuses/{{sha}}",
        "languages_url": f"{base}/languages",
        "stargazers_url": f"{base}/stargazers",
        "contributors_url": f"{base}/contributors",
        "subscribers_url": f"{base}/subscribers",
        "subscription_url": f"{base}/subscription",
        "commits_url": f"{base}/commits{{/sha}}",
        "git_commits_url": f"{base}/git/commits{{/sha}}",
        "comments_url": f"{base}/comments{{/number}}",
        "issue_comment_url": f"{base}/issues/comments{{/number}}",
        "contents_url": f"{base}/contents/{{+path}}",
        "compare_url": f"{base}/compare/{{base}}...{{head}}",
        "merges_url": f"{base}/merges",
        "archive_url": f"{base}/{{archive_format}}{{/ref}}",
        "downloads_url": f"{base}/downloads",
        "issues_url": f"{base}/issues{{/number}}",
        "pulls_url": f"{base}/pulls{{/number}}",
        "milestones_url": f"{base}/milestones{{/number}}",
        "notifications_url": f"{base}/notifications{{?since,all,participating}}",
        "labels_url": f"{base}/labels{{/name}}",
        "releases_url": f"{base}/releases{{/id}}",
        "deployments_url": f"{base}/deployments",
        "created_at": created,
        "updated_at": created,
        "pushed_at": created,
        "git_url": f"git://{git_host}/{full_name}.git",
        "ssh_url": f"git@{git_host}:{full_name}.git",
        "clone_url": f"{clone_base}/{full_name}.git",
        "svn_url": f"{clone_base}/{full_name}",
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if private else "public",
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": default_branch,
    }


def _bases(repo: dict[str, Any]) -> tuple[str, str]:
    """(api, web) bases a repository object was built with."""
    full_name = repo["full_name"]
    api = str(repo["url"])[: -len(f"/repos/{full_name}")]
    web = str(repo["html_url"])[: -len(f"/{full_name}")]
    return api, web


def user_of(repo: dict[str, Any], login: str) -> dict[str, Any]:
    """The user object of ``login`` with URLs of the host that serves ``repo``."""
    api, web = _bases(repo)
    return user(login, api=api, web=web)


def _envelope(
    payload: dict[str, Any], repo: dict[str, Any], sender: str, installation_id: int | None
) -> dict[str, Any]:
    payload["repository"] = repo
    payload["sender"] = user_of(repo, sender)
    if installation_id is not None:
        payload["installation"] = installation(installation_id)
    return payload


def _person(repo: dict[str, Any], login: str) -> dict[str, Any]:
    return {"name": login, "email": f"{user_id(login)}+{login}@users.noreply.github.com", "username": login}


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
    person = _person(repo, author)
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
        "pusher": {"name": pusher, "email": _person(repo, pusher)["email"]},
        "sender": None,
        "created": created,
        "deleted": deleted,
        "forced": forced,
        "base_ref": None,
        "compare": compare,
        "commits": [] if deleted else list(commits),
        "head_commit": None if deleted or not commits else commits[-1],
    }
    return _envelope(payload, repo, sender or pusher, installation_id)


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
    return _envelope(payload, repo, sender or author, installation_id)


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
        "reactions": _reactions(f"{issue_url}/reactions"),
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


def _reactions(url: str, counts: dict[str, int] | None = None) -> dict[str, Any]:
    counts = counts or {}
    names = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
    summary: dict[str, Any] = {"url": url, "total_count": sum(counts.get(n, 0) for n in names)}
    summary.update({n: counts.get(n, 0) for n in names})
    return summary


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
        "reactions": _reactions(f"{url}/reactions", reactions),
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
    return _envelope(payload, repo, author, installation_id)


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
    return _envelope(payload, repo, reviewer, installation_id)


def ping(
    *,
    repo: dict[str, Any],
    hook_id: int,
    url: str = "",
    events: list[str] | tuple[str, ...] = ("*",),
    sender: str | None = None,
    zen: str = "Keep it logically awesome.",
) -> dict[str, Any]:
    """A ``ping`` event, sent when a webhook is created."""
    hooks = f"{repo['url']}/hooks/{hook_id}"
    created = now_iso()
    payload: dict[str, Any] = {
        "zen": zen,
        "hook_id": hook_id,
        "hook": {
            "type": "Repository",
            "id": hook_id,
            "name": "web",
            "active": True,
            "events": list(events),
            "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
            "updated_at": created,
            "created_at": created,
            "url": hooks,
            "test_url": f"{hooks}/test",
            "ping_url": f"{hooks}/pings",
            "deliveries_url": f"{hooks}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        },
    }
    return _envelope(payload, repo, sender or repo["owner"]["login"], None)
