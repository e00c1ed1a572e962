"""Per-(cluster, configuration) locks on a real redis-server: busy holders, re-entrance, heartbeat, expiry."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.errors import Busy
from workers.redis_locks import RedisLocks, lock_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server)
    yield connection
    connection.close()


@pytest.fixture
def key() -> str:
    return f"prod-weu/apps-{uuid.uuid4().hex[:8]}"


def test_hold_takes_and_releases(client: redis.Redis, key: str):
    locks = RedisLocks(redis=client)
    assert locks.holder(key) is None
    with locks.hold(key, "j-1"):
        assert locks.holder(key) == "j-1"
        assert 0 < client.pttl(lock_key(key)) <= 30_000
    assert locks.holder(key) is None


def test_busy_names_the_holder(client: redis.Redis, key: str):
    locks = RedisLocks(redis=client, ttl_seconds=20, heartbeat_seconds=5)
    with locks.hold(key, "j-1"):
        with pytest.raises(Busy) as raised, locks.hold(key, "j-2"):
            pytest.fail("j-2 must not get a lock j-1 holds")
        busy = raised.value
        assert busy.holder == "j-1" and "j-1" in busy.message and key in busy.message
        assert busy.recommendation == "it runs after job j-1 ends; nothing to do"
        assert busy.retryable and busy.retry_after is not None and 0 < busy.retry_after <= 20
        assert locks.holder(key) == "j-1"  # the refused job changed nothing
    assert locks.holder(key) is None


def test_the_same_owner_re_enters(client: redis.Redis, key: str):
    locks = RedisLocks(redis=client)
    with locks.hold(key, "j-1"):
        with locks.hold(key, "j-1"):
            assert locks.holder(key) == "j-1"
        assert locks.holder(key) == "j-1"  # the inner exit did not release the outer hold
    assert locks.holder(key) is None


def test_a_recovered_job_takes_over_its_dead_workers_lock(client: redis.Redis, key: str):
    client.set(lock_key(key), "j-1", px=30_000)  # left by the dead worker, still within its TTL
    recovered = RedisLocks(redis=client, ttl_seconds=10, heartbeat_seconds=2)
    with recovered.hold(key, "j-1"):
        assert recovered.holder(key) == "j-1" and client.pttl(lock_key(key)) <= 10_000
    assert recovered.holder(key) is None


def test_heartbeat_keeps_the_lock_past_its_ttl(client: redis.Redis, key: str):
    locks = RedisLocks(redis=client, ttl_seconds=0.3, heartbeat_seconds=0.1)
    with locks.hold(key, "j-1"):
        time.sleep(1.0)  # more than three TTLs
        assert locks.holder(key) == "j-1"
        with pytest.raises(Busy), locks.hold(key, "j-2"):
            pass
    assert locks.holder(key) is None


def test_a_dead_holders_lock_expires(client: redis.Redis, redis_server: str, key: str, tmp_path: Path):
    holder = textwrap.dedent(f"""
        import sys, time, redis
        from workers.redis_locks import RedisLocks
        locks = RedisLocks(redis=redis.Redis.from_url({redis_server!r}), ttl_seconds=0.5, heartbeat_seconds=0.1)
        with locks.hold({key!r}, "j-dead"):
            print("held", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", holder],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        locks = RedisLocks(redis=client, ttl_seconds=5, heartbeat_seconds=1)
        time.sleep(0.8)
        assert locks.holder(key) == "j-dead"  # its heartbeat kept it past the TTL while it lived
        proc.send_signal(signal.SIGKILL)  # no exit handler runs: the lock is never released
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while locks.holder(key) is not None:
            assert time.monotonic() < deadline, "the dead holder's lock never expired"
            time.sleep(0.05)
        with locks.hold(key, "j-next"):
            assert locks.holder(key) == "j-next"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_release_and_heartbeat_only_by_the_owner(client: redis.Redis, key: str, caplog: pytest.LogCaptureFixture):
    locks = RedisLocks(redis=client, ttl_seconds=0.5, heartbeat_seconds=0.1)
    with caplog.at_level(logging.WARNING, logger="workers.redis_locks"), locks.hold(key, "j-1"):
        # j-1 stalled past its TTL; the lock expired and j-2 took it
        client.set(lock_key(key), "j-2", px=10_000)
        # j-1's next beat finds j-2 there, leaves its lock alone and stops: wait for that, then look
        deadline = time.monotonic() + 5
        while not any("heartbeat stops" in r.getMessage() and "j-1" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "j-1's heartbeat never noticed it lost the lock"
            time.sleep(0.02)
        assert client.get(lock_key(key)) == b"j-2" and client.pttl(lock_key(key)) > 5_000
    assert locks.holder(key) == "j-2"  # j-1's exit did not delete it
    assert client.pttl(lock_key(key)) > 5_000


def test_heartbeat_must_be_shorter_than_the_ttl(client: redis.Redis):
    with pytest.raises(ValueError, match="shorter than the TTL"):
        RedisLocks(redis=client, ttl_seconds=5, heartbeat_seconds=5)
