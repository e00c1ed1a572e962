"""Job records, progress and liveness on a real redis-server; the recovery sweep's requeue guards."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from celery import Celery

from bot.decision import Decision, digest
from bot.errors import NotFound
from bot.jobs import Confirmation, JobRecord
from workers.job_queue import QueueCalls, SyncJobQueue
from workers.redis_jobs import ACTIVE_JOBS_KEY, RedisJobStore, job_key


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def client(request: pytest.FixtureRequest, redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server, decode_responses=request.param)
    yield connection
    connection.close()


@pytest.fixture
def store(client: redis.Redis) -> RedisJobStore:
    return RedisJobStore(redis=client, ttl_seconds=3600)


def new_record(**changes: str) -> JobRecord:
    values = {"job_id": f"j-{uuid.uuid4().hex[:12]}", "text": "config delete apps -c prod-weu", "platform": "slack"}
    return JobRecord(**{**values, "actor": "U123", "channel": "C42", **changes}, created_at=1700000000.5)


def write(client: redis.Redis, record: JobRecord, **progress: str) -> None:
    """What the web process writes (handlers/enqueue.py): the record fields plus p:-prefixed progress."""
    for field, value in [*record.to_mapping().items(), *((f"p:{k}", v) for k, v in progress.items())]:
        client.hset(job_key(record.job_id), field, value)


def test_load_returns_the_record_without_progress_fields(client: redis.Redis, store: RedisJobStore):
    record = new_record()
    write(client, record, phase="queued", ts="1700000000.000100")
    assert store.load(record.job_id) == record


def test_load_of_an_unknown_job_says_which_job(store: RedisJobStore):
    with pytest.raises(NotFound) as raised:
        store.load("j-nope")
    assert "j-nope" in raised.value.message and raised.value.recommendation


def test_progress_lives_under_p_prefix_and_renews_the_ttl(client: redis.Redis, store: RedisJobStore):
    record = new_record()
    write(client, record)
    assert store.get(record.job_id, "token") is None
    store.put(record.job_id, "token", "lro-123")
    store.put(record.job_id, "ts", "1700000000.000100")
    assert store.get(record.job_id, "token") == "lro-123"
    raw = client.hgetall(job_key(record.job_id))
    assert {k.decode() if isinstance(k, bytes) else k for k in raw} >= {"p:token", "p:ts", "job_id", "text"}
    assert 3500 < client.ttl(job_key(record.job_id)) <= 3600
    assert store.load(record.job_id) == record  # progress never leaks into the record


def test_put_many_writes_every_value_in_chunks_and_keeps_a_short_life(client: redis.Redis, store: RedisJobStore):
    record = new_record()
    write(client, record)
    client.expire(job_key(record.job_id), 60)  # a short life (a refused job's) is never lengthened
    values = {f"op:{i}": f"v{i}" for i in range(2 * RedisJobStore.PUT_CHUNK + 3)}
    store.put_many(record.job_id, values)
    store.put_many(record.job_id, {})
    assert {key: store.get(record.job_id, key) for key in values} == values
    assert 0 < client.ttl(job_key(record.job_id)) <= 60
    store.put_many("j-fresh", {"a": "1", "b": "2"})  # a record without a life gets one
    assert store.get("j-fresh", "b") == "2"
    assert 3500 < client.ttl(job_key("j-fresh")) <= 3600


def test_phase_helpers(client: redis.Redis, store: RedisJobStore):
    record = new_record()
    write(client, record, phase="queued")
    assert store.phase(record.job_id) == "queued"
    store.set_phase(record.job_id, "running")
    assert store.phase(record.job_id) == "running" == store.get(record.job_id, "phase")
    assert store.phase("j-unknown") is None


def test_heartbeat_stale_and_finish(client: redis.Redis, store: RedisJobStore):
    alive, dead = new_record(), new_record()
    store.heartbeat(dead.job_id)
    time.sleep(0.3)
    store.heartbeat(alive.job_id)
    stale = store.stale(0.2)
    assert dead.job_id in stale and alive.job_id not in stale
    score = client.zscore(ACTIVE_JOBS_KEY, alive.job_id)
    assert score is not None and abs(score - time.time()) < 5  # server time, in seconds
    store.finish(dead.job_id)
    store.finish(alive.job_id)
    assert dead.job_id not in store.stale(0)
    assert client.zscore(ACTIVE_JOBS_KEY, alive.job_id) is None


def queued(client: redis.Redis, queue: str) -> list[dict[str, object]]:
    return [json.loads(item) for item in client.lrange(queue, 0, -1)]


def test_requeue_pushes_the_job_again_and_renews_its_heartbeat(client: redis.Redis, store: RedisJobStore):
    celery = Celery(broker="redis://127.0.0.1:1/0")
    queue = f"test-requeue-{uuid.uuid4().hex[:8]}"
    record = new_record()
    write(client, record, phase="running")
    client.zadd(ACTIVE_JOBS_KEY, {record.job_id: 1.0})  # its worker died long ago
    assert record.job_id in store.stale(60)

    assert SyncJobQueue(redis=client, calls=QueueCalls(celery=celery, queue=queue)).requeue(record.job_id) is True
    [message] = queued(client, queue)
    headers = message["headers"]
    assert isinstance(headers, dict)
    assert headers["task"] == "fluxops.job.run" and headers["id"] == record.job_id
    assert record.job_id not in store.stale(60)  # the next sweep leaves it alone while it waits
    store.finish(record.job_id)
    client.delete(queue)


@pytest.mark.parametrize("phase", ["succeeded", "failed", "timed_out", "canceled", "awaiting_confirmation", None])
def test_requeue_refuses_jobs_that_must_not_run(client: redis.Redis, store: RedisJobStore, phase: str | None):
    celery = Celery(broker="redis://127.0.0.1:1/0")
    queue = f"test-requeue-{uuid.uuid4().hex[:8]}"
    record = new_record()
    if phase is not None:
        write(client, record, phase=phase)
    client.zadd(ACTIVE_JOBS_KEY, {record.job_id: 1.0})
    assert SyncJobQueue(redis=client, calls=QueueCalls(celery=celery, queue=queue)).requeue(record.job_id) is False
    assert client.llen(queue) == 0
    if phase != "awaiting_confirmation":
        assert client.zscore(ACTIVE_JOBS_KEY, record.job_id) is None  # ended or unknown: dropped
    store.finish(record.job_id)


def test_requeue_leaves_a_queued_job_no_worker_took_but_requeues_one_a_dead_worker_took(
    client: redis.Redis, store: RedisJobStore
) -> None:
    celery = Celery(broker="redis://127.0.0.1:1/0")
    queue = f"test-requeue-{uuid.uuid4().hex[:8]}"
    jobs = SyncJobQueue(redis=client, calls=QueueCalls(celery=celery, queue=queue))
    waiting, taken = new_record(), new_record()
    for record in (waiting, taken):
        write(client, record, phase="queued")
        client.zadd(ACTIVE_JOBS_KEY, {record.job_id: 1.0})  # enqueued long ago, no heartbeat since
    # the worker that took it was killed before the job left 'queued': its message sits in the broker's unacked set
    store.take(taken.job_id, f"{taken.job_id}@host:123:abcd")
    client.zadd(ACTIVE_JOBS_KEY, {taken.job_id: 1.0})

    assert jobs.requeue(waiting.job_id) is False, "still in the queue: another copy would run it twice in a row"
    assert client.llen(queue) == 0
    assert client.zscore(ACTIVE_JOBS_KEY, waiting.job_id) == 1.0, "still active: a later sweep looks again"
    assert jobs.requeue(taken.job_id) is True
    [message] = queued(client, queue)
    assert isinstance(message["headers"], dict) and message["headers"]["id"] == taken.job_id
    assert store.get(taken.job_id, "taken_by") == f"{taken.job_id}@host:123:abcd"
    for record in (waiting, taken):
        store.finish(record.job_id)
    client.delete(queue)


def test_a_job_confirmed_after_its_worker_staged_it_waits_in_the_queue_untaken(
    client: redis.Redis, store: RedisJobStore
) -> None:
    """A worker takes the job and stops it at its Confirm button; once confirmed, it waits in the queue again,
    and a backlog longer than the staleness threshold must not have every sweep push another copy of it."""
    celery = Celery(broker="redis://127.0.0.1:1/0")
    queue = f"test-requeue-{uuid.uuid4().hex[:8]}"
    jobs = SyncJobQueue(redis=client, calls=QueueCalls(celery=celery, queue=queue))
    text = "config delete apps -c prod-weu"
    decision = Decision(text=text, command_digest=digest(text), platform="slack", user="U123", role="admin")
    record = replace(new_record(), decision=decision.to_json())
    write(client, record, phase="queued")
    store.take(record.job_id, f"{record.job_id}@host:123:abcd")
    store.set_phase(record.job_id, "awaiting_confirmation")  # what the worker does at the Confirm button
    store.finish(record.job_id)

    assert jobs.confirm(record.job_id, "U7", decision.command_digest) is Confirmation.CONFIRMED
    assert client.llen(queue) == 1
    client.zadd(ACTIVE_JOBS_KEY, {record.job_id: 1.0})  # the backlog outlasted the staleness threshold
    assert record.job_id in store.stale(60)
    assert jobs.requeue(record.job_id) is False, "its one message still waits in the queue"
    assert client.llen(queue) == 1
    assert store.phase(record.job_id) == "queued" and store.get(record.job_id, "taken_by") is None

    store.take(record.job_id, f"{record.job_id}@host:456:abcd")  # a worker takes it, and dies before it runs
    assert jobs.requeue(record.job_id) is True
    store.finish(record.job_id)
    client.delete(queue)


@pytest.mark.parametrize(
    ("progress", "resumed"),
    [
        ({"phase": "halted", "run:plan": "{}", "run:started": "1", "run:cancel": "slack:U1"}, True),
        ({"phase": "canceled", "run:plan": "{}", "run:started": "1"}, True),
        ({"phase": "failed", "run:plan": "{}", "run:started": "1"}, True),
        # a fleet run canceled before its Confirm never started: it stays canceled
        ({"phase": "canceled", "run:plan": "{}"}, False),
        ({"phase": "running", "run:plan": "{}", "run:started": "1"}, False),
        ({"phase": "succeeded", "run:plan": "{}", "run:started": "1"}, False),
        ({"phase": "halted"}, False),
    ],
)
def test_resume_queues_only_a_fleet_run_that_started_and_stopped(
    client: redis.Redis, store: RedisJobStore, progress: dict[str, str], resumed: bool
) -> None:
    celery = Celery(broker="redis://127.0.0.1:1/0")
    queue = f"test-resume-{uuid.uuid4().hex[:8]}"
    record = new_record()
    write(client, record, **progress, taken_by=f"{record.job_id}@host:123:abcd")
    jobs = SyncJobQueue(redis=client, calls=QueueCalls(celery=celery, queue=queue))
    assert jobs.resume(record.job_id) is resumed
    assert client.llen(queue) == (1 if resumed else 0)
    if resumed:
        assert store.get(record.job_id, "phase") == "queued"
        assert store.get(record.job_id, "run:cancel") is None
        # queued and untaken: a sweep while it waits in a backlog pushes no second copy
        client.zadd(ACTIVE_JOBS_KEY, {record.job_id: 1.0})
        assert jobs.requeue(record.job_id) is False
        assert client.llen(queue) == 1
    store.finish(record.job_id)
    client.delete(queue)
