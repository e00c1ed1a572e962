"""`/flux watch` subscriptions in Redis (implements bot.ports.Subscriptions).

One set per (cluster, configuration) — ``fluxops:watch:{cluster id}|{config}`` holding channel ids — and
one index set ``fluxops:watches`` of those keys, so listing never scans the keyspace. Cluster ids and
configuration names are compared case-insensitively, as ARM does.

Selector watches (`/flux watch [NAME] --clusters env=prod`) are kept the same way: a set of channels per
``{selector}|{config}`` (config "" for every configuration) and the index set ``fluxops:watch-selectors``.

Who set each (watch, channel) up is a hash beside its set, ``fluxops:watch-by:...`` and
``fluxops:watch-selector-by:...``: channel -> the creator's identity (JSON, bot.watches). A channel of a watch
made before creators were recorded has none (bot.watches: it tells nothing until watched again).
"""

from __future__ import annotations

import builtins

import redis

from bot.policy import Identity
from bot.watches import WatchEntry, creator_from_json, creator_to_json
from workers.redis_jobs import as_text

INDEX_KEY = "fluxops:watches"
SELECTORS_KEY = "fluxops:watch-selectors"
_SELECTOR_PREFIX = "fluxops:watch-selector:"
_PREFIX = "fluxops:watch:"
_BY = "fluxops:watch-by:"
_SELECTOR_BY = "fluxops:watch-selector-by:"


def _member(cluster_id: str, config: str) -> str:
    return f"{cluster_id.lower()}|{config.lower()}"


class RedisSubscriptions:
    def __init__(self, *, redis: redis.Redis) -> None:
        self._redis = redis

    def add(self, cluster_id: str, config: str, channel: str, creator: Identity) -> bool:
        return self._add(INDEX_KEY, _PREFIX, _BY, _member(cluster_id, config), channel, creator)

    def remove(self, cluster_id: str, config: str, channel: str) -> bool:
        return self._remove(INDEX_KEY, _PREFIX, _BY, _member(cluster_id, config), channel)

    def watchers(self, cluster_id: str, config: str) -> builtins.list[WatchEntry]:
        return self._entries(_PREFIX, _BY, _member(cluster_id, config))

    def list(self, cluster_id: str | None = None) -> builtins.list[WatchEntry]:
        found = []
        for raw in self._redis.smembers(INDEX_KEY):
            member = as_text(raw)
            if cluster_id is not None and member.rpartition("|")[0] != cluster_id.lower():
                continue
            found += self._entries(_PREFIX, _BY, member)
        return sorted(found, key=_order)

    # -- selector watches --------------------------------------------------------------------------

    def add_selector(self, selector: str, config: str, channel: str, creator: Identity) -> bool:
        return self._add(
            SELECTORS_KEY, _SELECTOR_PREFIX, _SELECTOR_BY, f"{selector}|{config.lower()}", channel, creator
        )

    def remove_selector(self, selector: str, config: str, channel: str) -> bool:
        return self._remove(SELECTORS_KEY, _SELECTOR_PREFIX, _SELECTOR_BY, f"{selector}|{config.lower()}", channel)

    def selectors(self) -> builtins.list[WatchEntry]:
        found = []
        for raw in self._redis.smembers(SELECTORS_KEY):
            found += self._entries(_SELECTOR_PREFIX, _SELECTOR_BY, as_text(raw))
        return sorted(found, key=_order)

    # -- shared ------------------------------------------------------------------------------------

    def _add(self, index: str, prefix: str, by: str, member: str, channel: str, creator: Identity) -> bool:
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(prefix + member, channel)
        pipe.hset(by + member, channel, creator_to_json(creator))
        pipe.sadd(index, member)
        added, _, _ = pipe.execute()
        return bool(added)

    def _remove(self, index: str, prefix: str, by: str, member: str, channel: str) -> bool:
        pipe = self._redis.pipeline(transaction=True)
        pipe.srem(prefix + member, channel)
        pipe.hdel(by + member, channel)
        removed, _ = pipe.execute()
        if not self._redis.scard(prefix + member):
            self._redis.srem(index, member)
        return bool(removed)

    def _entries(self, prefix: str, by: str, member: str) -> builtins.list[WatchEntry]:
        where, _, config = member.rpartition("|")
        creators = {as_text(k): as_text(v) for k, v in self._redis.hgetall(by + member).items()}
        channels = sorted(as_text(c) for c in self._redis.smembers(prefix + member))
        return [WatchEntry(where, config, c, creator_from_json(creators.get(c))) for c in channels]


def _order(entry: WatchEntry) -> tuple[str, str, str]:
    return entry.where, entry.config, entry.channel
