"""Enqueueing from the web process: one atomic Redis step per request, consumed by a real Celery worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout

from bot.decision import Decision, digest
from bot.jobs import Confirmation, JobRecord
from bot.settings import Settings
from workers.celery_app import make_celery
from workers.job_queue import JobQueue, QueueCalls, Submitted, SyncJobQueue
from workers.redis_jobs import ACTIVE_JOBS_KEY, RedisJobStore, job_key
from workers.task_message import JobMessages, task_message

ROOT = Path(__file__).resolve().parents[2]
PING = "fluxops.health.ping"  # takes no arguments: the queue is told so with task_args


@pytest.fixture(scope="module")
def celery(redis_server: str) -> Celery:
    """A client app configured exactly as the workers' (serializer, queue, transport options)."""
    return make_celery(Settings(REDIS_URL=redis_server))


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid


@pytest.fixture(scope="module")
def worker(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One real worker process for the module, consuming queue fluxops as the Procfile's worker does."""
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "REDIS_URL": redis_server, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.main", "worker", "--queues=fluxops", "--pool=solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip
    yield Worker(proc, log)
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
async def aio(redis_server: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server)
    yield client
    await client.aclose()


@pytest.fixture
def sync_redis(redis_server: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server)
    yield client
    client.close()


@pytest.fixture
def queue(sync_redis: redis.Redis) -> Iterator[str]:
    """A queue no worker consumes, so its length counts exactly what was enqueued."""
    name = f"test-queue-{uuid.uuid4().hex[:8]}"
    yield name
    sync_redis.delete(name)


NewRecord = Callable[[], JobRecord]
TEXT = "config delete apps -c prod-weu"
#: what intake decided about TEXT: a confirmation must name this command's digest
DECISION = Decision(text=TEXT, command_digest=digest(TEXT), platform="slack", user="U123", role="admin")


@pytest.fixture
def new_record(sync_redis: redis.Redis) -> Iterator[NewRecord]:
    """Fresh job records; afterwards their jobs leave the active set, so no recovery sweep picks them up."""
    made: list[str] = []

    def make() -> JobRecord:
        record = JobRecord(
            job_id=f"j-{uuid.uuid4().hex[:12]}", text=TEXT, platform="slack",
            actor="U123", channel="C42", created_at=1700000000.0, decision=DECISION.to_json(),
        )  # fmt: skip
        made.append(record.job_id)
        return record

    yield make
    if made:
        sync_redis.zrem(ACTIVE_JOBS_KEY, *made)


def result_of(celery: Celery, job_id: str, worker: Worker) -> dict[str, object]:
    """The task's return value; fails at once, with the worker's log, if the worker died."""
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = celery.AsyncResult(job_id).get(timeout=1)
        except CeleryTimeout:
            if worker.proc.poll() is not None:
                pytest.fail(f"the worker exited with {worker.proc.returncode}:\n{worker.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise
            continue
        assert isinstance(answer, dict)
        return answer


def without_per_send_fields(raw: bytes | str) -> dict[str, object]:
    """A pushed message minus what differs between any two sends (delivery tag, sender, reply queue).

    ``ignore_result`` is a per-send option too: send_task writes False or None depending on what else the
    process has published; the worker ORs it with the task's own setting, so both mean "the task decides".
    """
    message = json.loads(raw)
    del message["properties"]["delivery_tag"], message["properties"]["reply_to"], message["headers"]["origin"]
    assert message["headers"].pop("ignore_result") in (None, False)
    assert isinstance(message, dict)
    return message


def test_the_message_is_what_send_task_pushes(celery: Celery, sync_redis: redis.Redis, queue: str):
    celery.send_task("fluxops.job.run", args=["j-1"], task_id="j-1", queue=queue)
    assert sync_redis.llen(queue) == 1  # send_task pushed onto the plain queue name (priority 0)
    sent = sync_redis.lindex(queue, 0)
    assert sent is not None
    ours = task_message(celery, task_id="j-1", task_name="fluxops.job.run", queue=queue)
    assert without_per_send_fields(ours) == without_per_send_fields(sent)


@pytest.mark.parametrize("job_id", ["j-0123456789ab", "rotate-dk-0123456789-20261203"])
def test_the_message_template_gives_what_task_message_builds(celery: Celery, job_id: str):
    """JobMessages fills a template built once; it must give task_message's JSON, delivery tag aside."""
    messages = JobMessages(celery, task_name="fluxops.job.run", queue="fluxops")
    ours = messages.message(job_id)
    reference = task_message(celery, task_id=job_id, task_name="fluxops.job.run", queue="fluxops")
    assert without_per_send_fields(ours) == without_per_send_fields(reference)
    assert (
        json.loads(ours)["properties"]["delivery_tag"]
        != json.loads(messages.message(job_id))["properties"]["delivery_tag"]
    )
    for odd in ('j-"x', "j-\nx", "j-\u2028", ""):
        with pytest.raises(ValueError, match="JSON or repr would change"):
            messages.message(odd)


async def test_submit_runs_on_a_real_worker(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, worker: Worker, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, task_name=PING, task_args=lambda _job_id: []))
    record = new_record()
    assert await jobs.submit(record) == Submitted(job_id=record.job_id, duplicate=False)
    answer = result_of(celery, record.job_id, worker)  # the task id is the job id
    assert answer["pong"] == "fluxops" and answer["pid"] == worker.pid
    store = RedisJobStore(redis=sync_redis)
    assert store.load(record.job_id) == record and store.phase(record.job_id) == "queued"
    assert sync_redis.zscore(ACTIVE_JOBS_KEY, record.job_id) is not None
    assert 0 < sync_redis.ttl(job_key(record.job_id)) <= 30 * 24 * 3600


async def test_confirmed_and_requeued_jobs_run_on_a_real_worker(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, worker: Worker, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, task_name=PING, task_args=lambda _job_id: []))
    record = new_record()
    await jobs.stage(record)
    assert await jobs.confirm(record.job_id, confirmed_by="U7", digest=DECISION.command_digest)
    assert result_of(celery, record.job_id, worker)["pid"] == worker.pid

    # a job that never started is left to the broker: requeueing it would only duplicate the backlog
    assert not SyncJobQueue(redis=sync_redis, calls=jobs.calls).requeue(record.job_id)
    # it started, then its worker "died": the recovery sweep puts the same job back and a worker runs it again
    sync_redis.hset(job_key(record.job_id), "p:phase", "running")
    celery.AsyncResult(record.job_id).forget()
    assert SyncJobQueue(redis=sync_redis, calls=jobs.calls).requeue(record.job_id)
    assert result_of(celery, record.job_id, worker)["pid"] == worker.pid


async def test_a_repeated_delivery_enqueues_once(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    first, retry = new_record(), new_record()  # Slack's retry arrives and gets a fresh job id
    trigger = f"slack:trigger-{first.job_id}"
    assert await jobs.submit(first, dedupe_key=trigger) == Submitted(first.job_id, duplicate=False)
    assert await jobs.submit(retry, dedupe_key=trigger) == Submitted(first.job_id, duplicate=True)
    assert sync_redis.llen(queue) == 1
    assert not sync_redis.exists(job_key(retry.job_id))  # the retry left no trace
    assert 0 < sync_redis.ttl(f"fluxops:dedupe:{trigger}") <= 24 * 3600
    message = json.loads(sync_redis.lindex(queue, 0) or b"")
    assert message["headers"]["task"] == "fluxops.job.run" and message["headers"]["id"] == first.job_id


async def test_the_same_job_id_is_never_enqueued_twice(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    record = new_record()
    assert (await jobs.submit(record)).duplicate is False
    assert (await jobs.submit(record)).duplicate is True
    assert sync_redis.llen(queue) == 1


async def test_concurrent_deliveries_enqueue_exactly_once(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    records = [new_record() for _ in range(20)]
    delivery = f"github:{uuid.uuid4()}"
    results = await asyncio.gather(*(jobs.submit(r, dedupe_key=delivery) for r in records))
    winners = [s for s in results if not s.duplicate]
    assert len(winners) == 1 and {s.job_id for s in results} == {winners[0].job_id}
    assert sync_redis.llen(queue) == 1
    assert sum(bool(sync_redis.exists(job_key(r.job_id))) for r in records) == 1


async def test_stage_waits_and_confirm_enqueues_once(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    record = new_record()
    assert await jobs.stage(record, dedupe_key=f"slack:{record.job_id}") == Submitted(record.job_id, duplicate=False)
    store = RedisJobStore(redis=sync_redis)
    assert store.phase(record.job_id) == "awaiting_confirmation" and store.load(record.job_id) == record
    assert sync_redis.llen(queue) == 0
    assert sync_redis.zscore(ACTIVE_JOBS_KEY, record.job_id) is None  # no recovery sweep requeues an unconfirmed job

    presses = await asyncio.gather(
        jobs.confirm(record.job_id, confirmed_by="U7", digest=DECISION.command_digest),
        jobs.confirm(record.job_id, confirmed_by="U8", digest=DECISION.command_digest),
    )
    assert sorted(bool(p) for p in presses) == [False, True]
    assert sync_redis.llen(queue) == 1
    assert store.phase(record.job_id) == "queued"
    assert store.load(record.job_id).confirmed_by in {"U7", "U8"}
    assert sync_redis.zscore(ACTIVE_JOBS_KEY, record.job_id) is not None
    assert await jobs.cancel(record.job_id) is False  # too late: it is queued


async def test_confirm_names_the_staged_command(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    """A press made for another command (a record rewritten since, or a forged press) enqueues nothing."""
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    record = new_record()
    await jobs.stage(record)
    assert not await jobs.confirm(record.job_id, confirmed_by="U7", digest=digest("config delete other -c prod"))
    sync_redis.hset(job_key(record.job_id), "decision", "{not json")
    assert not await jobs.confirm(record.job_id, confirmed_by="U7", digest=DECISION.command_digest)
    sync_redis.hdel(job_key(record.job_id), "decision")
    assert not await jobs.confirm(record.job_id, confirmed_by="U7", digest=DECISION.command_digest)
    assert sync_redis.llen(queue) == 0
    assert RedisJobStore(redis=sync_redis).phase(record.job_id) == "awaiting_confirmation"


async def test_cancel_after_stage_stops_confirm(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    record = new_record()
    await jobs.stage(record)
    assert await jobs.cancel(record.job_id) is True
    assert await jobs.cancel(record.job_id) is False
    assert not await jobs.confirm(record.job_id, confirmed_by="U7", digest=DECISION.command_digest)
    assert sync_redis.llen(queue) == 0
    assert RedisJobStore(redis=sync_redis).phase(record.job_id) == "canceled"
    assert not await jobs.confirm("j-unknown", confirmed_by="U7", digest=DECISION.command_digest)
    assert await jobs.cancel("j-unknown") is False


def approvals_decision(required: int, ttl: int = 1800) -> Decision:
    return Decision(
        text=TEXT,
        command_digest=digest(TEXT),
        platform="slack",
        user="U123",
        role="admin",
        approvals_required=required,
        approval_ttl=ttl,
    )


async def test_approvals_come_from_others_and_gate_the_confirm(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    record = replace(new_record(), decision=approvals_decision(2).to_json())
    await jobs.stage(record)
    say = DECISION.command_digest
    assert await jobs.confirm(record.job_id, confirmed_by="U123", digest=say) is Confirmation.NEEDS_APPROVALS
    assert await jobs.approve(record.job_id, approver="U123", digest=say) == -3  # not the one who asked
    assert await jobs.approve(record.job_id, approver="u123", digest=say) == -3  # in no spelling
    assert await jobs.approve(record.job_id, approver="U7", digest=digest("other")) == -1
    assert await jobs.approve(record.job_id, approver="U7", digest=say) == 1
    assert await jobs.approve(record.job_id, approver="U7", digest=say) == 1  # one person counts once
    assert await jobs.confirm(record.job_id, confirmed_by="U123", digest=say) is Confirmation.NEEDS_APPROVALS
    assert await jobs.approve(record.job_id, approver="U8", digest=say) == 2
    assert await jobs.approve(record.job_id, approver="u7", digest=say) == 2  # people are matched in any case
    assert RedisJobStore(redis=sync_redis).load(record.job_id).approved_by == "u7,u8"
    assert await jobs.confirm(record.job_id, confirmed_by="U123", digest=say) is Confirmation.CONFIRMED
    assert sync_redis.llen(queue) == 1
    assert await jobs.approve(record.job_id, approver="U9", digest=say) == 0  # no longer waiting


async def test_approvals_expire(
    aio: aioredis.Redis, sync_redis: redis.Redis, celery: Celery, queue: str, new_record: NewRecord
):
    jobs = JobQueue(redis=aio, calls=QueueCalls(celery=celery, queue=queue))
    record = replace(new_record(), decision=approvals_decision(1, ttl=60).to_json())
    await jobs.stage(record)
    say = DECISION.command_digest
    assert await jobs.approve(record.job_id, approver="U7", digest=say) == 1
    # the approval was given two minutes ago: it no longer counts
    sync_redis.zadd(f"{job_key(record.job_id)}:approvals", {"u7": time.time() - 120})
    assert await jobs.confirm(record.job_id, confirmed_by="U123", digest=say) is Confirmation.NEEDS_APPROVALS
    assert sync_redis.llen(queue) == 0
    assert RedisJobStore(redis=sync_redis).load(record.job_id).approved_by == ""  # the expired one is gone
