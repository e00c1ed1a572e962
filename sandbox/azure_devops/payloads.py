"""What Azure DevOps service hooks POST: ``git.push``, ``git.pullrequest.*`` and the PR comment event.

Shapes follow the service hooks events reference (resource version 1.0; the comment event 2.0).
Ids Azure DevOps would make up (identities, the organization, merge ids) are stable GUIDs derived from
names with :func:`stable_id`, so a test can predict them. URLs are built from the repository's own
``url``/``remoteUrl``, so they point wherever the repository does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

#: every GUID made up here lives under this namespace
_NAMESPACE = uuid.UUID("6f1d8f4e-2a57-4c39-9a1e-6b0c4f2d7a11")

PUBLISHER = "tfs"
PUSH = "git.push"
PR_CREATED = "git.pullrequest.created"
PR_UPDATED = "git.pullrequest.updated"
PR_MERGED = "git.pullrequest.merged"
PR_COMMENT = "ms.vss-code.git-pullrequest-comment-event"
EVENT_TYPES = (PUSH, PR_CREATED, PR_UPDATED, PR_MERGED, PR_COMMENT)


def stable_id(*parts: str) -> str:
    """A GUID that depends only on ``parts`` (case-insensitive), as Azure DevOps ids look."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(p.lower() for p in parts)))


def now() -> str:
    """The current time as Azure DevOps writes dates (UTC, 7 fractional digits, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def repository(
    *,
    org: str,
    project: str,
    name: str,
    repo_id: str,
    project_id: str,
    base: str = "https://dev.azure.com",
) -> dict[str, Any]:
    """A GitRepository as events and the REST API show it (``remoteUrl`` is the HTTPS clone URL)."""
    base = base.rstrip("/")
    web = f"{base}/{quote(org)}/{quote(project)}/_git/{quote(name)}"
    return {
        "id": repo_id,
        "name": name,
        "url": f"{base}/{quote(org)}/{project_id}/_apis/git/repositories/{repo_id}",
        "project": {
            "id": project_id,
            "name": project,
            "url": f"{base}/{quote(org)}/_apis/projects/{project_id}",
            "state": "wellFormed",
            "revision": 1,
            "visibility": "private",
            "lastUpdateTime": "2024-01-01T00:00:00Z",
        },
        "defaultBranch": "refs/heads/main",
        "size": 0,
        "remoteUrl": web,
        "sshUrl": f"git@ssh.dev.azure.com:v3/{quote(org)}/{quote(project)}/{quote(name)}",
        "webUrl": web,
        "isDisabled": False,
        "isInMaintenance": False,
    }


def identity(
    *,
    unique_name: str,
    display_name: str | None = None,
    base: str = "https://dev.azure.com",
    org: str = "fluxops-sandbox",
) -> dict[str, Any]:
    """An IdentityRef: ``uniqueName`` is the sign-in name (usually an e-mail address)."""
    base = base.rstrip("/")
    ident = stable_id("identity", unique_name)
    return {
        "displayName": display_name or unique_name.split("@", 1)[0],
        "url": f"{base}/{quote(org)}/_apis/Identities/{ident}",
        "id": ident,
        "uniqueName": unique_name,
        "imageUrl": f"{base}/{quote(org)}/_api/_common/identityImage?id={ident}",
        "descriptor": f"aad.{ident}",
    }


def commit(*, sha: str, message: str, author: str, date: str, repo: dict[str, Any]) -> dict[str, Any]:
    """One entry of a push's ``commits`` (``author`` is a unique name or e-mail address)."""
    name = author.split("@", 1)[0]
    email = author if "@" in author else f"{author}@fluxops.invalid"
    person = {"name": name, "email": email, "date": date}
    return {
        "commitId": sha,
        "author": person,
        "committer": dict(person),
        "comment": message,
        "url": f"{repo['remoteUrl']}/commit/{sha}",
    }


def git_push(
    *,
    repo: dict[str, Any],
    branch: str,
    before: str,
    after: str,
    pusher: str,
    commits: list[dict[str, Any]],
    subscription_id: str,
    notification_id: int,
    push_id: int = 1,
) -> dict[str, Any]:
    """A ``git.push`` event: one ref update of ``refs/heads/{branch}`` from ``before`` to ``after``.

    ``commits`` come from :func:`commit`, newest first as Azure DevOps lists them; a deleted branch has
    ``after`` all zeros and no commits.
    """
    org, base = _org_and_base(repo)
    who = identity(unique_name=pusher, base=base, org=org)
    ref = f"refs/heads/{branch}"
    text = f"{who['displayName']} pushed updates to {repo['name']}:{branch}."
    lines = "\n".join(f"* {c['comment'].splitlines()[0] if c['comment'] else ''} {c['commitId'][:8]}" for c in commits)
    date = now()
    resource = {
        "commits": commits,
        "refUpdates": [{"name": ref, "oldObjectId": before, "newObjectId": after}],
        "repository": repo,
        "pushedBy": who,
        "pushId": push_id,
        "date": date,
        "url": f"{repo['url']}/pushes/{push_id}",
        "_links": {
            "self": {"href": f"{repo['url']}/pushes/{push_id}"},
            "repository": {"href": repo["url"]},
            "commits": {"href": f"{repo['url']}/pushes/{push_id}/commits"},
            "pusher": {"href": who["url"]},
            "refs": {"href": f"{repo['url']}/refs/heads/{branch}"},
        },
    }
    return _envelope(
        event_type=PUSH,
        repo=repo,
        subscription_id=subscription_id,
        notification_id=notification_id,
        message=text,
        detailed=f"{text}\n{lines}" if lines else text,
        resource=resource,
        resource_version="1.0",
        created=date,
    )


def pull_request(
    *,
    event_type: str,
    repo: dict[str, Any],
    pr_id: int,
    source_branch: str,
    target_branch: str,
    source_commit: str,
    target_commit: str,
    author: str,
    subscription_id: str,
    notification_id: int,
    status: str = "active",
    title: str = "",
    reviewers: tuple[tuple[str, int], ...] = (),
    merge_commit: str | None = None,
    fork_repo: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``git.pullrequest.created|updated|merged`` event (``reviewers``: (unique name, vote) pairs).

    ``status`` is active, completed or abandoned; ``fork_repo`` (the source repository of a PR from a
    fork) adds ``forkSource``.
    """
    if event_type not in (PR_CREATED, PR_UPDATED, PR_MERGED):
        raise ValueError(f"not a pull request event type: {event_type!r}")
    resource = pull_request_resource(
        repo=repo,
        pr_id=pr_id,
        source_branch=source_branch,
        target_branch=target_branch,
        source_commit=source_commit,
        target_commit=target_commit,
        author=author,
        status=status,
        title=title,
        reviewers=reviewers,
        merge_commit=merge_commit,
        fork_repo=fork_repo,
    )
    who = resource["createdBy"]["displayName"]
    label = f"pull request {pr_id} ({title or source_branch})"
    if event_type == PR_CREATED:
        text = f"{who} created {label} in {repo['name']}"
    elif event_type == PR_MERGED:
        text = f"{who} has created a pull request merge commit for {label}"
    elif status == "completed":
        text = f"{who} completed {label} in {repo['name']}"
    elif status == "abandoned":
        text = f"{who} abandoned {label} in {repo['name']}"
    else:
        text = f"{who} updated the source branch of {label} in {repo['name']}"
    detailed = f"{text}\n\n- Source branch: {source_branch}\n- Target branch: {target_branch}"
    return _envelope(
        event_type=event_type,
        repo=repo,
        subscription_id=subscription_id,
        notification_id=notification_id,
        message=text,
        detailed=detailed,
        resource=resource,
        resource_version="1.0",
        created=now(),
    )


def pull_request_resource(
    *,
    repo: dict[str, Any],
    pr_id: int,
    source_branch: str,
    target_branch: str,
    source_commit: str,
    target_commit: str,
    author: str,
    status: str = "active",
    title: str = "",
    description: str = "",
    reviewers: tuple[tuple[str, int], ...] = (),
    merge_commit: str | None = None,
    fork_repo: dict[str, Any] | None = None,
    creation_date: str = "",
    closed_date: str = "",
    closed_by: str = "",
) -> dict[str, Any]:
    """A GitPullRequest, as events carry it and ``GET .../pullrequests/{id}`` answers."""
    org, base = _org_and_base(repo)
    pr_url = f"{repo['url']}/pullRequests/{pr_id}"
    resource: dict[str, Any] = {
        "repository": repo,
        "pullRequestId": pr_id,
        "codeReviewId": pr_id,
        "status": status,
        "createdBy": identity(unique_name=author, base=base, org=org),
        "creationDate": creation_date or now(),
        "title": title or f"Merge {source_branch} into {target_branch}",
        "description": description,
        "sourceRefName": f"refs/heads/{source_branch}",
        "targetRefName": f"refs/heads/{target_branch}",
        "mergeStatus": "succeeded",
        "isDraft": False,
        "mergeId": stable_id("merge", repo["id"], str(pr_id)),
        "lastMergeSourceCommit": {"commitId": source_commit, "url": f"{repo['url']}/commits/{source_commit}"},
        "lastMergeTargetCommit": {"commitId": target_commit, "url": f"{repo['url']}/commits/{target_commit}"},
        "reviewers": [_reviewer(name, vote, pr_url, base, org) for name, vote in reviewers],
        "url": pr_url,
        "_links": {
            "web": {"href": f"{repo['remoteUrl']}/pullrequest/{pr_id}"},
            "statuses": {"href": f"{pr_url}/statuses"},
        },
        "supportsIterations": True,
        "artifactId": f"vstfs:///Git/PullRequestId/{repo['project']['id']}%2f{repo['id']}%2f{pr_id}",
    }
    if merge_commit:
        resource["lastMergeCommit"] = {"commitId": merge_commit, "url": f"{repo['url']}/commits/{merge_commit}"}
    if status in ("completed", "abandoned"):
        resource["closedDate"] = closed_date or now()
        if closed_by:
            resource["closedBy"] = identity(unique_name=closed_by, base=base, org=org)
    if fork_repo is not None:
        resource["forkSource"] = {
            "name": f"refs/heads/{source_branch}",
            "repository": fork_repo,
            "url": f"{fork_repo['url']}/refs/heads/{source_branch}",
        }
    return resource


def comment_resource(
    *,
    repo: dict[str, Any],
    pr_id: int,
    thread_id: int,
    comment_id: int,
    author: str,
    content: str,
    parent_comment_id: int | None = None,
    published: str = "",
    updated: str = "",
    users_liked: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A Comment of a pull request thread (``parentCommentId`` 0 for a thread's first comment)."""
    org, base = _org_and_base(repo)
    published = published or now()
    thread_url = f"{repo['url']}/pullRequests/{pr_id}/threads/{thread_id}"
    parent = parent_comment_id if parent_comment_id is not None else (0 if comment_id == 1 else 1)
    return {
        "id": comment_id,
        "parentCommentId": parent,
        "author": identity(unique_name=author, base=base, org=org),
        "content": content,
        "publishedDate": published,
        "lastUpdatedDate": updated or published,
        "lastContentUpdatedDate": updated or published,
        "commentType": "text",
        "usersLiked": [identity(unique_name=u, base=base, org=org) for u in users_liked],
        "_links": {
            "self": {"href": f"{thread_url}/comments/{comment_id}"},
            "repository": {"href": repo["url"]},
            "threads": {"href": thread_url},
            "pullRequests": {"href": f"{repo['url']}/pullRequests/{pr_id}"},
        },
    }


def pr_comment(
    *,
    repo: dict[str, Any],
    pr_id: int,
    thread_id: int,
    comment_id: int,
    author: str,
    content: str,
    subscription_id: str,
    notification_id: int,
    source_branch: str = "feature",
    target_branch: str = "main",
    source_commit: str = "",
    pr_author: str = "",
) -> dict[str, Any]:
    """A ``ms.vss-code.git-pullrequest-comment-event`` (resource version 2.0): the comment and its PR.

    The thread id appears only inside the comment's ``_links`` (``.../threads/{thread_id}``), as in
    the real event.
    """
    comment = comment_resource(
        repo=repo, pr_id=pr_id, thread_id=thread_id, comment_id=comment_id, author=author, content=content
    )
    pr = pull_request_resource(
        repo=repo,
        pr_id=pr_id,
        source_branch=source_branch,
        target_branch=target_branch,
        source_commit=source_commit,
        target_commit="",
        author=pr_author or author,
    )
    who = comment["author"]["displayName"]
    text = f"{who} has commented on pull request {pr_id} ({pr['title']})"
    return _envelope(
        event_type=PR_COMMENT,
        repo=repo,
        subscription_id=subscription_id,
        notification_id=notification_id,
        message=text,
        detailed=f"{text}\n{content}",
        resource={"comment": comment, "pullRequest": pr},
        resource_version="2.0",
        created=comment["publishedDate"],
    )


# -- helpers --------------------------------------------------------------------------------------


def _reviewer(unique_name: str, vote: int, pr_url: str, base: str, org: str) -> dict[str, Any]:
    who = identity(unique_name=unique_name, base=base, org=org)
    return {
        "reviewerUrl": f"{pr_url}/reviewers/{who['id']}",
        "vote": vote,
        "hasDeclined": False,
        "isFlagged": False,
        "displayName": who["displayName"],
        "url": who["url"],
        "id": who["id"],
        "uniqueName": unique_name,
        "imageUrl": who["imageUrl"],
        "isContainer": False,
    }


def _org_and_base(repo: dict[str, Any]) -> tuple[str, str]:
    """The organization and the service's base URL, read back from the repository's ``remoteUrl``."""
    parts = urlsplit(str(repo["remoteUrl"]))
    segments = parts.path.strip("/").split("/")
    # .../{org}/{project}/_git/{name}: anything before the organization is part of the base
    at = len(segments) - 4
    org = segments[at] if at >= 0 else "fluxops-sandbox"
    prefix = "/".join(segments[:at]) if at > 0 else ""
    base = f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
    return unquote(org), base


def _envelope(
    *,
    event_type: str,
    repo: dict[str, Any],
    subscription_id: str,
    notification_id: int,
    message: str,
    detailed: str,
    resource: dict[str, Any],
    resource_version: str,
    created: str,
) -> dict[str, Any]:
    org, base = _org_and_base(repo)
    org_id = stable_id("organization", org)
    return {
        "subscriptionId": subscription_id,
        "notificationId": notification_id,
        "id": str(uuid.uuid4()),
        "eventType": event_type,
        "publisherId": PUBLISHER,
        "message": {"text": message, "html": _html(message), "markdown": message},
        "detailedMessage": {"text": detailed, "html": _html(detailed), "markdown": detailed},
        "resource": resource,
        "resourceVersion": resource_version,
        "resourceContainers": {
            "collection": {"id": org_id, "baseUrl": f"{base}/{quote(org)}/"},
            "account": {"id": org_id, "baseUrl": f"{base}/{quote(org)}/"},
            "project": {"id": repo["project"]["id"], "baseUrl": f"{base}/{quote(org)}/"},
        },
        "createdDate": created,
    }


def _html(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "<br/>".join(escaped.splitlines())
