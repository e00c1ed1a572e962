"""Job records and job liveness in Redis (implements bot.ports.JobStore).

Key layout (shared with workers/job_queue.py, which writes the record atomically with the enqueue):

- ``fluxops:job:{id}`` hash: the ``JobRecord.to_mapping()`` fields, plus progress under ``p:{key}``
  (``p:phase``, continuation tokens, the Slack message ts, ...); it keeps the life intake gave it (30 days;
  an hour for a command refused at intake), and a record written here without one gets ``ttl_seconds``.
- ``fluxops:jobs:active`` sorted set: job id -> time of its last heartbeat (Redis server time, so every
  host agrees). A job whose worker died stops beating; ``stale`` finds it for the recovery sweep.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis

from bot.errors import NotFound
from bot.jobs import JobRecord

JOB_KEY_PREFIX = "fluxops:job:"
ACTIVE_JOBS_KEY = "fluxops:jobs:active"
PROGRESS_PREFIX = "p:"
PHASE_FIELD = PROGRESS_PREFIX + "phase"
#: which worker run took the job last (set as its task starts): a job still 'queued' with it was taken, not waiting
TAKEN_KEY = "taken_by"
TAKEN_FIELD = PROGRESS_PREFIX + TAKEN_KEY
JOB_TTL_SECONDS = 30 * 24 * 3600

# Server time, not the caller's: heartbeats written from many hosts are compared with each other.
_HEARTBEAT = """
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], now[1] + now[2] / 1000000, ARGV[1])
return 1
"""


def job_key(job_id: str) -> str:
    return JOB_KEY_PREFIX + job_id


def as_text(value: object) -> str:
    """A Redis reply as text, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


def server_time(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1_000_000


class RedisJobStore:
    """Job records, their progress, and which jobs are alive."""

    # ARGV[1] the life to give a record without one, then field, value, field, value, ...
    _PUT_SCRIPT = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
"""
    #: field/value pairs per script call at most (Lua's unpack has a stack limit of a few thousand values)
    PUT_CHUNK = 500

    def __init__(self, *, redis: redis.Redis, ttl_seconds: int = JOB_TTL_SECONDS) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._put = redis.register_script(self._PUT_SCRIPT)
        self._heartbeat = redis.register_script(_HEARTBEAT)

    def load(self, job_id: str) -> JobRecord:
        raw = self._redis.hgetall(job_key(job_id))
        if not raw:
            days = self._ttl / 86400
            raise NotFound(
                f"loading job {job_id}: there is no record of it (it never existed, "
                f"or it ended more than {days:g} days ago and its record expired)",
                recommendation="run the command again to start a new job",
            )
        return JobRecord.from_mapping({as_text(k): as_text(v) for k, v in raw.items()})

    def get(self, job_id: str, key: str) -> str | None:
        value = self._redis.hget(job_key(job_id), PROGRESS_PREFIX + key)
        return None if value is None else as_text(value)

    def put(self, job_id: str, key: str, value: str) -> None:
        # one script: the field, and a life only for a record that has none (a refused job's short life is
        # never lengthened); EXPIRE NX would do it too, but needs Redis 7
        self._put(keys=[job_key(job_id)], args=[self._ttl, PROGRESS_PREFIX + key, value])

    def put_many(self, job_id: str, values: Mapping[str, str]) -> None:
        """Every ``key -> value`` at once: one pipelined round trip (each chunk's script is atomic)."""
        pairs: list[str | int] = []
        for key, value in values.items():
            pairs += [PROGRESS_PREFIX + key, value]
        if not pairs:
            return
        step = 2 * self.PUT_CHUNK
        with self._redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(pairs), step):
                self._put(keys=[job_key(job_id)], args=[self._ttl, *pairs[start : start + step]], client=pipe)
            pipe.execute()

    def phase(self, job_id: str) -> str | None:
        """The job's phase (a bot.views.Phase value), or None for an unknown job."""
        return self.get(job_id, "phase")

    def set_phase(self, job_id: str, phase: str) -> None:
        self.put(job_id, "phase", phase)

    def take(self, job_id: str, run_owner: str) -> None:
        """A worker starts running the job (the recovery sweep may requeue it from now on, whatever its phase)."""
        self.put(job_id, TAKEN_KEY, run_owner)

    def heartbeat(self, job_id: str) -> None:
        """The job is alive now (call it while it runs, well inside the sweep's staleness threshold)."""
        self._heartbeat(keys=[ACTIVE_JOBS_KEY], args=[job_id])

    def finish(self, job_id: str) -> None:
        """The job ended (however it ended): it is no longer a candidate for recovery."""
        self._redis.zrem(ACTIVE_JOBS_KEY, job_id)

    def stale(self, older_than_seconds: float) -> list[str]:
        """Active jobs whose last heartbeat is older than ``older_than_seconds``, oldest first.

        A job still waiting in the queue has not beaten since it was enqueued: look at its phase
        before requeueing it.
        """
        cutoff = server_time(self._redis) - older_than_seconds
        return [as_text(member) for member in self._redis.zrangebyscore(ACTIVE_JOBS_KEY, "-inf", f"({cutoff!r}")]
