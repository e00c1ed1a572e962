"""Cluster claims of pull requests on a real redis-server: one holder, renewal, expiry, unlock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from workers.redis_claims import RedisClusterClaims

PR1, PR2 = "https://github.com/o/fleet/pull/1", "https://github.com/o/fleet/pull/2"


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server)
    yield connection
    connection.close()


def cluster() -> str:
    return f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/{uuid.uuid4()}"


def test_one_holder_at_a_time_and_the_holder_renews(client: redis.Redis) -> None:
    claims = RedisClusterClaims(redis=client, ttl_seconds=100)
    target = cluster()
    assert claims.claim(target, PR1) == PR1
    assert claims.claim(target, PR2) == PR1
    client.expire(f"fluxops:claim:{target.lower()}", 5)
    assert claims.claim(target, PR1) == PR1  # claiming again renews the claim's life
    assert 90 < client.ttl(f"fluxops:claim:{target.lower()}") <= 100
    assert claims.holder(target) == PR1


def test_a_claim_expires(client: redis.Redis) -> None:
    claims = RedisClusterClaims(redis=client, ttl_seconds=1)
    target = cluster()
    assert claims.claim(target, PR1) == PR1
    time.sleep(1.2)
    assert claims.holder(target) is None
    assert claims.claim(target, PR2) == PR2


def test_unlock_releases_whoever_holds_it(client: redis.Redis) -> None:
    claims = RedisClusterClaims(redis=client)
    target, other = cluster(), cluster()
    claims.claim(target, PR1)
    claims.claim(other, PR1)
    assert claims.release(target) == PR1
    assert claims.release(target) is None
    assert claims.claim(target, PR2) == PR2
    # the first pull request's release leaves the second's claim alone
    assert claims.release_all(PR1) == [other.lower()]
    assert claims.holder(target) == PR2
