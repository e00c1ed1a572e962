"""Watch alert state and watches on a real redis-server: compare-and-set, the index of alerts the scan sweeps, one
claim per post, the lease, and who set each watch up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from bot.alert_views import Change
from bot.policy import Identity
from bot.watches import WatchEntry
from workers.redis_alerts import LEASE_KEY, RedisAlertStore
from workers.redis_subscriptions import RedisSubscriptions


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server)
    connection.delete(LEASE_KEY)
    yield connection
    connection.close()


def test_a_record_is_stored_only_over_the_version_it_was_read_at(client: redis.Redis) -> None:
    store, key = RedisAlertStore(redis=client), f"c-{uuid.uuid4()}|apps"
    assert store.get(key) == (None, 0)
    assert store.put(key, '{"a": 1}', expect=0)
    assert not store.put(key, '{"a": 2}', expect=0), "a second writer of the same step loses"
    assert store.get(key) == ('{"a": 1}', 1)
    assert key in store.recorded(), "the scan finds it without reading the configuration"
    assert store.put(key, None, expect=1)
    assert store.get(key) == (None, 0)
    assert key not in store.recorded()


def test_a_post_is_claimed_once_and_a_failed_one_given_back(client: redis.Redis) -> None:
    store, incident = RedisAlertStore(redis=client), uuid.uuid4().hex
    assert store.claim_post(incident, "C1") and not store.claim_post(incident, "C1")
    assert store.posts(incident) == {"C1": ""}
    store.save_post(incident, "C1", "123.4")
    assert store.claim_post(incident, "C2")
    store.release_post(incident, "C2")
    assert store.posts(incident) == {"C1": "123.4"} and store.claim_post(incident, "C2")
    store.note_change("k", Change("github:octocat", "push of abc to main", 5.0))
    assert store.last_change("k") == Change("github:octocat", "push of abc to main", 5.0)


def test_one_scanner_holds_the_lease(client: redis.Redis) -> None:
    first, second = RedisAlertStore(redis=client), RedisAlertStore(redis=client)
    assert first.lease("w1", 30) and first.lease("w1", 30), "the holder renews"
    assert not second.lease("w2", 30)
    second.release_lease("w2")  # not the holder's: nothing happens
    assert not second.lease("w2", 30)
    first.release_lease("w1")
    assert second.lease("w2", 30)


ALICE = Identity("slack", "UALICE", frozenset({"S0PLATFORM"}))
BOB = Identity("slack", "UBOB")


def test_selector_watches_are_added_listed_and_removed_with_their_creators(client: redis.Redis) -> None:
    subscriptions = RedisSubscriptions(redis=client)
    selector = f"env=prod-{uuid.uuid4().hex[:6]}"
    assert subscriptions.add_selector(selector, "", "C1", ALICE)
    assert not subscriptions.add_selector(selector, "", "C1", ALICE)
    assert subscriptions.add_selector(selector, "Apps", "C2", BOB)
    mine = [s for s in subscriptions.selectors() if s.where == selector]
    assert mine == [WatchEntry(selector, "", "C1", ALICE), WatchEntry(selector, "apps", "C2", BOB)]
    assert subscriptions.remove_selector(selector, "apps", "C2") and not subscriptions.remove_selector(
        selector, "apps", "C2"
    )
    assert [s for s in subscriptions.selectors() if s.where == selector] == [WatchEntry(selector, "", "C1", ALICE)]


def test_a_cluster_watch_keeps_its_last_creator_and_one_from_before_creators_has_none(client: redis.Redis) -> None:
    subscriptions = RedisSubscriptions(redis=client)
    cluster = f"/subscriptions/s/resourcegroups/rg/providers/x/y/c-{uuid.uuid4().hex[:6]}"
    assert subscriptions.add(cluster, "apps", "C1", ALICE)
    assert not subscriptions.add(cluster, "apps", "C1", BOB), "watched again: the creator is the last one"
    client.sadd(f"fluxops:watch:{cluster}|apps", "COLD")  # as a watch stored before creators were recorded
    assert subscriptions.watchers(cluster, "Apps") == [
        WatchEntry(cluster, "apps", "C1", BOB),
        WatchEntry(cluster, "apps", "COLD", None),
    ]
    assert subscriptions.remove(cluster, "apps", "C1") and subscriptions.remove(cluster, "apps", "COLD")
    assert subscriptions.list(cluster) == [] and not client.exists(f"fluxops:watch-by:{cluster}|apps")
