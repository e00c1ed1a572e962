"""Redis scripts that start jobs and move staged (awaiting confirmation) ones on, shared by both processes.

``SUBMIT_SCRIPT`` dedupes, writes the job record and pushes its Celery message in one step: the web
process starts jobs with it, and beat starts scheduled ones (``submit_job``).

A Confirm button (web process) and a `/flux confirm JOB` comment (worker) both enqueue the staged job
with the same script, so a second confirmation, or one after a cancel, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from celery import Celery

from bot.jobs import APPROVER_GROUPS, Confirmation, JobRecord
from bot.views import Phase
from workers.redis_jobs import ACTIVE_JOBS_KEY, PHASE_FIELD, PROGRESS_PREFIX, job_key
from workers.task_message import JOB_TASK, queue_key, task_message

# KEYS[1] job hash, KEYS[2] active jobs, KEYS[3] queue list, KEYS[4] dedupe key (optional)
# ARGV[1] job id, ARGV[2] job TTL, ARGV[3] dedupe TTL, ARGV[4] message ('' = stage only),
# ARGV[5] phase field, ARGV[6] phase, ARGV[7..] record field/value pairs -> {job id, 1 if duplicate}
SUBMIT_SCRIPT = """
if KEYS[4] then
  local first = redis.call('GET', KEYS[4])
  if first then
    return {first, 1}
  end
end
local known = redis.call('EXISTS', KEYS[1]) == 1
if KEYS[4] then
  redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[3])
end
if known then
  return {ARGV[1], 1}
end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6], unpack(ARGV, 7))
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[4] ~= '' then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[2], now[1] + now[2] / 1000000, ARGV[1])
  redis.call('LPUSH', KEYS[3], ARGV[4])
end
return {ARGV[1], 0}
"""


# The staged decision (the job hash's ``decision`` JSON), checked by both scripts below: it must be for the
# command the caller names by digest; its approvals_required / approval_ttl say what approvals it needs.
_STAGED_DECISION = """
local raw = redis.call('HGET', KEYS[1], 'decision')
if not raw then
  return -1
end
local ok, decision = pcall(cjson.decode, raw)
if not ok or type(decision) ~= 'table' or decision['command_digest'] ~= DIGEST then
  return -1
end
local needed = tonumber(decision['approvals_required']) or 0
local ttl = tonumber(decision['approval_ttl']) or 0
local now = redis.call('TIME')
if ttl > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[APPROVALS], '-inf', '(' .. (now[1] - ttl))
end
"""

# KEYS[1] job hash, KEYS[2] active jobs, KEYS[3] queue list, KEYS[4] the job's approvals (sorted set)
# ARGV[1] job id, ARGV[2] confirmed by, ARGV[3] message, ARGV[4] phase field, ARGV[5] awaiting, ARGV[6] queued,
# ARGV[7] job TTL, ARGV[8] the command digest of the staged decision the confirmer saw
# -> bot.jobs.Confirmation: 1 enqueued, 0 not awaiting confirmation (already confirmed, canceled, unknown),
#    -1 another command, -2 fewer approvals (still counting) than the policy requires
CONFIRM_SCRIPT = (
    """
local DIGEST, APPROVALS = ARGV[8], 4
if redis.call('HGET', KEYS[1], ARGV[4]) ~= ARGV[5] then
  return 0
end
"""
    + _STAGED_DECISION
    + """
-- approved_by names only the approvals still counting: the worker checks each of them again
redis.call('HSET', KEYS[1], 'approved_by', table.concat(redis.call('ZRANGE', KEYS[4], 0, -1), ','))
if needed > 0 and redis.call('ZCARD', KEYS[4]) < needed then
  return -2
end
redis.call('HSET', KEYS[1], ARGV[4], ARGV[6], 'confirmed_by', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[7])
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], now[1] + now[2] / 1000000, ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[3])
return 1
"""
)

# KEYS[1] job hash, KEYS[2] the job's approvals (sorted set: approver -> when)
# ARGV[1] approver (lower case), ARGV[2] the command digest the approver saw, ARGV[3] phase field,
# ARGV[4] awaiting, ARGV[5] job TTL, ARGV[6] the approver's groups (comma-separated), ARGV[7] the field prefix
# under which their groups are kept -> the approvals that count now, 0 not awaiting, -1 another command,
# -3 the one asking
APPROVE_SCRIPT = (
    """
local DIGEST, APPROVALS = ARGV[2], 2
if redis.call('HGET', KEYS[1], ARGV[3]) ~= ARGV[4] then
  return 0
end
"""
    + _STAGED_DECISION
    + """
local asker = string.lower(tostring(redis.call('HGET', KEYS[1], 'actor') or ''))
if string.lower(tostring(decision['user'])) == ARGV[1] or asker == ARGV[1] then
  return -3
end
redis.call('ZADD', KEYS[2], now[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[1], 'approved_by', table.concat(redis.call('ZRANGE', KEYS[2], 0, -1), ','),
  ARGV[7] .. ARGV[1], ARGV[6])
return redis.call('ZCARD', KEYS[2])
"""
)

# KEYS[1] job hash; ARGV[1] phase field, ARGV[2] awaiting, ARGV[3] canceled -> 1 canceled, 0 not awaiting
CANCEL_SCRIPT = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


def approvals_key(job_id: str) -> str:
    return f"{job_key(job_id)}:approvals"


def confirm_args(
    job_id: str, confirmed_by: str, message: str, queue: str, ttl: int, digest: str
) -> tuple[list[str], list[str | int]]:
    keys = [job_key(job_id), ACTIVE_JOBS_KEY, queue, approvals_key(job_id)]
    args: list[str | int] = [
        job_id,
        confirmed_by,
        message,
        PHASE_FIELD,
        Phase.AWAITING_CONFIRMATION.value,
        Phase.QUEUED.value,
        ttl,
        digest,
    ]
    return keys, args


def approve_args(
    job_id: str, approver: str, digest: str, ttl: int, groups: Iterable[str] = ()
) -> tuple[list[str], list[str | int]]:
    """One approval; approvers are kept in lower case (people are matched case-insensitively everywhere)."""
    keys = [job_key(job_id), approvals_key(job_id)]
    args: list[str | int] = [approver.lower(), digest, PHASE_FIELD, Phase.AWAITING_CONFIRMATION.value, ttl]
    return keys, [*args, ",".join(sorted(groups)), PROGRESS_PREFIX + APPROVER_GROUPS]


def cancel_args() -> list[str]:
    return [PHASE_FIELD, Phase.AWAITING_CONFIRMATION.value, Phase.CANCELED.value]


class StagedJobs:
    """The worker's side: confirm or cancel a staged job (a `/flux confirm JOB` comment)."""

    def __init__(self, *, redis: redis.Redis, celery: Celery, queue: str, ttl: int) -> None:
        self._redis = redis
        self._celery = celery
        self._queue = queue
        self._ttl = ttl
        self._confirm = redis.register_script(CONFIRM_SCRIPT)
        self._approve = redis.register_script(APPROVE_SCRIPT)
        self._cancel = redis.register_script(CANCEL_SCRIPT)

    def confirm(self, job_id: str, confirmed_by: str, digest: str) -> Confirmation:
        """Enqueue the staged job if its decision is for the command ``digest`` names (and approved enough)."""
        message = task_message(self._celery, task_id=job_id, task_name=JOB_TASK, queue=self._queue)
        keys, args = confirm_args(
            job_id, confirmed_by, message, queue_key(self._celery, self._queue), self._ttl, digest
        )
        return Confirmation(int(self._confirm(keys=keys, args=args)))

    def approve(self, job_id: str, approver: str, digest: str) -> int:
        """Record ``approver``'s approval of the staged job; the approvals counting now, or 0 / -1 / -3
        (not awaiting, another command, the one who asked)."""
        keys, args = approve_args(job_id, approver, digest, self._ttl)
        return int(self._approve(keys=keys, args=args))

    def cancel(self, job_id: str) -> bool:
        return bool(self._cancel(keys=[job_key(job_id)], args=cancel_args()))


def submit_job(client: redis.Redis, celery: Celery, record: JobRecord, *, queue: str, job_ttl: int) -> bool:
    """Start ``record``'s job unless a job with its id exists already (True when this call started it)."""
    message = task_message(celery, task_id=record.job_id, task_name=JOB_TASK, queue=queue)
    args: list[str | int] = [record.job_id, job_ttl, 0, message, PHASE_FIELD, Phase.QUEUED.value]
    for name, value in record.to_mapping().items():
        args += [name, value]
    script = client.register_script(SUBMIT_SCRIPT)
    _, duplicate = script(keys=[job_key(record.job_id), ACTIVE_JOBS_KEY, queue_key(celery, queue)], args=args)
    return not bool(duplicate)
