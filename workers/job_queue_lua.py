"""The job queue's Redis scripts (workers/job_queue.py runs them; their keys and arguments are built there).

``SUBMIT_SCRIPT`` dedupes, writes the job record and pushes its Celery message in one step. A Confirm button
(web process) and a `/flux confirm JOB` comment (worker) both enqueue a staged job with ``CONFIRM_SCRIPT``,
so a second confirmation, or one after a cancel, changes nothing.
"""

from __future__ import annotations

# KEYS[1] job hash, KEYS[2] active jobs, KEYS[3] queue list, KEYS[4] dedupe key (optional)
# ARGV[1] job id, ARGV[2] job TTL, ARGV[3] dedupe TTL, ARGV[4] message ('' = stage only),
# ARGV[5] phase field, ARGV[6] phase, ARGV[7..] record field/value pairs
# -> '1' and the job id that runs when this is a duplicate, '0' and ARGV[1] when this call started the job
# (one bulk string: the web process reads a reply per delivery, and an array costs three times as much to parse)
SUBMIT_SCRIPT = """
if KEYS[4] then
  local first = redis.call('GET', KEYS[4])
  if first then
    return '1' .. first
  end
end
local known = redis.call('EXISTS', KEYS[1]) == 1
if KEYS[4] then
  redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[3])
end
if known then
  return '1' .. ARGV[1]
end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6], unpack(ARGV, 7))
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[4] ~= '' then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[2], now[1] + now[2] / 1000000, ARGV[1])
  redis.call('LPUSH', KEYS[3], ARGV[4])
end
return '0' .. ARGV[1]
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
# ARGV[7] job TTL, ARGV[8] the command digest of the staged decision the confirmer saw, ARGV[9] the field a worker
# sets when it takes the job (cleared: the job waits in the queue again, untaken, until a worker takes it; left
# set, every recovery sweep would push another copy of it while it waits in a backlog)
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
redis.call('HDEL', KEYS[1], ARGV[9])
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

# Put a job back on the queue: the recovery sweep's tool for a job whose worker died. Its heartbeat is renewed
# in the same step (so the next sweep does not requeue it again while it waits); nothing is pushed for a job
# that is unknown, ended, or still waiting for its Confirm button.
# KEYS[1] job hash, KEYS[2] active jobs, KEYS[3] queue list
# ARGV[1] job id, ARGV[2] message, ARGV[3] phase field, ARGV[4] awaiting confirmation, ARGV[5] the field a worker
# sets when it takes the job, ARGV[6..] terminal phases.
# A job still 'queued' that no worker took is waiting in the queue: pushing another copy would only duplicate a
# backlog. One a worker took and died with before it left 'queued' has its message in the broker's unacked set,
# which Redis gives back only after the visibility timeout (most of an hour): it is requeued like any other.
REQUEUE_SCRIPT = """
local phase = redis.call('HGET', KEYS[1], ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if phase == ARGV[4] or (phase == 'queued' and redis.call('HEXISTS', KEYS[1], ARGV[5]) == 0) then
  return 0
end
for i = 6, #ARGV do
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

# Resume a fleet run that halted, was canceled or failed: only a run that started (so never a staged job
# canceled before its Confirm) and is in one of the resumable phases; its cancel request is cleared, and so is
# the field naming the worker that took it (queued and untaken: the recovery sweep leaves it to the queue).
# KEYS: job hash, active set, queue. ARGV: job id, message, phase field, started field, cancel field,
# queued phase, taken field, resumable phases...
RESUME_SCRIPT = """
local phase = redis.call('HGET', KEYS[1], ARGV[3])
if not phase or redis.call('HEXISTS', KEYS[1], ARGV[4]) == 0 then
  return 0
end
local resumable = false
for i = 8, #ARGV do
  if phase == ARGV[i] then resumable = true end
end
if not resumable then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[6])
redis.call('HDEL', KEYS[1], ARGV[5], ARGV[7])
local now = redis.call('TIME')
redis.call('ZADD', KEYS[2], now[1] + now[2] / 1000000, ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
return 1
"""
