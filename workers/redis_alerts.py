"""Watch alerts in Redis (implements bot.ports.AlertStore).

- ``fluxops:alert:{cluster id}|{config}``: a hash ``record`` (JSON) + ``version``; ``put`` is a compare-and-set
  (one Lua script), so of two workers that read the same version only one stores the next step. The same script
  keeps ``fluxops:alerts``, the set of those keys, which the scan sweeps for alerts it did not read.
- ``fluxops:alert-posts:{incident}``: channel -> Slack ts ("" while a post is claimed: HSETNX claims it once).
  Kept a week after the incident ends.
- ``fluxops:alert-change:{cluster id}|{config}``: the last push traced to the configuration (JSON), for a month.
- ``fluxops:watch-scan-lease``: the owner of the shared scan, with a time to live.
"""

from __future__ import annotations

import json

import redis

from bot.alert_views import Change
from workers.redis_jobs import as_text

_RECORD = "fluxops:alert:"
INDEX_KEY = "fluxops:alerts"
_POSTS = "fluxops:alert-posts:"
_CHANGE = "fluxops:alert-change:"
LEASE_KEY = "fluxops:watch-scan-lease"
POSTS_KEPT = 7 * 24 * 3600
CHANGE_KEPT = 30 * 24 * 3600

# KEYS[1] record key, KEYS[2] the index; ARGV[1] expected version, ARGV[2] "1" to store / "0" to delete,
# ARGV[3] the record, ARGV[4] the key as the index names it
_CAS = """
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'record', ARGV[3], 'version', version + 1)
  redis.call('SADD', KEYS[2], ARGV[4])
else
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[4])
end
return 1
"""
# KEYS[1] lease key; ARGV[1] owner, ARGV[2] milliseconds
_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisAlertStore:
    def __init__(self, *, redis: redis.Redis) -> None:
        self._redis = redis
        self._cas = redis.register_script(_CAS)
        self._lease = redis.register_script(_LEASE)
        self._release = redis.register_script(_RELEASE)

    def get(self, key: str) -> tuple[str | None, int]:
        record, version = self._redis.hmget(_RECORD + key, ["record", "version"])
        return (as_text(record) if record is not None else None), int(version or 0)

    def put(self, key: str, record: str | None, *, expect: int) -> bool:
        args = [expect, "1" if record is not None else "0", record or "", key]
        return bool(self._cas(keys=[_RECORD + key, INDEX_KEY], args=args))

    def recorded(self) -> list[str]:
        return sorted(as_text(k) for k in self._redis.smembers(INDEX_KEY))

    def claim_post(self, incident: str, channel: str) -> bool:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hsetnx(_POSTS + incident, channel, "")
        pipe.expire(_POSTS + incident, POSTS_KEPT * 4)
        claimed, _ = pipe.execute()
        return bool(claimed)

    def save_post(self, incident: str, channel: str, ts: str) -> None:
        self._redis.hset(_POSTS + incident, channel, ts)

    def release_post(self, incident: str, channel: str) -> None:
        self._redis.hdel(_POSTS + incident, channel)

    def posts(self, incident: str) -> dict[str, str]:
        return {as_text(k): as_text(v) for k, v in self._redis.hgetall(_POSTS + incident).items()}

    def forget_posts(self, incident: str) -> None:
        self._redis.expire(_POSTS + incident, POSTS_KEPT)

    def note_change(self, key: str, change: Change) -> None:
        payload = json.dumps({"actor": change.actor, "summary": change.summary, "at": change.at})
        self._redis.set(_CHANGE + key, payload, ex=CHANGE_KEPT)

    def last_change(self, key: str) -> Change | None:
        raw = self._redis.get(_CHANGE + key)
        if raw is None:
            return None
        data = json.loads(as_text(raw))
        return Change(actor=str(data["actor"]), summary=str(data["summary"]), at=float(data["at"]))

    def lease(self, owner: str, seconds: float) -> bool:
        return bool(self._lease(keys=[LEASE_KEY], args=[owner, max(1, int(seconds * 1000))]))

    def release_lease(self, owner: str) -> None:
        self._release(keys=[LEASE_KEY], args=[owner])
