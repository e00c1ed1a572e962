"""GitHub webhooks at POST /webhooks/github.

verify -> normalize -> classify -> enqueue -> ack, with nothing but one Redis script per job in between
(GitHub gives up on a delivery after 10 s):

1. verify: ``X-Hub-Signature-256`` is ``sha256=`` and the lowercase hex HMAC-SHA256 of the exact raw
   body under GITHUB_WEBHOOK_SECRET, compared in constant time, before the body is parsed;
2. normalize: ``push``, ``pull_request``, ``issue_comment`` and ``pull_request_review`` become
   bot.gitevents events; ``ping`` is answered at once; any other event is acknowledged (202) and ignored
   without reading its body, whatever its shape: a GitHub App on an organization also receives events that
   name no repository (``projects_v2_item``, ``organization``, ``installation``...), and an answer other than
   2xx makes GitHub mark the delivery failed;
3. classify and enqueue (handlers/git_intake.py), deduplicated on ``github:{hook id}:{delivery id}``;
   a comment's command on (repository, comment id, body digest) for good, since the delivery id is not
   signed and a captured delivery sent again under a new id must not run twice.

A payload of an event fluxops acts on without the fields that event promises gets a 400 naming the field;
nothing is enqueued.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.gitevents import GITHUB, PullRequestEvent, PushEvent, RepoRef, ReviewEvent
from handlers.git_intake import (
    PLAN,
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
from handlers.metrics import note_event
from handlers.webhook_body import parse_json_object, read_capped, refuse

#: GitHub sends up to 25 MB; a push of a few hundred commits with their file lists stays far below 5 MiB
MAX_BODY = 5 * 1024 * 1024
SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
#: GitHub's event names: lower case, digits and underscores (``projects_v2_item``, ``security_and_analysis``)
_EVENT = re.compile(r"[a-z0-9_]{1,64}")
_DELIVERY = re.compile(r"[A-Za-z0-9._-]{1,100}")
_HOOK_ID = re.compile(r"[0-9]{0,20}")
_ZERO_SHA = "0" * 40
#: pull request actions that change what a plan shows (closed: the worker also releases the PR's locks)
_PLANNED = {"opened": "opened", "synchronize": "synchronize", "reopened": "reopened", "ready_for_review": "updated"}
_REVIEW_ACTIONS = frozenset({"submitted", "dismissed"})
#: pull request actions that bring new commits to check: a preflight job (the worker finds the configurations)
_PREFLIGHTED = frozenset({"opened", "synchronize", "reopened"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signature_valid(secret: bytes, body: bytes, header: str) -> bool:
    """Whether ``header`` is GitHub's ``sha256=<hex>`` signature of ``body`` (constant-time compare)."""
    if not _SIGNATURE.fullmatch(header):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), header.encode("ascii"))


def github_route(*, secret: str, intake: GitIntake) -> Handler:
    key = secret.encode("utf-8")

    async def github_webhook(request: web.Request) -> web.StreamResponse:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not _SIGNATURE.fullmatch(signature):  # refused before reading a byte of the body
            refuse(web.HTTPUnauthorized, f"missing or malformed {SIGNATURE_HEADER} (expected sha256=<64 hex>)")
        raw = await read_capped(request, MAX_BODY)
        if not signature_valid(key, raw, signature):
            refuse(web.HTTPUnauthorized, f"{SIGNATURE_HEADER} does not match the body")
        event = request.headers.get("X-GitHub-Event", "")
        delivery = request.headers.get("X-GitHub-Delivery", "")
        hook_id = request.headers.get("X-GitHub-Hook-ID", "")
        if not _EVENT.fullmatch(event):
            refuse(web.HTTPBadRequest, "missing or malformed X-GitHub-Event")
        if not _DELIVERY.fullmatch(delivery):
            refuse(web.HTTPBadRequest, "missing or malformed X-GitHub-Delivery")
        if not _HOOK_ID.fullmatch(hook_id):
            refuse(web.HTTPBadRequest, "malformed X-GitHub-Hook-ID")
        note_event(event)
        dedupe_key = f"github:{hook_id}:{delivery}"
        if event == "ping":
            return web.json_response({"pong": True, "hook_id": hook_id})
        if event not in _READERS:  # whatever its shape (organization events name no repository): not read at all
            return intake.ignore(not_acted_on(event))
        payload = parse_json_object(raw, request.headers.get("Content-Type", ""), allow_form=True)
        try:
            outcome = normalize(event, Fields(payload, ""), intake)
        except Malformed as error:
            refuse(web.HTTPBadRequest, f"malformed {event} payload: {error}")
        return await intake.answer(outcome, dedupe_key=dedupe_key)

    return github_webhook


def normalize(event: str, payload: Fields, intake: GitIntake) -> Outcome:
    """The jobs a verified delivery of ``event`` starts, or why it starts none; Malformed for a bad shape."""
    reader = _READERS.get(event)
    if reader is None:
        return not_acted_on(event)
    return reader(payload, repo_of(payload), intake)


def repo_of(payload: Fields) -> RepoRef:
    repo = payload.obj("repository")
    full_name = repo.text("full_name")
    if full_name.count("/") != 1:
        raise Malformed("repository.full_name must be owner/name")
    installation = payload.optional_obj("installation")
    return RepoRef(
        provider=GITHUB,
        full_name=full_name,
        url=repo.text("clone_url", "") or repo.text("html_url"),
        id=str(repo.integer("id")),
        default_branch=repo.text("default_branch", "") or "main",
        installation_id=str(installation.integer("id")) if installation is not None else "",
    )


def _login(payload: Fields, key: str) -> str:
    who = payload.optional_obj(key)
    return who.text("login", "") if who is not None else ""


def _is_bot(user: Fields) -> bool:
    return user.text("type", "") == "Bot" or user.text("login", "").endswith("[bot]")


def _push(payload: Fields, repo: RepoRef, intake: GitIntake) -> Outcome:
    ref = payload.text("ref")
    after = payload.text("after")
    before = payload.text("before", "")
    commits = payload.items("commits")
    head = payload.optional_obj("head_commit")
    pusher = _login(payload, "sender") or payload.obj("pusher").text("name", "")
    if not ref.startswith("refs/heads/"):
        return Ignored(f"{ref} is not a branch (tags and other refs are not traced)")
    if payload.flag("deleted") or after == _ZERO_SHA:
        return Ignored(f"branch {ref.removeprefix('refs/heads/')} was deleted")
    message = head.text("message", "") if head is not None else ""
    event = PushEvent(
        repo=repo,
        branch=ref.removeprefix("refs/heads/"),
        after=after,
        before=before,
        pusher=pusher,
        commit_count=len(commits),
        head_message=message.splitlines()[0] if message else "",
    )
    return [JobRequest(kind=PUSH, event=event, actor=pusher)]


def _pull_request(payload: Fields, repo: RepoRef, intake: GitIntake) -> Outcome:
    action = payload.text("action")
    pr = payload.obj("pull_request")
    head, base = pr.obj("head"), pr.obj("base")
    head_repo = head.optional_obj("repo")  # null once a fork is deleted
    merged = pr.flag("merged")
    event = PullRequestEvent(
        repo=repo,
        number=pr.integer("number"),
        action="merged" if action == "closed" and merged else _PLANNED.get(action, action),
        head_sha=head.text("sha"),
        head_branch=head.text("ref"),
        base_branch=base.text("ref"),
        author=pr.obj("user").text("login"),
        from_fork=head_repo is None or head_repo.text("full_name", "").casefold() != repo.full_name.casefold(),
        merged=merged,
        title=pr.text("title", ""),
    )
    if action != "closed" and action not in _PLANNED:
        return Ignored(f"pull_request {action} does not change the plan")
    sender = _login(payload, "sender") or event.author
    fleet = intake.fleet(repo)
    if fleet is not None:
        return pull_request_jobs(event, fleet=fleet, actor=sender, merger=sender)
    if action in _PREFLIGHTED:  # any other repository may be a Flux source: the worker looks
        return [preflight_job(event, actor=sender)]
    return Ignored(f"{repo.full_name} is not a fleet repository, and a closed pull request needs no preflight")


def _issue_comment(payload: Fields, repo: RepoRef, intake: GitIntake) -> Outcome:
    action = payload.text("action")
    issue = payload.obj("issue")
    comment = payload.obj("comment")
    user = comment.obj("user")
    author = user.text("login")
    body = comment.text("body", "")
    number = issue.integer("number")
    comment_id = comment.integer("id")
    if action != "created":
        return Ignored(f"comment {action}: only new comments are read")
    if not issue.has("pull_request"):
        return Ignored("a comment on an issue, not on a pull request")
    sender = payload.optional_obj("sender")
    if _is_bot(user) or (sender is not None and _is_bot(sender)):
        return Ignored("a comment by a bot")
    classified = comment_kind(body)
    if classified is None:
        return Ignored("the comment does not start with /flux")
    kind, text = classified
    event = comment_event(
        repo=repo,
        number=number,
        comment_id=str(comment_id),
        author=author,
        body=body,
        created_at=epoch(comment.text("created_at", "")),
        author_id=str(user.integer("id", 0) or ""),
    )
    return [JobRequest(kind=kind, event=event, actor=author, channel=pr_channel(repo, number), text=text)]


def _review(payload: Fields, repo: RepoRef, intake: GitIntake) -> Outcome:
    action = payload.text("action")
    review = payload.obj("review")
    pr = payload.obj("pull_request")
    reviewer = review.obj("user").text("login")
    state = "dismissed" if action == "dismissed" else review.text("state").lower()
    event = ReviewEvent(
        repo=repo,
        number=pr.integer("number"),
        reviewer=reviewer,
        state=state,
        head_sha=pr.obj("head").text("sha", ""),
    )
    if action not in _REVIEW_ACTIONS:
        return Ignored(f"review {action} does not change the plan")
    if intake.fleet(repo) is None:
        return Ignored(f"{repo.full_name} is not a fleet repository")
    actor = _login(payload, "sender") or reviewer
    return [JobRequest(kind=PLAN, event=event, actor=actor, channel=pr_channel(repo, event.number))]


_READERS: dict[str, Callable[[Fields, RepoRef, GitIntake], Outcome]] = {
    "push": _push,
    "pull_request": _pull_request,
    "issue_comment": _issue_comment,
    "pull_request_review": _review,
}

#: the event types counted by name in the delivery metrics (handlers/metrics.py); others count as "other"
EVENTS = frozenset({*_READERS, "ping"})
