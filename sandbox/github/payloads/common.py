"""What every GitHub payload shares: ids, timestamps, users, the installation, the event envelope."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime
from typing import Any

ZERO_SHA = "0" * 40


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


def bases(repo: dict[str, Any]) -> tuple[str, str]:
    """(api, web) bases a repository object was built with."""
    full_name = repo["full_name"]
    api = str(repo["url"])[: -len(f"/repos/{full_name}")]
    web = str(repo["html_url"])[: -len(f"/{full_name}")]
    return api, web


def user_of(repo: dict[str, Any], login: str) -> dict[str, Any]:
    """The user object of ``login`` with URLs of the host that serves ``repo``."""
    api, web = bases(repo)
    return user(login, api=api, web=web)


def envelope(payload: dict[str, Any], repo: dict[str, Any], sender: str, installation_id: int | None) -> dict[str, Any]:
    """``payload`` with what every event carries: ``repository``, ``sender`` and (for an app) ``installation``."""
    payload["repository"] = repo
    payload["sender"] = user_of(repo, sender)
    if installation_id is not None:
        payload["installation"] = installation(installation_id)
    return payload


def git_person(repo: dict[str, Any], login: str) -> dict[str, Any]:
    """A commit's author or committer as a push lists them: name, noreply e-mail, username."""
    return {"name": login, "email": f"{user_id(login)}+{login}@users.noreply.github.com", "username": login}


def reaction_summary(url: str, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The ``reactions`` roll-up of an issue or comment: a count per reaction and the total."""
    counts = counts or {}
    names = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
    summary: dict[str, Any] = {"url": url, "total_count": sum(counts.get(n, 0) for n in names)}
    summary.update({n: counts.get(n, 0) for n in names})
    return summary
