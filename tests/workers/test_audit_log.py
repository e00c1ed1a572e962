"""The audit log on a real redis-server: once per (job, result kind), newest first, since/cluster/limit filters."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import redis

from bot.views import AuditEntry
from workers.audit_log import RedisAuditLog


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server, decode_responses=True)
    yield connection
    connection.close()


@pytest.fixture
def stream(client: redis.Redis) -> Iterator[str]:
    name = f"test:audit:{uuid.uuid4().hex[:8]}"
    yield name
    client.delete(name)


@pytest.fixture
def audit(client: redis.Redis, stream: str) -> RedisAuditLog:
    return RedisAuditLog(redis=client, stream=stream)


def entry(job_id: str, result: str = "succeeded", cluster: str = "prod-weu", **changes: str) -> AuditEntry:
    values = {
        "id": "ignored",
        "time": "2024-05-01T12:00:00Z",
        "actor": "slack:U123",
        "origin": "slack:C42",
        "command": f"config delete apps -c {cluster}",
        "cluster": cluster,
        "job_id": job_id,
        "result": result,
        "cluster_id": f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/managedClusters/{cluster}",
    }
    return AuditEntry(**{**values, **changes})


def test_append_is_once_per_job_and_result_kind(client: redis.Redis, stream: str, audit: RedisAuditLog):
    assert audit.append(entry("j-1", "failed: ARM answered 409 Conflict")) is True
    # a redelivered job reaching the same outcome (its message may differ) writes nothing
    assert audit.append(entry("j-1", "failed: ARM answered 500")) is False
    assert audit.append(entry("j-1", "failed: ARM answered 409 Conflict")) is False
    assert audit.append(entry("j-1", "succeeded")) is True  # another kind of outcome of the same job
    assert audit.append(entry("j-2", "failed: ARM answered 409 Conflict")) is True
    assert client.xlen(stream) == 3


def test_read_returns_what_was_written_newest_first(audit: RedisAuditLog):
    audit.append(entry("j-1", time="2024-05-01T14:00:00+02:00"))
    audit.append(entry("j-2", "refused: viewer may not delete", actor="slack:U9"))
    first, second = audit.read(since_seconds=60)[:2]
    assert [first.job_id, second.job_id] == ["j-2", "j-1"]
    assert first.id != "ignored" and first.id > second.id  # the stream assigned the ids
    assert second == replace(entry("j-1"), id=second.id, time="2024-05-01T12:00:00Z")  # normalized to UTC
    assert (first.actor, first.result) == ("slack:U9", "refused: viewer may not delete")
    assert first.cluster_id.endswith("/managedClusters/prod-weu")  # the cluster's ARM id is kept


def test_an_entry_without_time_gets_now(audit: RedisAuditLog):
    audit.append(entry("j-1", time=""))
    [read] = audit.read(since_seconds=60)
    written = datetime.fromisoformat(read.time.replace("Z", "+00:00"))
    assert read.time.endswith("Z") and abs((datetime.now(UTC) - written).total_seconds()) < 5


def test_since_skips_older_entries(client: redis.Redis, stream: str, audit: RedisAuditLog):
    two_hours_ago = int((time.time() - 7200) * 1000)
    client.xadd(
        stream, {"time": "2024-05-01T10:00:00Z", "job_id": "j-old", "cluster": "prod-weu"}, id=f"{two_hours_ago}-0"
    )
    audit.append(entry("j-new"))
    assert [e.job_id for e in audit.read(since_seconds=3600)] == ["j-new"]
    assert [e.job_id for e in audit.read(since_seconds=3 * 3600)] == ["j-new", "j-old"]
    assert audit.read(since_seconds=3 * 3600)[1].cluster_id == ""  # written before entries carried the id


def test_cluster_filter_ignores_case_and_limit_counts_matches(audit: RedisAuditLog):
    for n in range(150):
        audit.append(entry(f"j-{n}", cluster="prod-weu" if n % 10 == 0 else "staging"))
    prod = audit.read(since_seconds=60, cluster="PROD-WEU", limit=20)
    assert [e.job_id for e in prod] == [f"j-{n}" for n in range(140, -1, -10)]  # all 15, across pages
    assert [e.job_id for e in audit.read(since_seconds=60, cluster="prod-weu", limit=3)] == ["j-140", "j-130", "j-120"]
    assert len(audit.read(since_seconds=60)) == 20  # the default limit
    assert [e.job_id for e in audit.read(since_seconds=60, limit=2)] == ["j-149", "j-148"]
    assert audit.read(since_seconds=60, cluster="nowhere") == []


def test_the_stream_is_capped(client: redis.Redis, stream: str):
    audit = RedisAuditLog(redis=client, stream=stream, maxlen=10)
    for n in range(400):
        audit.append(entry(f"j-{n}"))
    assert client.xlen(stream) < 400  # approximately maxlen: Redis trims whole nodes


def test_entries_without_a_job_id_are_always_written(client: redis.Redis, stream: str, audit: RedisAuditLog):
    assert audit.append(entry("", "refused: not allowed")) is True
    assert audit.append(entry("", "refused: not allowed")) is True
    assert client.xlen(stream) == 2
