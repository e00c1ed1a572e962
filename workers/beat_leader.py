"""Celery beat as a singleton however many beats run: only the holder of a Redis lease sends scheduled tasks.

Kubernetes runs beat with 2 replicas so a lost node does not stop the schedule; two beats sending would
double every sweep. Each tick first takes or renews the lease ``fluxops:beat:leader`` (one Lua step: SET NX,
or extend it when it is already ours); a beat that holds it ticks as Celery's own scheduler does, the other
stands by and asks again every third of the TTL. A leader renews at least that often, so a live leader keeps
the lease and a dead one (kill -9, lost node) loses it within ``ttl`` seconds; a leader that stops cleanly
hands it over at once.

The schedule lives in memory (Celery's base ``Scheduler``, not the shelve file of ``PersistentScheduler``):
containers run with a read-only root filesystem, and a local file could not be shared between beats anyway.
A beat that takes over sends the entries due since it started, once: the scheduled tasks are sweeps that
are safe to run again early.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

import redis
from celery import Celery
from celery.beat import Scheduler
from redis.backoff import NoBackoff
from redis.retry import Retry

#: the lease's key; its value names the beat holding it
LEADER_KEY = "fluxops:beat:leader"
#: the app.conf key make_celery sets from FLUXOPS_BEAT_LOCK_TTL
TTL_CONF_KEY = "fluxops_beat_lock_ttl"
DEFAULT_TTL = 30.0
#: the longest one lease check may wait on Redis (connect, or a reply)
LEASE_SOCKET_TIMEOUT = 5.0

log = logging.getLogger(__name__)

# KEYS[1] lease, ARGV[1] this beat, ARGV[2] TTL in ms -> 1 when the lease is this beat's (taken or renewed), else 0
_TAKE_OR_RENEW = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def beat_identity() -> str:
    """A name for this beat process, unique even when two pods share a hostname."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_client(broker_url: str, *, check_every: float) -> redis.Redis:
    """The lease's own Redis client: a check never waits longer than ``check_every`` (at most 5 s) for Redis.

    Without timeouts a half-open connection (a Redis failover, a lost node) blocks ``hold()`` for ever, and
    with it the whole beat. A check is not retried either: the next tick asks again, and until then this beat
    does not know it leads, so it sends nothing. A connection idle for a TTL is pinged before it is used.
    """
    timeout = min(LEASE_SOCKET_TIMEOUT, check_every)
    return redis.Redis.from_url(
        broker_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=max(1, round(check_every * 3)),
        retry=Retry(NoBackoff(), 0),
    )


class LeaderLease:
    """A Redis lease one of many holders has at a time; ``hold()`` takes it or renews it, never waits."""

    def __init__(self, *, client: redis.Redis, identity: str, ttl_seconds: float, key: str = LEADER_KEY) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"the beat leader lease needs a positive TTL, not {ttl_seconds}")
        self.identity = identity
        self.key = key
        self.ttl_seconds = ttl_seconds
        self._client = client
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._take_or_renew = client.register_script(_TAKE_OR_RENEW)
        self._release = client.register_script(_RELEASE)

    def hold(self) -> bool:
        """True when this holder has the lease now (taken or renewed for another TTL)."""
        return bool(self._take_or_renew(keys=[self.key], args=[self.identity, self._ttl_ms]))

    def holder(self) -> str | None:
        value = self._client.get(self.key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def release(self) -> None:
        """Give the lease up if it is still ours, so another holder takes it on its next try."""
        self._release(keys=[self.key], args=[self.identity])


class LeaderScheduler(Scheduler):
    """Celery beat's scheduler that sends due tasks only while this beat holds the leader lease.

    Celery builds it (``beat_scheduler`` in workers/celery_app.py); the broker URL and
    ``app.conf.fluxops_beat_lock_ttl`` say where the lease lives and how long it lasts.
    """

    def __init__(self, app: Celery, *args: Any, **kwargs: Any) -> None:
        self._lease: LeaderLease | None = None
        #: None until the first check, so the first answer is logged either way
        self._leading: bool | None = None
        self._ttl = float(app.conf.get(TTL_CONF_KEY) or DEFAULT_TTL)
        super().__init__(app, *args, **kwargs)

    @property
    def lease(self) -> LeaderLease:
        # made on first use: Celery also builds schedulers lazily, for introspection, that never tick
        if self._lease is None:
            client = lease_client(self.app.conf.broker_url, check_every=self.check_every)
            self._lease = LeaderLease(client=client, identity=beat_identity(), ttl_seconds=self._ttl)
        return self._lease

    @property
    def check_every(self) -> float:
        """How often a leader renews and a standby asks: a third of the TTL leaves room for two misses."""
        return self._ttl / 3

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """One pass of the schedule if this beat leads; the seconds until the next pass."""
        if not self._is_leader():
            return self.check_every
        return float(min(super().tick(*args, **kwargs), self.check_every))

    def _is_leader(self) -> bool:
        try:
            leading = self.lease.hold()
        except redis.RedisError as exc:
            # Unsure is not leading: a beat that cannot reach Redis could not send anything either.
            # No second wait on the same Redis to name the holder: the next check asks again.
            log.warning("beat: cannot reach Redis to check the leader lease (%s); not sending", type(exc).__name__)
            self._leading = False
            return False
        if leading != self._leading:
            if leading:
                log.info("beat: %s leads: sending scheduled tasks", self.lease.identity)
            else:
                log.info("beat: %s stands by: %s holds the leader lease", self.lease.identity, self._holder())
        self._leading = leading
        return leading

    def _holder(self) -> str:
        try:
            return self.lease.holder() or "nobody"
        except redis.RedisError:
            return "(unknown)"

    def close(self) -> None:
        """Stop leading: hand the lease over now rather than after its TTL."""
        try:
            super().close()
        finally:
            if self._lease is not None and self._leading:
                try:
                    self._lease.release()
                    log.info("beat: %s released the leader lease", self._lease.identity)
                except redis.RedisError:
                    log.warning("beat: could not release the leader lease; it expires by itself", exc_info=True)
                self._leading = False
