"""How the web process starts jobs: dedupe, job record and Celery message in one atomic Redis step.

DESIGN.md §6 asks that webhook dedupe (delivery ids, Slack retries) and the enqueue happen together, so
a retried delivery can never enqueue twice and an accepted one is never lost between two steps. Each
operation here is one Lua script over the keys of workers/redis_jobs.py:

- ``fluxops:dedupe:{key}`` -> the job id the first delivery started (expires after ``dedupe_ttl``);
- ``fluxops:job:{id}`` -> the job record and ``p:phase`` (plus ``confirmed_by`` once confirmed);
- ``fluxops:jobs:active`` -> the job id, scored with the enqueue time (workers then heartbeat it);
- the queue's Redis list <- the Celery task message (workers/task_message.py), as ``send_task`` would push it.

Destructive commands are staged (record only, phase ``awaiting_confirmation``) and enqueued by
``confirm``; a second press, or a press after ``cancel``, changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
from celery import Celery

from bot.jobs import Confirmation, JobRecord
from bot.views import Phase
from workers.celery_app import QUEUE
from workers.job_scripts import (
    APPROVE_SCRIPT,
    CANCEL_SCRIPT,
    CONFIRM_SCRIPT,
    SUBMIT_SCRIPT,
    approve_args,
    cancel_args,
    confirm_args,
)
from workers.redis_jobs import ACTIVE_JOBS_KEY, JOB_TTL_SECONDS, PHASE_FIELD, as_text, job_key
from workers.task_message import JOB_TASK, queue_key, task_message

DEDUPE_KEY_PREFIX = "fluxops:dedupe:"
DEDUPE_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Submitted:
    """The job that runs for this request; ``duplicate`` when an earlier delivery already started it."""

    job_id: str
    duplicate: bool


def new_job_id() -> str:
    """A new job's id: ``j-`` and 12 hex digits (what `/flux confirm` and the grammar expect)."""
    return f"j-{uuid.uuid4().hex[:12]}"


def dedupe_key_name(dedupe_key: str) -> str:
    return DEDUPE_KEY_PREFIX + dedupe_key


class JobQueue:
    """Enqueues jobs for the workers from the web process (async Redis)."""

    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        celery: Celery,
        queue: str = QUEUE,
        task_name: str = JOB_TASK,
        job_ttl_seconds: int = JOB_TTL_SECONDS,
        task_args: Callable[[str], Sequence[object]] | None = None,
    ) -> None:
        """``task_args`` makes the task's arguments from the job id (default: ``[job_id]``)."""
        self.redis = redis
        self._celery = celery
        self._queue = queue
        self._queue_key = queue_key(celery, queue)
        self._task_name = task_name
        self._job_ttl = job_ttl_seconds
        self._task_args = task_args
        self._submit = redis.register_script(SUBMIT_SCRIPT)
        self._confirm = redis.register_script(CONFIRM_SCRIPT)
        self._approve = redis.register_script(APPROVE_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)

    def message_for(self, job_id: str) -> str:
        """The serialized Celery message that runs job ``job_id`` (task id = job id)."""
        args = None if self._task_args is None else self._task_args(job_id)
        return task_message(self._celery, task_id=job_id, task_name=self._task_name, queue=self._queue, args=args)

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
        message = self.message_for(record.job_id)
        return await self._record(record, message, Phase.QUEUED, dedupe_key, dedupe_ttl, job_ttl)

    async def stage(
        self, record: JobRecord, *, dedupe_key: str | None = None, dedupe_ttl: int = DEDUPE_TTL_SECONDS
    ) -> Submitted:
        """Record a destructive job awaiting its Confirm button; nothing is enqueued until ``confirm``."""
        return await self._record(record, "", Phase.AWAITING_CONFIRMATION, dedupe_key, dedupe_ttl, None)

    async def confirm(self, job_id: str, *, confirmed_by: str, digest: str) -> Confirmation:
        """Enqueue a staged job whose decision is for the command ``digest`` names; false (with why) when
        it is not awaiting confirmation (pressed twice, canceled, unknown), is another command, or still
        needs approvals from others."""
        keys, args = confirm_args(
            job_id, confirmed_by, self.message_for(job_id), self._queue_key, self._job_ttl, digest
        )
        return Confirmation(int(await self._confirm(keys=keys, args=args)))

    async def approve(self, job_id: str, *, approver: str, digest: str, groups: Iterable[str] = ()) -> int:
        """Record an approval of a staged job (with the approver's Slack groups, so the worker can check their
        role again): the approvals that count now, or 0 (not awaiting), -1 (another command), -3 (the one
        who asked cannot approve their own command)."""
        keys, args = approve_args(job_id, approver, digest, self._job_ttl, groups)
        return int(await self._approve(keys=keys, args=args))

    async def cancel(self, job_id: str) -> bool:
        """Cancel a staged job; False when it is not awaiting confirmation (already confirmed or canceled)."""
        done = await self._cancel(keys=[job_key(job_id)], args=cancel_args())
        return bool(done)

    async def _record(
        self,
        record: JobRecord,
        message: str,
        phase: Phase,
        dedupe_key: str | None,
        dedupe_ttl: int,
        job_ttl: int | None,
    ) -> Submitted:
        if not record.job_id:
            raise ValueError("enqueueing a job: the job record has no job id")
        keys = [job_key(record.job_id), ACTIVE_JOBS_KEY, self._queue_key]
        if dedupe_key is not None:
            keys.append(dedupe_key_name(dedupe_key))
        ttl = self._job_ttl if job_ttl is None else job_ttl
        args: list[str | int] = [record.job_id, ttl, dedupe_ttl, message, PHASE_FIELD, phase.value]
        for field, value in record.to_mapping().items():
            args += [field, value]
        job_id, duplicate = await self._submit(keys=keys, args=args)
        return Submitted(job_id=as_text(job_id), duplicate=bool(duplicate))
