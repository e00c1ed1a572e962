"""Watch alert state and selector watches on a real redis-server: compare-and-set, one claim per post, the lease."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from bot.alert_views import Change
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
    assert store.put(key, None, expect=1)
    assert store.get(key) == (None, 0)


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


def test_selector_watches_are_added_listed_and_removed(client: redis.Redis) -> None:
    subscriptions = RedisSubscriptions(redis=client)
    selector = f"env=prod-{uuid.uuid4().hex[:6]}"
    assert subscriptions.add_selector(selector, "", "C1")
    assert not subscriptions.add_selector(selector, "", "C1")
    assert subscriptions.add_selector(selector, "Apps", "C2")
    mine = [s for s in subscriptions.selectors() if s[0] == selector]
    assert mine == [(selector, "", "C1"), (selector, "apps", "C2")]
    assert subscriptions.remove_selector(selector, "apps", "C2") and not subscriptions.remove_selector(
        selector, "apps", "C2"
    )
    assert [s for s in subscriptions.selectors() if s[0] == selector] == [(selector, "", "C1")]
