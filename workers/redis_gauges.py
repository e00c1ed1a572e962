"""Gauges read from Redis when Prometheus scrapes: the job queue and the deploy keys.

They describe shared state, not one process, so every worker and beat serves the same values: aggregate
them with ``max`` (deploy/prometheus/alerts.yaml does). A scrape costs a few Redis round trips:

- ``fluxops_queue_depth``: Celery messages waiting in the queue's Redis list (workers/task_message.py);
- ``fluxops_queue_oldest_job_age_seconds``: how long the oldest job still in phase ``queued`` has waited. The
  active-jobs set (workers/redis_jobs.py) scores a job with its enqueue time until a worker starts it, and
  with its heartbeats after, so the lowest scores are the longest waiting; the first ``SCAN_LIMIT`` of them
  are looked at (0 when none of them waits);
- ``fluxops_jobs_active``: jobs queued, running or waiting for a retry;
- ``fluxops_deploy_keys``, ``fluxops_deploy_key_oldest_age_seconds``, ``fluxops_deploy_keys_over_max_age`` and
  ``fluxops_deploy_key_max_age_seconds``: the keys in use (bot.usecases.key_schedule's definition), the oldest
  one's age, how many are older than the policy's ``deploy_keys.max_age``, and that max age. One series each:
  which key is old is for `/flux key status` to say, not for a label.

A Redis that does not answer makes the scrape show ``fluxops_redis_up 0`` and none of the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.config_file import DeployKeyPolicy
from bot.key_records import ACTIVE, DeployKeyRecord
from bot.usecases.key_schedule import due
from bot.views import Phase
from workers.redis_jobs import ACTIVE_JOBS_KEY, PHASE_FIELD, as_text, job_key, server_time

log = logging.getLogger(__name__)

#: the longest-waiting active jobs looked at for the oldest queued one
SCAN_LIMIT = 100


class RedisGauges(Collector):
    """A prometheus-client collector: the queue and deploy key gauges, read at each scrape."""

    def __init__(
        self,
        *,
        redis: redis.Redis,
        queue: str,
        queue_key: str,
        keys: Callable[[], list[DeployKeyRecord]] | None,
        key_policy: DeployKeyPolicy,
    ) -> None:
        """``keys``: the deploy key records (None: this deployment keeps none); ``queue_key``: the queue's list."""
        self._redis = redis
        self._queue = queue
        self._queue_key = queue_key
        self._keys = keys
        self._key_policy = key_policy

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("fluxops_redis_up", "Whether Redis answered this scrape's reads (1) or not (0).")
        try:
            families = [*self._queue_families(), *self._key_families()]
        except redis.RedisError as error:
            log.warning("metrics: Redis did not answer (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _queue_families(self) -> list[GaugeMetricFamily]:
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.llen(self._queue_key)
            pipe.zcard(ACTIVE_JOBS_KEY)
            pipe.zrange(ACTIVE_JOBS_KEY, 0, SCAN_LIMIT - 1, withscores=True)
            depth, active, oldest = pipe.execute()
        now = server_time(self._redis)
        waiting = [(as_text(member), float(score)) for member, score in oldest if float(score) <= now]
        phases: list[object] = []
        if waiting:
            with self._redis.pipeline(transaction=False) as pipe:
                for job_id, _ in waiting:
                    pipe.hget(job_key(job_id), PHASE_FIELD)
                phases = pipe.execute()
        age = next(
            (now - score for (_, score), phase in zip(waiting, phases, strict=True) if _is_queued(phase)),
            0.0,
        )
        queue_depth = GaugeMetricFamily("fluxops_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
        queue_depth.add_metric([self._queue], int(depth))
        oldest_age = GaugeMetricFamily(
            "fluxops_queue_oldest_job_age_seconds",
            "How long the oldest job not yet started by a worker has waited (0: none waits).",
            labels=["queue"],
        )
        oldest_age.add_metric([self._queue], round(max(age, 0.0), 3))
        jobs_active = GaugeMetricFamily("fluxops_jobs_active", "Jobs queued, running or waiting to retry.")
        jobs_active.add_metric([], int(active))
        return [queue_depth, oldest_age, jobs_active]

    def _key_families(self) -> list[GaugeMetricFamily]:
        records = self._keys() if self._keys is not None else []
        in_use = [r for r in records if r.state == ACTIVE and r.users]
        now = server_time(self._redis)
        keys = GaugeMetricFamily("fluxops_deploy_keys", "Deploy keys fluxops made that configurations use.")
        keys.add_metric([], len(in_use))
        oldest = GaugeMetricFamily(
            "fluxops_deploy_key_oldest_age_seconds", "Age of the oldest deploy key in use (0: none is in use)."
        )
        oldest.add_metric([], round(max((now - r.created_at for r in in_use), default=0.0), 1))
        over = GaugeMetricFamily(
            "fluxops_deploy_keys_over_max_age",
            "Deploy keys in use older than the policy's deploy_keys.max_age (beat rotates them).",
        )
        over.add_metric([], len(due(in_use, self._key_policy, now)))
        families = [keys, oldest, over]
        max_age = self._key_policy.max_age_seconds
        if max_age is not None:
            limit = GaugeMetricFamily(
                "fluxops_deploy_key_max_age_seconds", "The policy's deploy_keys.max_age (absent when it sets none)."
            )
            limit.add_metric([], max_age)
            families.append(limit)
        return families


def _is_queued(phase: object) -> bool:
    return phase is not None and as_text(phase) == Phase.QUEUED.value
