"""Azure DevOps service hooks (web hooks) at POST /webhooks/azure-devops.

verify -> normalize -> classify -> enqueue -> ack:

1. verify: the subscription's basic-auth user name and password (ADO_WEBHOOK_USERNAME/PASSWORD), both
   compared in constant time, before the body is read. Azure DevOps signs nothing, so whoever knows the
   password could forge a payload: the worker re-reads from Azure DevOps whatever it acts on (the
   comment, the repository by its id, the pull request, who completed it and its merge commit, the pushed
   commit); this receiver only normalizes;
2. normalize: ``git.push``, ``git.pullrequest.created|updated|merged`` and the pull request comment
   event become bot.gitevents events; any other event type (builds, work items, releases, the portal's
   "Test" notification...) is acknowledged (202) and ignored on its ``eventType`` alone, whatever else the
   notification holds or lacks;
3. classify and enqueue (handlers/git_intake.py), deduplicated on the notification:
   ``ado:{subscriptionId}:{notificationId}``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from bot.gitevents import AZURE_DEVOPS, PullRequestEvent, PushEvent, RepoRef
from handlers.git_intake import (
    PUSH,
    Fields,
    GitIntake,
    Ignored,
    JobRequest,
    Malformed,
    Outcome,
    comment_event,
    comment_kind,
    epoch,
    not_acted_on,
    pr_channel,
    preflight_job,
    pull_request_jobs,
)
from handlers.log_context import bind_delivery
from handlers.metrics import note_event
from handlers.webhook_body import parse_json_object, read_capped, refuse

#: the largest event (a push of many commits, a PR with a long description) stays far below this
MAX_BODY = 2 * 1024 * 1024
PLATFORM = AZURE_DEVOPS
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="fluxops", charset="UTF-8"'}
_SUBSCRIPTION = re.compile(r"[A-Za-z0-9-]{1,64}")
_ZERO_SHA = "0" * 40
_THREAD = re.compile(r"/threads/(\d+)(?:/|$)")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def credentials_valid(header: str, username: bytes, password: bytes) -> bool:
    """Whether ``header`` is ``Basic base64(username:password)``; both parts compared in constant time."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return False
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, colon, secret = decoded.partition(b":")
    if not colon:
        return False
    # both comparisons always run: no early exit tells a caller which half was wrong
    user_ok = hmac.compare_digest(user, username)
    password_ok = hmac.compare_digest(secret, password)
    return user_ok and password_ok


def azure_devops_route(*, username: str, password: str, intake: GitIntake) -> Handler:
    user, secret = username.encode("utf-8"), password.encode("utf-8")

    async def azure_devops_webhook(request: web.Request) -> web.StreamResponse:
        if not credentials_valid(request.headers.get("Authorization", ""), user, secret):
            refuse(web.HTTPUnauthorized, "missing or wrong basic-auth credentials", **_CHALLENGE)
        raw = await read_capped(request, MAX_BODY)
        payload = Fields(parse_json_object(raw, request.headers.get("Content-Type", "")), "")
        try:
            event_type = payload.text("eventType")
            note_event(event_type)
            if event_type not in _READERS:  # whatever else the notification holds (or lacks): acknowledged
                return intake.ignore(not_acted_on(event_type))
            subscription = payload.text("subscriptionId")
            notification = payload.integer("notificationId")
            if not _SUBSCRIPTION.fullmatch(subscription):
                raise Malformed("subscriptionId must be a GUID")
            bind_delivery(delivery_id=f"{subscription}:{notification}", event=event_type)
            outcome = normalize(event_type, payload, intake)
        except Malformed as error:
            refuse(web.HTTPBadRequest, f"malformed Azure DevOps event: {error}")
        return await intake.answer(outcome, dedupe_key=f"ado:{subscription}:{notification}")

    return azure_devops_webhook


def normalize(event_type: str, payload: Fields, intake: GitIntake) -> Outcome:
    """The jobs a verified notification starts, or why it starts none; Malformed for a bad shape."""
    reader = _READERS.get(event_type)
    if reader is None:
        return not_acted_on(event_type)
    return reader(payload, intake)


def _clone_url(remote_url: str) -> str:
    """``remoteUrl`` without the user name Azure DevOps puts in it (``https://org@dev.azure.com/...``)."""
    try:
        parts = urlsplit(remote_url)
    except ValueError:
        raise Malformed("repository.remoteUrl is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Malformed("repository.remoteUrl is not an http(s) URL")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _organization(payload: Fields, clone_url: str) -> str:
    """The organization: from resourceContainers' base URL, else from the repository's URL."""
    containers = payload.optional_obj("resourceContainers")
    for name in ("account", "collection"):
        container = containers.optional_obj(name) if containers is not None else None
        base = container.text("baseUrl", "") if container is not None else ""
        org = _org_in_url(base, trailing=True)
        if org:
            return org
    org = _org_in_url(clone_url, trailing=False)
    if not org:
        raise Malformed("cannot tell the organization from resourceContainers or repository.remoteUrl")
    return org


def _org_in_url(url: str, *, trailing: bool) -> str:
    """The organization in ``https://dev.azure.com/{org}/`` (``trailing``), in ``.../{org}/{project}/_git/{repo}``,
    or in the host ``{org}.visualstudio.com``; "" when the URL names none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if host.endswith(".visualstudio.com"):
        return host.split(".", 1)[0]
    segments = [s for s in parts.path.split("/") if s]
    if trailing:
        return segments[-1] if segments else ""
    return segments[-4] if len(segments) >= 4 and segments[-2].lower() == "_git" else ""


def repo_of(payload: Fields, repository: Fields) -> RepoRef:
    url = _clone_url(repository.text("remoteUrl"))
    project = repository.obj("project").text("name")
    default = repository.text("defaultBranch", "").removeprefix("refs/heads/")
    return RepoRef(
        provider=AZURE_DEVOPS,
        full_name=f"{_organization(payload, url)}/{project}/{repository.text('name')}",
        url=url,
        id=repository.text("id"),
        default_branch=default or "main",
    )


def _unique_name(who: Fields | None) -> str:
    return who.text("uniqueName", "") if who is not None else ""


def _push(payload: Fields, intake: GitIntake) -> Outcome:
    resource = payload.obj("resource")
    repo = repo_of(payload, resource.obj("repository"))
    pusher = _unique_name(resource.optional_obj("pushedBy"))
    commits = [Fields(c, "resource.commits[]") for c in resource.items("commits")]
    updates = [Fields(u, "resource.refUpdates[]") for u in resource.items("refUpdates")]
    jobs: list[JobRequest] = []
    for update in updates:
        ref, after = update.text("name"), update.text("newObjectId")
        if not ref.startswith("refs/heads/") or after == _ZERO_SHA:
            continue
        message = commits[0].text("comment", "") if commits else ""  # newest first
        event = PushEvent(
            repo=repo,
            branch=ref.removeprefix("refs/heads/"),
            after=after,
            before=update.text("oldObjectId", ""),
            pusher=pusher,
            commit_count=len(commits),
            head_message=message.splitlines()[0] if message else "",
        )
        # one push can move several branches: the first job takes the notification's key
        jobs.append(JobRequest(kind=PUSH, event=event, actor=pusher, dedupe_suffix=ref if jobs else ""))
    if not jobs:
        return Ignored("no branch was updated (tags, other refs or deleted branches are not traced)")
    return jobs


def _pull_request(payload: Fields, intake: GitIntake) -> Outcome:
    return _pr_jobs(payload, payload.obj("resource"), payload.text("eventType"), intake)


def _pr_event(payload: Fields, pr: Fields, action: str) -> PullRequestEvent:
    repo = repo_of(payload, pr.obj("repository"))
    status = pr.text("status", "active")
    completed = status == "completed"
    source = pr.optional_obj("lastMergeSourceCommit")
    return PullRequestEvent(
        repo=repo,
        number=pr.integer("pullRequestId"),
        action="merged" if completed else "closed" if status == "abandoned" else action,
        head_sha=source.text("commitId", "") if source is not None else "",
        head_branch=pr.text("sourceRefName").removeprefix("refs/heads/"),
        base_branch=pr.text("targetRefName").removeprefix("refs/heads/"),
        author=_unique_name(pr.optional_obj("createdBy")),
        from_fork=pr.has("forkSource"),
        merged=completed,
        title=pr.text("title", ""),
    )


def _pr_jobs(payload: Fields, pr: Fields, event_type: str, intake: GitIntake) -> Outcome:
    action = "opened" if event_type.endswith(".created") else "updated"
    event = _pr_event(payload, pr, action)
    fleet = intake.fleet(event.repo)
    if fleet is None:
        # any other repository may be a Flux source: the worker looks, and checks each head commit once
        if event.action in ("opened", "updated") and event_type != "git.pullrequest.merged":
            return [preflight_job(event, actor=event.author)]
        return Ignored(
            f"{event.repo.full_name} is not a fleet repository, and a closed pull request needs no preflight"
        )
    # who the event says completed it: only the job's label; the worker reads closedBy, the merge commit and
    # the repository from Azure DevOps itself (hooks are not signed: whoever has the password can forge them)
    merger = _unique_name(pr.optional_obj("closedBy")) or event.author
    # a completion is announced by both .updated and .merged: one apply per pull request, whichever comes
    once = f"ado:{event.repo.id}:pr{event.number}:apply-on-merge"
    return pull_request_jobs(event, fleet=fleet, actor=event.author, merger=merger, apply_dedupe_key=once)


def _thread_id(comment: Fields, resource: Fields) -> str:
    links = comment.optional_obj("_links")
    threads = links.optional_obj("threads") if links is not None else None
    match = _THREAD.search(threads.text("href", "")) if threads is not None else None
    if match:
        return match.group(1)
    thread = resource.optional_obj("thread")
    if thread is not None:
        return str(thread.integer("id"))
    return str(comment.integer("threadId", 0) or "")


def _comment(payload: Fields, intake: GitIntake) -> Outcome:
    resource = payload.obj("resource")
    comment = resource.obj("comment")
    pr = resource.obj("pullRequest")
    repo = repo_of(payload, pr.obj("repository"))
    number = pr.integer("pullRequestId")
    author = comment.obj("author").text("uniqueName")
    content = comment.text("content", "")
    comment_id = comment.integer("id")
    thread_id = _thread_id(comment, resource)
    published = comment.text("publishedDate", "")
    edited = comment.text("lastContentUpdatedDate", "") or published
    if comment.flag("isDeleted"):
        return Ignored("the comment was deleted")
    if comment.text("commentType", "text") != "text":
        return Ignored("a system comment")
    if published and edited != published:
        return Ignored("an edited comment: only new comments are read")
    classified = comment_kind(content)
    if classified is None:
        return Ignored("the comment does not start with /flux")
    kind, text = classified
    event = comment_event(
        repo=repo,
        number=number,
        comment_id=str(comment_id),
        author=author,
        body=content,
        thread_id=thread_id,
        created_at=epoch(published),
    )
    return [JobRequest(kind=kind, event=event, actor=author, channel=pr_channel(repo, number), text=text)]


_READERS: dict[str, Callable[[Fields, GitIntake], Outcome]] = {
    "git.push": _push,
    "git.pullrequest.created": _pull_request,
    "git.pullrequest.updated": _pull_request,
    "git.pullrequest.merged": _pull_request,
    "ms.vss-code.git-pullrequest-comment-event": _comment,
}

#: the event types counted by name in the delivery metrics (handlers/metrics.py); others count as "other"
EVENTS = frozenset(_READERS)
