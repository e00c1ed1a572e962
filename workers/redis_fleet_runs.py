"""The fleet runs started, newest first, in one Redis sorted set (bot.usecases.context.FleetRunLog)."""

from __future__ import annotations

import redis

from workers.redis_jobs import as_text

RUNS_KEY = "fluxops:fleet:runs"
#: runs kept in the list (their records expire with their jobs)
KEPT = 500


class RedisFleetRunLog:
    def __init__(self, *, redis: redis.Redis) -> None:
        self._redis = redis

    def add(self, run_id: str, started_at: float) -> None:
        pipe = self._redis.pipeline()
        pipe.zadd(RUNS_KEY, {run_id: started_at}, nx=True)
        pipe.zremrangebyrank(RUNS_KEY, 0, -KEPT - 1)
        pipe.execute()

    def recent(self, limit: int) -> list[str]:
        return [as_text(run) for run in self._redis.zrevrange(RUNS_KEY, 0, max(0, limit - 1))]
