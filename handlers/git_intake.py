"""What the GitHub and Azure DevOps receivers share: payload fields, classification, enqueue and the ack.

Each receiver verifies its delivery and normalizes the provider's payload into ``bot.gitevents`` events;
from there the rules are the same for both hosts and live here:

- a comment counts when its first line starts with ``/flux``: ``/flux apply`` is an ``apply`` job,
  ``/flux plan`` a ``plan`` job, anything else a ``command`` job. The command is taken from the signed
  delivery and decided here (``screen``: age, role, rate limit, bot.decision); the worker checks the
  host still has the same comment, answers help and usage errors, and runs what was decided;
- a pull request with new commits (opened, pushed to, reopened) on any other repository gets a ``preflight``
  job (the worker finds the Flux configurations that use it: bot/usecases/preflight.py);
- a pull request on a fleet repository gets a ``plan`` job (which also releases its cluster locks once
  it is closed), and, merged into the default branch of a repository whose entry says
  ``apply_on_merge`` and not from a fork, an ``apply`` job too;
- every job of one delivery is submitted with a dedupe key derived from the delivery, so a redelivery
  or a concurrent copy starts nothing new; the ack says which job runs and whether it was a duplicate.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from bot.command_codec import encode_parsed
from bot.commands import Ignore, Run
from bot.config_file import FleetRepository, FluxopsConfig
from bot.decision import digest
from bot.gitevents import BODY_KEPT, CommentEvent, GitEvent, PullRequestEvent, RepoRef
from bot.grammar import parse
from bot.jobs import JobRecord
from bot.usecases.comments import identity_of
from handlers.authority import EdgeAuthority, rate_message
from handlers.metrics import ACCEPTED, DUPLICATE, IGNORED, note_outcome
from workers.job_queue import DEDUPE_TTL_SECONDS, JobQueue, Submitted, new_job_id
from workers.redis_jobs import JOB_TTL_SECONDS

PUSH, PLAN, APPLY, COMMAND, PREFLIGHT = "push", "plan", "apply", "command", "preflight"
#: what an event type's name, echoed in an ack, may show as it is
_UNPRINTABLE = re.compile(r"[^A-Za-z0-9._-]")
#: first words after /flux that start a config-as-code job instead of a command
_PR_VERBS = {"plan": PLAN, "apply": APPLY}
#: a job that must run once per pull request is deduplicated as long as jobs are kept
LONG_DEDUPE_TTL = JOB_TTL_SECONDS
#: a PR comment older than this when it arrives is not run (FLUXOPS_COMMENT_MAX_AGE)
COMMENT_MAX_AGE = 600.0
#: the record of a command refused at intake is kept only until the worker has answered it
REFUSED_JOB_TTL = 3600


def comment_event(
    *,
    repo: RepoRef,
    number: int,
    comment_id: str,
    author: str,
    body: str,
    created_at: float,
    thread_id: str = "",
    author_id: str = "",
) -> CommentEvent:
    """A comment as a job keeps it: the body capped, its digest over all of it."""
    return CommentEvent(
        repo=repo,
        number=number,
        comment_id=comment_id,
        author=author,
        body=body[:BODY_KEPT],
        thread_id=thread_id,
        body_digest=digest(body),
        created_at=created_at,
        author_id=author_id,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _number(value: str) -> str:
    """``"0007"`` -> ``"7"``; anything that is not a number as it is."""
    return str(int(value)) if value.strip().isdigit() else value


def epoch(iso: str) -> float:
    """``2026-12-03T09:05:20Z`` -> epoch seconds; 0 when missing or unreadable (no age check then)."""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else 0.0
    except ValueError:
        return 0.0


class Malformed(Exception):
    """The payload does not have the shape its event promises (-> 400, nothing enqueued)."""


class Fields:
    """Typed reads of one JSON object of a payload; a missing or mistyped field raises Malformed."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise Malformed(f"{path} must be an object")
        self.data: dict[str, Any] = data
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def obj(self, key: str) -> Fields:
        if not self.has(key):
            raise Malformed(f"{self._where(key)} is missing")
        return Fields(self.data[key], self._where(key))

    def optional_obj(self, key: str) -> Fields | None:
        return self.obj(key) if self.has(key) else None

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key)
        if value is None:
            if default is None:
                raise Malformed(f"{self._where(key)} is missing")
            return default
        if not isinstance(value, str):
            raise Malformed(f"{self._where(key)} must be a string")
        return value

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise Malformed(f"{self._where(key)} must be an integer")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise Malformed(f"{self._where(key)} must be true or false")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise Malformed(f"{self._where(key)} must be an array")
        return value


@dataclass(frozen=True)
class JobRequest:
    """A job a delivery starts, before it has an id.

    Its dedupe key is the delivery's, plus ``dedupe_suffix`` when one delivery starts several jobs;
    ``dedupe_key`` replaces it for a job that must run once whichever delivery asks for it (the apply
    of a merged pull request, which Azure DevOps announces more than once), kept ``LONG_DEDUPE_TTL``.
    """

    kind: str
    event: GitEvent
    actor: str
    channel: str = ""
    text: str = ""
    dedupe_suffix: str = ""
    dedupe_key: str = ""


@dataclass(frozen=True)
class Ignored:
    """Why a verified, well-formed delivery starts no job (acknowledged with 202 all the same)."""

    reason: str


Outcome = Sequence[JobRequest] | Ignored


def not_acted_on(event: str) -> Ignored:
    """Why a delivery of an event type fluxops has no reader for starts nothing (its name as the host sent it,
    cut short: it is echoed back in the ack)."""
    name = _UNPRINTABLE.sub("?", event[:80])
    return Ignored(f"fluxops does not act on {name} events")


def first_line_after_flux(body: str) -> str:
    """The words after ``/flux`` on a comment's first non-empty line (the rule ``parse`` applies)."""
    lines = body.lstrip().splitlines()
    first = lines[0].strip() if lines else ""
    return first[len("/flux") :].strip()


def comment_kind(body: str) -> tuple[str, str] | None:
    """(job kind, text after /flux) of a comment addressed to fluxops; None when it is not."""
    if isinstance(parse(body, comment=True), Ignore):
        return None
    text = first_line_after_flux(body)
    verb = text.split(maxsplit=1)[0].lower() if text else ""
    return _PR_VERBS.get(verb, COMMAND), text


def pr_channel(repo: RepoRef, number: int) -> str:
    """Where a pull request's job reports: ``owner/repo#12`` (``org/project/repo#12`` on Azure DevOps)."""
    return f"{repo.full_name}#{number}"


def pull_request_jobs(
    event: PullRequestEvent, *, fleet: FleetRepository, actor: str, merger: str, apply_dedupe_key: str = ""
) -> list[JobRequest]:
    """The plan job of a pull request event, plus the apply job of a merge that applies on merge.

    ``apply_dedupe_key``: the apply's own dedupe key (default: the delivery's, suffixed ``:apply``).
    """
    channel = pr_channel(event.repo, event.number)
    jobs = [JobRequest(kind=PLAN, event=event, actor=actor, channel=channel)]
    # a fork's changes never apply themselves (DESIGN.md §6), not even once merged
    if event.merged and fleet.apply_on_merge and event.base_branch == event.repo.default_branch and not event.from_fork:
        jobs.append(
            JobRequest(
                kind=APPLY,
                event=event,
                actor=merger,
                channel=channel,
                dedupe_suffix="" if apply_dedupe_key else "apply",
                dedupe_key=apply_dedupe_key,
            )
        )
    return jobs


def preflight_job(event: PullRequestEvent, *, actor: str) -> JobRequest:
    """The preflight job of a pull request with new commits on a repository that is no fleet repository: the
    worker finds the configurations that use it (none: the job ends), so the web never asks Azure."""
    return JobRequest(kind=PREFLIGHT, event=event, actor=actor, channel=pr_channel(event.repo, event.number))


@dataclass(frozen=True)
class Screened:
    """A comment that may become a job: its decision, its dedupe key and how long its record is kept."""

    decision: str
    dedupe_key: str
    job_ttl: int | None = None
    #: the parsed command or reply, for the job record (bot.command_codec)
    command: str = ""


class GitIntake:
    """Submits a delivery's jobs and answers it; one per receiver (``platform`` is the JobRecord's)."""

    def __init__(
        self,
        *,
        queue: JobQueue,
        platform: str,
        config: FluxopsConfig | None,
        authority: EdgeAuthority | None = None,
        comment_max_age: float = COMMENT_MAX_AGE,
    ) -> None:
        self.queue = queue
        self.platform = platform
        self.config = config
        self.authority = authority
        self.comment_max_age = comment_max_age

    async def note_delivery(self, event: CommentEvent, once: str, delivery: str, submitted: Submitted) -> None:
        """Remember which delivery carried a comment; the same comment under another delivery id is a
        replay of captured bytes (a host's own redelivery keeps its id): it ran once, and it is audited."""
        seen = f"fluxops:comment-delivery:{once}"
        if not submitted.duplicate:
            await self.queue.redis.set(seen, delivery, ex=LONG_DEDUPE_TTL)
            return
        first = await self.queue.redis.get(seen)
        if self.authority is None or first is None or _text(first) == delivery:
            return
        identity = identity_of(event)
        await self.authority.audit_refusal(
            actor=f"{identity.platform}:{identity.user}",
            origin=f"{self.platform}:{pr_channel(event.repo, event.number)}",
            command=f"comment {event.comment_id}",
            reason=f"the same comment arrived again as another delivery (replay); job {submitted.job_id} ran it once",
            job_id=submitted.job_id,
        )

    async def same_account(self, event: CommentEvent) -> bool:
        """Whether ``event.author`` is the account (numeric id) fluxops first saw under that login.

        The policy names GitHub people by login, and logins can be renamed and registered again by someone
        else; the first id seen for a login is kept (trust on first use), and another id is refused until
        an admin clears ``fluxops:github-login:{login}`` after checking the policy.
        """
        key = f"fluxops:github-login:{event.author.casefold()}"
        redis = self.queue.redis
        if await redis.set(key, event.author_id, nx=True):
            return True
        known = await redis.get(key)
        return known is None or _text(known) == event.author_id

    async def screen(self, job: JobRequest, event: CommentEvent) -> Screened | Ignored:
        """Decide about a comment before it becomes a job (bot.decision): too old, from someone with no role
        at all, or over their rate limit, it starts nothing; otherwise the job carries the decision.

        Commands from comments are deduplicated by (repository, comment, body digest) for good: the same
        signed comment delivered again, under any delivery id, runs once.
        """
        # the comment's name, spelled one way whatever the (on Azure DevOps, unsigned) payload wrote: GUIDs in
        # lower case, numbers without leading zeros; Azure DevOps numbers comments within their thread
        repo = (event.repo.id or event.repo.full_name).casefold()
        comment = _number(event.comment_id)
        where = f"{_number(event.thread_id)}/{comment}" if event.thread_id else comment
        once = f"comment:{event.repo.provider}:{repo}:{where}:{event.body_digest}"
        authority = self.authority
        if authority is None:  # no policy wired (tests of the receivers alone): every comment is refused later
            return Screened(decision="", dedupe_key=once, command=encode_parsed(parse(job.text)))
        identity = identity_of(event)
        who = f"{identity.platform}:{identity.user}"
        command = f"/flux {job.text}"
        origin = f"{self.platform}:{pr_channel(event.repo, event.number)}"
        age = time.time() - event.created_at if event.created_at else 0.0
        if age > self.comment_max_age:
            reason = (
                f"the comment was written {int(age)} s before it reached fluxops; comments older than "
                f"{int(self.comment_max_age)} s are not run (FLUXOPS_COMMENT_MAX_AGE): comment again"
            )
            await authority.audit_refusal(actor=who, origin=origin, command=command, reason=reason)
            return Ignored(reason)
        if authority.policy.role_anywhere(identity) is None:
            await authority.audit_refusal(actor=who, origin=origin, command=command, reason="no fluxops role")
            return Ignored(f"{event.author} has no fluxops role")
        # only logins the policy names are pinned to their account: a "*" role is everyone's anyway
        named = authority.policy.names_explicitly(identity)
        if event.author_id and named and not await self.same_account(event):
            reason = (
                f"the GitHub account now named {event.author} (id {event.author_id}) is not the account fluxops "
                "knew by that name: a renamed login does not carry its roles to whoever takes the name"
            )
            await authority.audit_refusal(actor=who, origin=origin, command=command, reason=reason)
            return Ignored(reason)
        wait = await authority.rate_limited(who, once)
        if wait is not None:
            reason = rate_message(wait, authority.rate_limit)
            await authority.audit_refusal(actor=who, origin=origin, command=command, reason=reason)
            return Ignored(reason)
        parsed = parse(job.text)
        if not isinstance(parsed, Run):  # help and usage errors: the worker answers them, nothing is decided
            return Screened(decision="", dedupe_key=once, command=encode_parsed(parsed))
        decision = await authority.decide(identity, parsed.command, job.text, comment_digest=event.body_digest)
        job_ttl = None if decision.allowed else REFUSED_JOB_TTL
        return Screened(decision=decision.to_json(), dedupe_key=once, job_ttl=job_ttl, command=encode_parsed(parsed))

    def fleet(self, repo: RepoRef) -> FleetRepository | None:
        """The fleet repository entry for ``repo``, None when FLUXOPS_CONFIG does not declare it one."""
        return None if self.config is None else self.config.fleet_repository(repo.url)

    @staticmethod
    def ignore(outcome: Ignored) -> web.Response:
        """The ack of a delivery that starts nothing: 202 and, in one short line, why."""
        note_outcome(IGNORED)
        return web.json_response({"ignored": outcome.reason}, status=202)

    async def answer(self, outcome: Outcome, *, dedupe_key: str) -> web.Response:
        """Enqueue the jobs (each one Redis script: dedupe + record + message) and ack with 202."""
        if isinstance(outcome, Ignored):
            return self.ignore(outcome)
        if not outcome:
            note_outcome(IGNORED)
            return web.json_response({"ignored": "nothing to do"}, status=202)
        started: list[dict[str, Any]] = []
        for job in outcome:
            key, ttl = dedupe_key, DEDUPE_TTL_SECONDS
            decision, job_ttl, command = "", None, ""
            if job.dedupe_key:
                key, ttl = job.dedupe_key, LONG_DEDUPE_TTL
            elif job.dedupe_suffix:
                key = f"{dedupe_key}:{job.dedupe_suffix}"
            if isinstance(job.event, CommentEvent):
                screened = await self.screen(job, job.event)
                if isinstance(screened, Ignored):
                    note_outcome(IGNORED)
                    return web.json_response({"ignored": screened.reason}, status=202)
                decision, key, ttl, job_ttl = screened.decision, screened.dedupe_key, LONG_DEDUPE_TTL, screened.job_ttl
                command = screened.command
            record = JobRecord(
                job_id=new_job_id(),
                text=job.text,
                platform=self.platform,
                actor=job.actor,
                channel=job.channel,
                created_at=time.time(),
                kind=job.kind,
                event=job.event.to_json(),
                decision=decision,
                command=command,
            )
            submitted = await self.queue.submit(record, dedupe_key=key, dedupe_ttl=ttl, job_ttl=job_ttl)
            if isinstance(job.event, CommentEvent):
                await self.note_delivery(job.event, key, dedupe_key, submitted)
            started.append({"job": submitted.job_id, "kind": job.kind, "duplicate": submitted.duplicate})
        repeats = sum(1 for job in started if job["duplicate"])
        note_outcome(DUPLICATE if repeats == len(started) else ACCEPTED, dedupe_hits=repeats)
        first = started[0]
        body: dict[str, Any] = {"job": first["job"], "duplicate": first["duplicate"]}
        if len(started) > 1:
            body["jobs"] = started
        return web.Response(body=orjson.dumps(body), status=202, content_type="application/json")
