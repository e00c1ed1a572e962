"""The job queue: how a job is started, staged, confirmed, approved and canceled, for every process.

DESIGN.md §6 asks that webhook dedupe (delivery ids, Slack retries) and the enqueue happen together, so a
retried delivery can never enqueue twice and an accepted one is never lost between two steps. Each operation
is one Lua script (workers/job_queue_lua.py) over these keys:

- ``fluxops:dedupe:{key}`` -> the job id the first delivery started (expires after ``dedupe_ttl``);
- ``fluxops:job:{id}`` -> the job record and ``p:phase`` (plus ``confirmed_by`` once confirmed), the layout
  of workers/redis_jobs.py;
- ``fluxops:job:{id}:approvals`` -> who approved a staged job, scored with when;
- ``fluxops:jobs:active`` -> the job id, scored with the enqueue time (workers then heartbeat it);
- the queue's Redis list <- the Celery task message (workers/task_message.py), as ``send_task`` would push it.

Destructive commands are staged (record only, phase ``awaiting_confirmation``) and enqueued by ``confirm``; a
second press, or a press after ``cancel``, changes nothing. The web process uses ``JobQueue`` (asyncio); the
workers and beat use ``SyncJobQueue`` (a `/flux confirm JOB` comment, scheduled rotations). Both build their
calls in ``QueueCalls``, so the two can never disagree on a key or an argument.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import redis
import redis.asyncio as aioredis
from celery import Celery

from bot.jobs import APPROVER_GROUPS, Confirmation, JobRecord
from bot.rollout.progress import CANCEL_FIELD, STARTED_FIELD
from bot.views import Phase
from telemetry.log_context import job_fields
from telemetry.tracing import current_traceparent
from workers.job_queue_lua import (
    APPROVE_SCRIPT,
    CANCEL_SCRIPT,
    CONFIRM_SCRIPT,
    REQUEUE_SCRIPT,
    RESUME_SCRIPT,
    SUBMIT_SCRIPT,
)
from workers.random_ids import random_hex
from workers.redis_jobs import (
    ACTIVE_JOBS_KEY,
    JOB_TTL_SECONDS,
    PHASE_FIELD,
    PROGRESS_PREFIX,
    TAKEN_FIELD,
    as_text,
    job_key,
)
from workers.script_batches import BatchedScript
from workers.task_message import JOB_TASK, QUEUE, JobMessages, queue_key, task_message

log = logging.getLogger(__name__)

DEDUPE_KEY_PREFIX = "fluxops:dedupe:"
DEDUPE_TTL_SECONDS = 24 * 3600

Call = tuple[list[str], list[str | int]]


@dataclass(frozen=True)
class Submitted:
    """The job that runs for this request; ``duplicate`` when an earlier delivery already started it."""

    job_id: str
    duplicate: bool


def new_job_id() -> str:
    """A new job's id: ``j-`` and 12 hex digits (what `/flux confirm` and the grammar expect)."""
    return f"j-{random_hex(6)}"


def dedupe_key_name(dedupe_key: str) -> str:
    return DEDUPE_KEY_PREFIX + dedupe_key


def approvals_key(job_id: str) -> str:
    return f"{job_key(job_id)}:approvals"


class QueueCalls:
    """The keys and arguments of each script call, and the Celery message that runs a job."""

    def __init__(
        self,
        *,
        celery: Celery,
        queue: str = QUEUE,
        task_name: str = JOB_TASK,
        job_ttl_seconds: int = JOB_TTL_SECONDS,
        task_args: Callable[[str], Sequence[object]] | None = None,
    ) -> None:
        """``task_args`` makes the task's arguments from the job id (default: ``[job_id]``)."""
        self._celery = celery
        self._queue = queue
        self.queue_key = queue_key(celery, queue)
        self._task_name = task_name
        self.job_ttl = job_ttl_seconds
        self._task_args = task_args
        self._messages = JobMessages(celery, task_name=task_name, queue=queue)

    def message_for(self, job_id: str) -> str:
        """The serialized Celery message that runs job ``job_id`` (task id = job id)."""
        if self._task_args is not None:
            args = self._task_args(job_id)
            return task_message(self._celery, task_id=job_id, task_name=self._task_name, queue=self._queue, args=args)
        return self._messages.message(job_id)

    def submit(
        self, record: JobRecord, *, staged: bool, dedupe_key: str | None, dedupe_ttl: int, job_ttl: int | None
    ) -> Call:
        """Record the job and (unless ``staged``) enqueue it, unless ``dedupe_key`` or its id was seen before."""
        if not record.job_id:
            raise ValueError("enqueueing a job: the job record has no job id")
        keys = [job_key(record.job_id), ACTIVE_JOBS_KEY, self.queue_key]
        if dedupe_key is not None:
            keys.append(dedupe_key_name(dedupe_key))
        ttl = self.job_ttl if job_ttl is None else job_ttl
        message, phase = (
            ("", Phase.AWAITING_CONFIRMATION) if staged else (self.message_for(record.job_id), Phase.QUEUED)
        )
        args: list[str | int] = [record.job_id, ttl, dedupe_ttl, message, PHASE_FIELD, phase.value]
        for field, value in record.to_mapping().items():
            args += [field, value]
        return keys, args

    def confirm(self, job_id: str, confirmed_by: str, digest: str) -> Call:
        keys = [job_key(job_id), ACTIVE_JOBS_KEY, self.queue_key, approvals_key(job_id)]
        awaiting, queued = Phase.AWAITING_CONFIRMATION.value, Phase.QUEUED.value
        message = self.message_for(job_id)
        return keys, [job_id, confirmed_by, message, PHASE_FIELD, awaiting, queued, self.job_ttl, digest, TAKEN_FIELD]

    def approve(self, job_id: str, approver: str, digest: str, groups: Iterable[str]) -> Call:
        """One approval; approvers are kept in lower case (people are matched case-insensitively everywhere)."""
        keys = [job_key(job_id), approvals_key(job_id)]
        awaiting = Phase.AWAITING_CONFIRMATION.value
        args: list[str | int] = [approver.lower(), digest, PHASE_FIELD, awaiting, self.job_ttl]
        return keys, [*args, ",".join(sorted(groups)), PROGRESS_PREFIX + APPROVER_GROUPS]

    def cancel(self, job_id: str) -> Call:
        return [job_key(job_id)], [PHASE_FIELD, Phase.AWAITING_CONFIRMATION.value, Phase.CANCELED.value]

    def requeue(self, job_id: str) -> Call:
        keys = [job_key(job_id), ACTIVE_JOBS_KEY, self.queue_key]
        terminal = [phase.value for phase in Phase if phase.terminal]
        awaiting = Phase.AWAITING_CONFIRMATION.value
        return keys, [job_id, self.message_for(job_id), PHASE_FIELD, awaiting, TAKEN_FIELD, *terminal]

    def resume(self, job_id: str) -> Call:
        keys = [job_key(job_id), ACTIVE_JOBS_KEY, self.queue_key]
        started, cancel = PROGRESS_PREFIX + STARTED_FIELD, PROGRESS_PREFIX + CANCEL_FIELD
        fields = [PHASE_FIELD, started, cancel, Phase.QUEUED.value, TAKEN_FIELD]
        resumable = [Phase.HALTED.value, Phase.CANCELED.value, Phase.FAILED.value]
        return keys, [job_id, self.message_for(job_id), *fields, *resumable]


def traced(record: JobRecord) -> JobRecord:
    """``record`` carrying the current trace (the web request's span) for the worker to continue; unchanged
    when tracing is off."""
    if record.traceparent:
        return record
    parent = current_traceparent()
    return replace(record, traceparent=parent) if parent else record


def log_submitted(record: JobRecord, submitted: Submitted, *, staged: bool = False) -> None:
    """One line per job a delivery or a schedule starts: the link from a delivery id to a job id."""
    if submitted.duplicate:
        log.info("already job %s: nothing new enqueued", submitted.job_id, extra={"job_id": submitted.job_id})
        return
    what = "staged until confirmed" if staged else "enqueued"
    # a push is the high-volume delivery (its 202 body and GitHub's delivery log name the job): a line at debug
    level = logging.DEBUG if record.kind == "push" else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "job %s %s", record.job_id, what, extra=job_fields(record))


def _submitted(reply: object) -> Submitted:
    """The submit script's reply: ``1`` or ``0`` (duplicate or not), then the job id that runs."""
    text = as_text(reply)
    return Submitted(job_id=text[1:], duplicate=text[:1] == "1")


class JobQueue:
    """The web process's side (asyncio Redis): start, stage, confirm, approve and cancel jobs."""

    def __init__(self, *, redis: aioredis.Redis, calls: QueueCalls) -> None:
        self.redis = redis
        self.calls = calls
        # every accepted delivery runs it: concurrent deliveries share round trips (workers/script_batches.py)
        self._submit = BatchedScript(redis, SUBMIT_SCRIPT)
        self._confirm = redis.register_script(CONFIRM_SCRIPT)
        self._approve = redis.register_script(APPROVE_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)

    async def submit(
        self,
        record: JobRecord,
        *,
        dedupe_key: str | None = None,
        dedupe_ttl: int = DEDUPE_TTL_SECONDS,
        job_ttl: int | None = None,
    ) -> Submitted:
        """Record the job and enqueue it, unless ``dedupe_key`` (or the job id) was seen before.

        ``job_ttl``: how long its record is kept, when not the default (refused jobs are kept briefly).
        """
        record = traced(record)
        keys, args = self.calls.submit(
            record, staged=False, dedupe_key=dedupe_key, dedupe_ttl=dedupe_ttl, job_ttl=job_ttl
        )
        submitted = _submitted(await self._submit(keys, args))
        log_submitted(record, submitted)
        return submitted

    async def stage(
        self, record: JobRecord, *, dedupe_key: str | None = None, dedupe_ttl: int = DEDUPE_TTL_SECONDS
    ) -> Submitted:
        """Record a destructive job awaiting its Confirm button; nothing is enqueued until ``confirm``."""
        record = traced(record)
        keys, args = self.calls.submit(record, staged=True, dedupe_key=dedupe_key, dedupe_ttl=dedupe_ttl, job_ttl=None)
        submitted = _submitted(await self._submit(keys, args))
        log_submitted(record, submitted, staged=True)
        return submitted

    async def confirm(self, job_id: str, *, confirmed_by: str, digest: str) -> Confirmation:
        """Enqueue a staged job whose decision is for the command ``digest`` names; false (with why) when
        it is not awaiting confirmation (pressed twice, canceled, unknown), is another command, or still
        needs approvals from others."""
        keys, args = self.calls.confirm(job_id, confirmed_by, digest)
        return Confirmation(int(await self._confirm(keys=keys, args=args)))

    async def approve(self, job_id: str, *, approver: str, digest: str, groups: Iterable[str] = ()) -> int:
        """Record an approval of a staged job (with the approver's Slack groups, so the worker can check their
        role again): the approvals that count now, or 0 (not awaiting), -1 (another command), -3 (the one
        who asked cannot approve their own command)."""
        keys, args = self.calls.approve(job_id, approver, digest, groups)
        return int(await self._approve(keys=keys, args=args))

    async def cancel(self, job_id: str) -> bool:
        """Cancel a staged job; False when it is not awaiting confirmation (already confirmed or canceled)."""
        keys, args = self.calls.cancel(job_id)
        return bool(await self._cancel(keys=keys, args=args))


class SyncJobQueue:
    """The workers' and beat's side (blocking Redis): scheduled jobs, and `/flux confirm|approve|cancel JOB`
    comments on staged ones."""

    def __init__(self, *, redis: redis.Redis, calls: QueueCalls) -> None:
        self._submit = redis.register_script(SUBMIT_SCRIPT)
        self._confirm = redis.register_script(CONFIRM_SCRIPT)
        self._approve = redis.register_script(APPROVE_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)
        self._requeue = redis.register_script(REQUEUE_SCRIPT)
        self._resume = redis.register_script(RESUME_SCRIPT)
        self.calls = calls

    def submit(self, record: JobRecord) -> Submitted:
        """Start ``record``'s job unless a job with its id exists already."""
        record = traced(record)
        keys, args = self.calls.submit(record, staged=False, dedupe_key=None, dedupe_ttl=0, job_ttl=None)
        submitted = _submitted(self._submit(keys=keys, args=args))
        log_submitted(record, submitted)
        return submitted

    def confirm(self, job_id: str, confirmed_by: str, digest: str) -> Confirmation:
        """Enqueue the staged job if its decision is for the command ``digest`` names (and approved enough)."""
        keys, args = self.calls.confirm(job_id, confirmed_by, digest)
        return Confirmation(int(self._confirm(keys=keys, args=args)))

    def approve(self, job_id: str, approver: str, digest: str) -> int:
        """Record ``approver``'s approval of the staged job; the approvals counting now, or 0 / -1 / -3
        (not awaiting, another command, the one who asked)."""
        keys, args = self.calls.approve(job_id, approver, digest, ())
        return int(self._approve(keys=keys, args=args))

    def cancel(self, job_id: str) -> bool:
        keys, args = self.calls.cancel(job_id)
        return bool(self._cancel(keys=keys, args=args))

    def requeue(self, job_id: str) -> bool:
        """Enqueue job ``job_id`` again (the recovery sweep, for a job whose worker died); False, and nothing
        pushed, when it must not run. A job that is unknown or already ended is also dropped from the active set.
        """
        keys, args = self.calls.requeue(job_id)
        return bool(self._requeue(keys=keys, args=args))

    def resume(self, job_id: str) -> bool:
        """Queue a halted or canceled fleet run again (bot.usecases.context.StagedJobs.resume)."""
        keys, args = self.calls.resume(job_id)
        return bool(self._resume(keys=keys, args=args))
