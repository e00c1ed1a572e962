"""The ``repository`` object, and the ``ping`` event sent when a webhook is created."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.github.payloads.common import envelope, node_id, now_iso, user


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
    return envelope(payload, repo, sender or repo["owner"]["login"], None)
