"""``RedisFailpoints``: a test facility that stops a worker at a precise step of a job.

It is the ``JobPorts.checkpoint`` only when ``FLUXOPS_FAILPOINTS`` is true (off by default: production
workers never read these keys). A test arms a step by setting a field of the hash ``fluxops:failpoints``:

- ``pause``: the worker reaching the step sets ``fluxops:failpoints:reached:{step}`` to the job id, then
  waits until the field is removed. The test can SIGKILL the paused worker, remove the field, and start
  a new worker to see the job resume from what it recorded.
- ``crash``: the worker sets the same ``reached`` key, removes the field (so it fires once) and SIGKILLs
  itself, as a node dying mid-job would.

No field: the step passes at once (one HGET).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import redis

from bot.errors import ConfigurationError
from workers.redis_jobs import as_text

FAILPOINTS_KEY = "fluxops:failpoints"
REACHED_PREFIX = "fluxops:failpoints:reached:"
PAUSE = "pause"
CRASH = "crash"


def reached_key(step: str) -> str:
    return REACHED_PREFIX + step


class RedisFailpoints:
    """``__call__(job_id, step)`` pauses or kills this process when the test armed ``step``."""

    def __init__(self, *, redis: redis.Redis, tick: float = 0.1, sleep: Callable[[float], None] = time.sleep) -> None:
        self._redis = redis
        self._tick = tick
        self._sleep = sleep

    def __repr__(self) -> str:
        return "RedisFailpoints()"

    def __call__(self, job_id: str, step: str) -> None:
        action = self._action(step)
        if action is None:
            return
        self._redis.set(reached_key(step), job_id)
        # The action is read again on every tick: a test may turn a pause into a crash while it waits.
        while action is not None:
            if action == CRASH:
                self._redis.hdel(FAILPOINTS_KEY, step)
                os.kill(os.getpid(), signal.SIGKILL)
            elif action != PAUSE:
                raise ConfigurationError(
                    f"failpoint '{step}' has the unknown action '{action}'",
                    recommendation=f"set the field of {FAILPOINTS_KEY} to '{PAUSE}' or '{CRASH}'",
                )
            self._sleep(self._tick)
            action = self._action(step)

    def _action(self, step: str) -> str | None:
        value = self._redis.hget(FAILPOINTS_KEY, step)
        return None if value is None else as_text(value)
