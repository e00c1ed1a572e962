"""Put a job back on the queue: the recovery sweep's tool for a job whose worker died.

The same message the web process enqueued (workers/task_message.py) goes back on the list, the job's
heartbeat is renewed in the same script (so the next sweep does not requeue it again while it waits),
and nothing is pushed for a job that is unknown, ended, or still waiting for its Confirm button.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from celery import Celery

from bot.views import Phase
from workers.celery_app import QUEUE
from workers.redis_jobs import ACTIVE_JOBS_KEY, PHASE_FIELD, job_key
from workers.task_message import JOB_TASK, queue_key, task_message

# KEYS[1] job hash, KEYS[2] active jobs, KEYS[3] queue list
# ARGV[1] job id, ARGV[2] message, ARGV[3] phase field, ARGV[4] awaiting confirmation, ARGV[5..] terminal phases.
# A job still 'queued' never started: its message is in the queue (or in the broker's unacked set, which
# redelivers it), so pushing another copy would only duplicate a backlog.
_REQUEUE = """
local phase = redis.call('HGET', KEYS[1], ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if phase == ARGV[4] or phase == 'queued' then
  return 0
end
for i = 5, #ARGV do
  if phase == ARGV[i] then
    redis.call('ZREM', KEYS[2], ARGV[1])
    return 0
  end
end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], now[1] + now[2] / 1000000, ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
return 1
"""

_TERMINAL = [phase.value for phase in Phase if phase.terminal]


def requeue(
    redis: redis.Redis,
    celery: Celery,
    job_id: str,
    queue: str = QUEUE,
    task_name: str = JOB_TASK,
    *,
    args: Sequence[object] | None = None,
) -> bool:
    """Enqueue job ``job_id`` again (task id = job id); False, and nothing pushed, when it must not run.

    A job that is unknown or already ended is also dropped from the active set.
    """
    message = task_message(celery, task_id=job_id, task_name=task_name, queue=queue, args=args)
    script = redis.register_script(_REQUEUE)
    pushed = script(
        keys=[job_key(job_id), ACTIVE_JOBS_KEY, queue_key(celery, queue)],
        args=[job_id, message, PHASE_FIELD, Phase.AWAITING_CONFIRMATION.value, *_TERMINAL],
    )
    return bool(pushed)
