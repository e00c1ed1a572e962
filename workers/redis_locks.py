"""One mutation per (cluster, configuration) at a time: Redis locks kept alive by a heartbeat (bot.ports.Locks).

``fluxops:lock:{key}`` holds the owner's job id with a short TTL. While the block runs, a daemon thread
extends the TTL every ``heartbeat_seconds``, so a long ARM operation keeps its lock, and a worker that
dies stops beating and its lock expires within ``ttl_seconds``. One such thread per process beats for every
lock held, in one pipelined round trip: a fleet run holds hundreds of short locks a second, and a thread
started and joined for each cost more than the write it guarded. Extending and releasing compare the owner
inside Lua first, so a job whose lock expired and was taken by another can never extend or delete it.

The same owner may take a lock it already holds: a recovered job re-enters the lock its dead worker held
(the TTL is renewed and the lock is now this process's). Nested holds by one owner in one thread (a job
runs in one) count, so only the outermost exit releases.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from bot.errors import Busy
from workers.redis_jobs import as_text

LOCK_KEY_PREFIX = "fluxops:lock:"

log = logging.getLogger(__name__)

# -> {1} taken (new, or already ours), or {0, holder, remaining ms}
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1}
end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
return {0, holder, redis.call('PTTL', KEYS[1])}
"""

_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def lock_key(key: str) -> str:
    return LOCK_KEY_PREFIX + key


class RedisLocks:
    def __init__(self, *, redis: redis.Redis, ttl_seconds: float = 30, heartbeat_seconds: float = 10) -> None:
        if not 0 < heartbeat_seconds < ttl_seconds:
            raise ValueError(
                f"lock heartbeat every {heartbeat_seconds}s cannot keep a {ttl_seconds}s TTL alive: "
                "it must be positive and shorter than the TTL"
            )
        self._redis = redis
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._ttl_seconds = ttl_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._acquire = redis.register_script(_ACQUIRE)
        self._extend = redis.register_script(_EXTEND)
        self._release = redis.register_script(_RELEASE)
        self._depth: dict[tuple[str, str], int] = {}
        self._depth_guard = threading.Lock()
        #: (lock name, owner) of every outermost hold in this process: what the heartbeat thread extends
        self._beating: set[tuple[str, str]] = set()
        self._beater: threading.Thread | None = None

    def holder(self, key: str) -> str | None:
        """The job id holding ``key`` now, or None when it is free."""
        value = self._redis.get(lock_key(key))
        return None if value is None else as_text(value)

    @contextmanager
    def hold(self, key: str, owner: str) -> Iterator[None]:
        """Hold ``key`` for ``owner`` while the block runs; raise Busy naming the holder if another has it."""
        slot = (key, owner)
        name = lock_key(key)
        with self._depth_guard:
            depth = self._depth.get(slot, 0)
            if depth:
                self._depth[slot] = depth + 1
        if depth:
            try:
                # Still ours? (Busy if it expired and another job took it.) The outer hold keeps beating.
                self._take(key, name, owner)
                yield
            finally:
                with self._depth_guard:
                    if slot in self._depth:
                        self._depth[slot] -= 1
            return

        self._take(key, name, owner)
        with self._depth_guard:
            self._depth[slot] = 1
            self._beating.add((name, owner))
            if self._beater is None or not self._beater.is_alive():  # none yet, or this process was forked
                self._beater = threading.Thread(target=self._beat, name="lock-heartbeat", daemon=True)
                self._beater.start()
        try:
            yield
        finally:
            with self._depth_guard:
                del self._depth[slot]
                self._beating.discard((name, owner))
            if not self._release(keys=[name], args=[owner]):
                log.warning("lock %s was no longer held by job %s when it ended (it expired or was taken)", key, owner)

    def _take(self, key: str, name: str, owner: str) -> None:
        reply = self._acquire(keys=[name], args=[owner, self._ttl_ms])
        if int(reply[0]) == 1:
            return
        holder = as_text(reply[1])
        remaining_ms = int(reply[2])
        retry_after = remaining_ms / 1000 if remaining_ms > 0 else self._ttl_seconds
        raise Busy(
            f"waiting for job {holder} to release {key}",
            holder=holder,
            recommendation=f"it runs after job {holder} ends; nothing to do",
            retry_after=retry_after,
        )

    def _beat(self) -> None:
        """Every ``heartbeat_seconds``: extend every lock held (a lock taken since waits at most that long)."""
        while True:
            time.sleep(self._heartbeat_seconds)
            with self._depth_guard:
                held = sorted(self._beating)
            if not held:
                continue
            try:
                with self._redis.pipeline(transaction=False) as pipe:
                    for name, owner in held:
                        self._extend(keys=[name], args=[owner, self._ttl_ms], client=pipe)
                    extended = pipe.execute()
            except redis.RedisError:
                # Keep trying: the TTL leaves room for a few missed beats.
                log.warning("could not extend %d locks", len(held), exc_info=True)
                continue
            for slot, ok in zip(held, extended, strict=True):
                if ok:
                    continue
                with self._depth_guard:
                    still_held = slot in self._beating  # else the hold ended (and released) since the snapshot
                    self._beating.discard(slot)
                if still_held:
                    log.warning("lost lock %s held by job %s (it expired or was taken); heartbeat stops", *slot)
