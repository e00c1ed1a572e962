"""Celery tasks: thin, named explicitly, ids in, each with its retry policy declared where it is defined.

The work itself is a use-case in bot/ (``bot.usecases.run_job``); a task only loads the job record,
guards against a second copy of the same job running at once, keeps the job's heartbeat, and turns
retryable errors into Celery retries with backoff, jitter and the server's Retry-After.
"""

from __future__ import annotations

import contextvars
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry
from celery.signals import worker_ready

from bot import errors
from bot.command_codec import decode_command
from bot.jobs import JobRecord
from bot.usecases import dispatch, key_schedule, watch_scan
from bot.usecases.executor import give_up
from bot.views import Phase
from workers.celery_app import MAX_COUNTDOWN
from workers.log_context import job_context
from workers.metrics import count_job
from workers.redis_jobs import ACTIVE_JOBS_KEY, RedisJobStore
from workers.task_message import QUEUE
from workers.wiring import wiring

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Retryable errors (429, 5xx, timeouts, conflicts) back off exponentially with jitter, never sooner
    than the server's Retry-After; a job waiting for another job's lock waits up to ``busy_limit``."""

    attempts: int = 8
    base: float = 2.0
    cap: float = 300.0
    jitter: float = 0.2
    busy_every: float = 5.0
    busy_limit: float = 1800.0

    def countdown(self, error: errors.FluxopsError, retries: int) -> float:
        """Jittered backoff, never sooner than Retry-After, never beyond MAX_COUNTDOWN (the broker's
        visibility timeout is sized above it; a longer countdown would be redelivered early)."""
        if isinstance(error, errors.Busy):
            delay = max(self.busy_every, min(error.retry_after or self.busy_every, 60.0))
        else:
            delay = min(self.cap, self.base * 2**retries)
        delay *= random.uniform(1 - self.jitter, 1 + self.jitter)  # noqa: S311 - jitter, not crypto
        if not isinstance(error, errors.Busy):
            delay = max(delay, error.retry_after or 0.0)
        return round(min(delay, MAX_COUNTDOWN), 2)


JOB_RETRY = RetryPolicy()


@contextmanager
def heartbeats(jobs: RedisJobStore, job_id: str, every: float) -> Iterator[None]:
    """Tell the recovery sweep this job is alive for as long as the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                jobs.heartbeat(job_id)
            except Exception:
                log.warning("job %s: heartbeat failed", job_id, exc_info=True)

    jobs.heartbeat(job_id)
    # the job's log context goes along: a failed heartbeat is logged with the job's fields
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(beat,), name=f"heartbeat {job_id}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@shared_task(
    name="fluxops.job.run",
    bind=True,
    queue=QUEUE,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # JOB_RETRY bounds it
    ignore_result=False,
)
def run(self: Task[Any, Any], job_id: str) -> str:
    """Run job ``job_id`` (a command someone sent) to its end, or until it waits for a button."""
    started = time.monotonic()
    kind, verb, outcome = "other", "", "error"
    try:
        record = wiring().jobs.load(job_id)
        kind, verb = record.kind, _verb(record)
        outcome = _run(self, record)
        return outcome
    except Retry:
        outcome = "retry"
        raise
    except errors.FluxopsError as error:
        outcome = "retry" if error.retryable else "error"
        raise
    finally:
        count_job(kind=kind, command=verb, outcome=outcome, seconds=time.monotonic() - started)


def _verb(record: JobRecord) -> str:
    """The command verb of a job (``config create``), for its metrics; empty when it carries none."""
    if record.kind != "command" or not record.command:
        return ""
    try:
        return decode_command(record.command).verb
    except Exception:  # a reply, or a record an older version wrote: the job itself says what is wrong
        return ""


def _run(self: Task[Any, Any], record: JobRecord) -> str:
    with job_context(record):
        log.info("job %s started", record.job_id)
        phase = _run_job(self, record)
        log.info("job %s ended: %s", record.job_id, phase)
        return phase


def _run_job(self: Task[Any, Any], record: JobRecord) -> str:
    w = wiring()
    job_id = record.job_id
    reporter = w.reporter(record)
    ports = w.ports()
    run_owner = f"{job_id}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    w.jobs.take(job_id, run_owner)
    try:
        with (
            w.locks.hold(f"job/{job_id}", run_owner),
            heartbeats(w.jobs, job_id, w.settings.job_stale_seconds / 4),
        ):
            phase = _run_with_retries(self, record.job_id, lambda: dispatch.run(record, ports, reporter))
    except errors.Busy as busy:
        if busy.holder.startswith(f"{job_id}@"):
            # another run of this job is live (a requeued copy, or a Confirm pressed while the first run
            # was still finishing): come back later rather than drop it; a finished job then does nothing
            log.info("job %s is running in %s; this copy tries again shortly", job_id, busy.holder)
            raise self.retry(countdown=JOB_RETRY.busy_every, exc=busy) from busy
        raise
    except Exception as error:
        if isinstance(error, Retry) or _is_celery_control(error):
            raise
        if isinstance(error, errors.FluxopsError) and error.retryable:
            raise
        # a bug, an unmapped failure, or an error a use-case let through: end the job visibly instead of
        # leaving it for the recovery sweep to requeue forever
        log.exception("job %s failed unexpectedly", job_id)
        failure = (
            error
            if isinstance(error, errors.FluxopsError)
            else errors.FluxopsError(
                f"fluxops failed unexpectedly ({type(error).__name__})",
                recommendation="try again; if it repeats, the worker log has the details for your fluxops admins",
            )
        )
        try:
            give_up(record, ports, reporter, failure)
        finally:
            w.jobs.finish(job_id)
        return Phase.FAILED.value
    if phase.terminal or phase is Phase.AWAITING_CONFIRMATION:
        w.jobs.finish(job_id)
    written = watch_scan.written_config(record) if phase.terminal else None
    if written is not None:  # a write fluxops made: the watch looks at the configuration now
        w.watch_checks().check(*written)
    return phase.value


def _run_with_retries(task: Task[Any, Any], job_id: str, body: Any) -> Phase:
    w = wiring()
    try:
        phase: Phase = body()
        return phase
    except errors.FluxopsError as error:
        if not error.retryable:
            raise
        now = time.time()
        if isinstance(error, errors.Busy):
            since = float(w.jobs.get(job_id, "waiting_since") or now)
            w.jobs.put(job_id, "waiting_since", str(since))
            exhausted = now - since > JOB_RETRY.busy_limit
        else:
            exhausted = task.request.retries >= JOB_RETRY.attempts
        if exhausted:
            record = w.jobs.load(job_id)
            give_up(record, w.ports(), w.reporter(record), error)
            return Phase.FAILED
        countdown = JOB_RETRY.countdown(error, task.request.retries)
        # not stale while it waits for its countdown: the sweep must not requeue it meanwhile
        w.redis.zadd(ACTIVE_JOBS_KEY, {job_id: now + countdown})
        log.info("job %s: %s; retrying in %.1f s", job_id, error.message, countdown)
        raise task.retry(countdown=countdown, exc=error) from error


def _is_celery_control(error: BaseException) -> bool:
    """Exceptions Celery uses for its own control flow (time limits, retries) pass through untouched."""
    return type(error).__module__.startswith(("celery.", "billiard."))


@shared_task(name="fluxops.jobs.recover", queue=QUEUE, acks_late=True, ignore_result=True)
def recover() -> int:
    """Requeue jobs whose worker died mid-run (their heartbeat went stale); they resume from saved progress."""
    w = wiring()
    count = 0
    for job_id in w.jobs.stale(w.settings.job_stale_seconds):
        if w.queue.requeue(job_id):
            log.warning("job %s: its worker stopped answering; requeued to resume", job_id)
            count += 1
    return count


@shared_task(name="fluxops.inventory.refresh", queue=QUEUE, acks_late=True, ignore_result=True)
def refresh_inventory() -> int:
    """Publish the discovered clusters for the web process (it resolves and authorizes against them)."""
    return wiring().publish_inventory()


@shared_task(name="fluxops.fleet.snapshot", queue=QUEUE, acks_late=True, ignore_result=True)
def publish_fleet_snapshot() -> int:
    """Publish every configuration's state for the status page (GET /fleet reads it, never ARM)."""
    return wiring().publish_fleet_snapshot()


@shared_task(name="fluxops.keys.rotate_due", queue=QUEUE, acks_late=True, ignore_result=True)
def rotate_due_keys() -> int:
    """Start a rotation job for every deploy key older than the policy's ``deploy_keys.max_age``."""
    w = wiring()
    if w.keys is None:
        return 0
    started = 0
    for record in key_schedule.due_rotations(w.keys.all(), w.config.deploy_keys, time.time()):
        if not w.queue.submit(record).duplicate:
            log.info("deploy key rotation %s started (%s)", record.job_id, record.text)
            started += 1
    return started


@shared_task(name="fluxops.watch.scan", queue=QUEUE, acks_late=True, ignore_result=True)
def watch_scan_all() -> int:
    """The one shared watch scan (bot/usecases/watch_scan.py): every watched configuration, read in bulk."""
    w = wiring()
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    result = watch_scan.scan(w.scan_ports(), owner, lease_seconds=max(60.0, 2 * w.settings.watch_scan_interval))
    if result.skipped:
        log.info("watch scan: another worker is scanning")
    elif result.told.keys() - {"nothing"}:
        log.info("watch scan: %d configurations, %s", result.configurations, result.told)
    return result.configurations


@shared_task(name="fluxops.watch.check", queue=QUEUE, acks_late=True, ignore_result=True)
def watch_check(cluster_id: str, config: str) -> str:
    """Look at one watched configuration now: a push was traced to it, fluxops wrote it, or a change settles."""
    return watch_scan.check_one(wiring().scan_ports(), cluster_id, config).value


@shared_task(name="fluxops.health.ping", queue=QUEUE, acks_late=True, ignore_result=False)
def ping() -> dict[str, str | int]:
    """Answers from a live worker: who and where (the sandbox waits on it before reporting ready)."""
    return {"pong": "fluxops", "host": socket.gethostname(), "pid": os.getpid()}


@worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    """A worker that starts publishes the inventory at once and looks for orphaned jobs."""
    refresh_inventory.delay()
    publish_fleet_snapshot.delay()
    recover.delay()
