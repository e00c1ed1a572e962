"""One sandbox with replicas for this package's scenarios: 2 webs, 2 workers and 2 beats (the Procfile's lines)
on a redis-server of its own, so killing its processes disturbs no other scenario's stack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from tests.scenarios.conftest import SCENARIO
from tests.scenarios.replicas.replica_stack import ReplicaStack, ReplicaStackThread

REPLICAS = ("web-1", "web-2", "worker-1", "worker-2", "beat-1", "beat-2")
OPTIONS = replace(
    SCENARIO,
    sandbox=replace(SCENARIO.sandbox, fleet=0),
    processes=(),  # the replicas are started by name instead
    extra_env={
        **SCENARIO.extra_env,
        # the recovery sweep every second, and the beat that sends it replaced within 3 s of its death
        "FLUXOPS_RECOVER_INTERVAL": "1",
        "FLUXOPS_BEAT_LOCK_TTL": "3",
        # a worker told to stop gives its running jobs 2 s, then hands them back to the queue
        "FLUXOPS_WORKER_SOFT_SHUTDOWN_TIMEOUT": "2",
    },
)


@pytest.fixture(scope="package")
def replica_thread() -> Iterator[ReplicaStackThread]:
    runner = ReplicaStackThread(OPTIONS, REPLICAS)
    runner.start()
    yield runner
    runner.stop()


@pytest.fixture
def replicas(replica_thread: ReplicaStackThread) -> ReplicaStack:
    stack = replica_thread.stack
    assert isinstance(stack, ReplicaStack)
    return stack


@pytest.fixture
def redis_client(replicas: ReplicaStack) -> redis.Redis:
    assert replicas.redis is not None
    return redis.Redis.from_url(replicas.redis.url, decode_responses=True)
