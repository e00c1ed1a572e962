"""`/flux watch` subscriptions in Redis (implements bot.ports.Subscriptions).

One set per (cluster, configuration) — ``fluxops:watch:{cluster id}|{config}`` holding channel ids — and
one index set ``fluxops:watches`` of those keys, so listing never scans the keyspace. Cluster ids and
configuration names are compared case-insensitively, as ARM does.

Selector watches (`/flux watch [NAME] --clusters env=prod`) are kept the same way: a set of channels per
``{selector}|{config}`` (config "" for every configuration) and the index set ``fluxops:watch-selectors``.
"""

from __future__ import annotations

import builtins

import redis

from workers.redis_jobs import as_text

INDEX_KEY = "fluxops:watches"
SELECTORS_KEY = "fluxops:watch-selectors"
_SELECTOR_PREFIX = "fluxops:watch-selector:"
_PREFIX = "fluxops:watch:"


def _member(cluster_id: str, config: str) -> str:
    return f"{cluster_id.lower()}|{config.lower()}"


class RedisSubscriptions:
    def __init__(self, *, redis: redis.Redis) -> None:
        self._redis = redis

    def add(self, cluster_id: str, config: str, channel: str) -> bool:
        member = _member(cluster_id, config)
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(_PREFIX + member, channel)
        pipe.sadd(INDEX_KEY, member)
        added, _ = pipe.execute()
        return bool(added)

    def remove(self, cluster_id: str, config: str, channel: str) -> bool:
        member = _member(cluster_id, config)
        removed = bool(self._redis.srem(_PREFIX + member, channel))
        if not self._redis.scard(_PREFIX + member):
            self._redis.srem(INDEX_KEY, member)
        return removed

    def channels(self, cluster_id: str, config: str) -> set[str]:
        return {as_text(c) for c in self._redis.smembers(_PREFIX + _member(cluster_id, config))}

    def list(self, cluster_id: str | None = None) -> list[tuple[str, str, str]]:
        found = []
        for raw in self._redis.smembers(INDEX_KEY):
            member = as_text(raw)
            cluster, _, config = member.rpartition("|")
            if cluster_id is not None and cluster != cluster_id.lower():
                continue
            found += [(cluster, config, as_text(c)) for c in self._redis.smembers(_PREFIX + member)]
        return sorted(found)

    # -- selector watches --------------------------------------------------------------------------

    def add_selector(self, selector: str, config: str, channel: str) -> bool:
        member = f"{selector}|{config.lower()}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(_SELECTOR_PREFIX + member, channel)
        pipe.sadd(SELECTORS_KEY, member)
        added, _ = pipe.execute()
        return bool(added)

    def remove_selector(self, selector: str, config: str, channel: str) -> bool:
        member = f"{selector}|{config.lower()}"
        removed = bool(self._redis.srem(_SELECTOR_PREFIX + member, channel))
        if not self._redis.scard(_SELECTOR_PREFIX + member):
            self._redis.srem(SELECTORS_KEY, member)
        return removed

    def selectors(self) -> builtins.list[tuple[str, str, str]]:
        found = []
        for raw in self._redis.smembers(SELECTORS_KEY):
            member = as_text(raw)
            selector, _, config = member.rpartition("|")
            found += [(selector, config, as_text(c)) for c in self._redis.smembers(_SELECTOR_PREFIX + member)]
        return sorted(found)
