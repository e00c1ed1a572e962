"""Cluster claims of pull requests in Redis (implements bot.ports.ClusterClaims).

``fluxops:claim:{cluster id}`` -> the holder ("github:owner/repo#12"), set only if absent, in one script
that also indexes it under ``fluxops:claims:{holder}``; releasing deletes only what the holder still has.
A pull request holds its clusters until it merges or closes, an admin unlocks them (`/flux unlock`), or
``ttl_seconds`` pass without the holder claiming them again (an abandoned pull request frees them).
"""

from __future__ import annotations

import redis

from workers.redis_jobs import as_text

_CLAIM = "fluxops:claim:"
_HELD = "fluxops:claims:"


def claim_key(cluster_id: str) -> str:
    """The key holding ``cluster_id``'s claim (the status page reads it)."""
    return _CLAIM + cluster_id.lower()


# KEYS[1] claim key, KEYS[2] holder's index; ARGV[1] holder, ARGV[2] cluster id, ARGV[3] TTL -> the holder now
_CLAIM_SCRIPT = """
local now = redis.call('GET', KEYS[1])
if now and now ~= ARGV[1] then
  return now
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return ARGV[1]
"""

# KEYS[1] claim key; ARGV[1] holder index prefix, ARGV[2] cluster id -> the holder it had, or false
_UNLOCK_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if not holder then
  return false
end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. holder, ARGV[2])
return holder
"""

#: a claim lasts this long unless its pull request claims the cluster again (FLUXOPS_CLAIM_TTL)
CLAIM_TTL_SECONDS = 7 * 24 * 3600

# KEYS[1] holder's index; ARGV[1] holder, ARGV[2] claim key prefix -> released cluster ids
_RELEASE_SCRIPT = """
local released = {}
for _, cluster in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[2] .. cluster
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    table.insert(released, cluster)
  end
end
redis.call('DEL', KEYS[1])
return released
"""


class RedisClusterClaims:
    def __init__(self, *, redis: redis.Redis, ttl_seconds: int = CLAIM_TTL_SECONDS) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._claim = redis.register_script(_CLAIM_SCRIPT)
        self._release = redis.register_script(_RELEASE_SCRIPT)
        self._unlock = redis.register_script(_UNLOCK_SCRIPT)

    def claim(self, cluster_id: str, holder: str) -> str:
        """Claim (or, for its holder, renew) ``cluster_id``; returns whoever holds it now."""
        cluster = cluster_id.lower()
        return as_text(self._claim(keys=[_CLAIM + cluster, _HELD + holder], args=[holder, cluster, self._ttl]))

    def release(self, cluster_id: str) -> str | None:
        cluster = cluster_id.lower()
        held = self._unlock(keys=[_CLAIM + cluster], args=[_HELD, cluster])
        return None if held is None else as_text(held)

    def holder(self, cluster_id: str) -> str | None:
        value = self._redis.get(_CLAIM + cluster_id.lower())
        return None if value is None else as_text(value)

    def release_all(self, holder: str) -> list[str]:
        released = self._release(keys=[_HELD + holder], args=[holder, _CLAIM])
        return sorted(as_text(c) for c in released)
