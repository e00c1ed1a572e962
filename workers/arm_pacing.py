"""Pacing ARM writes under the subscription's throttle, with one budget shared by every worker (in Redis).

ARM throttles each subscription with token buckets, one for writes and one for deletes. Each bucket holds up to
200 tokens and refills at 10 a second. It answers 429 with a Retry-After when a bucket is empty. Every response
says how many tokens are left, in ``x-ms-ratelimit-remaining-subscription-{writes,deletes}``. Many workers
writing to one subscription at once (a fleet rollout) would each meet the 429s on their own and retry blindly.
Instead, each write first takes a token from a bucket that all the workers share, in Redis.

- That bucket refills at ARM's published rate, times ``time_scale``: 1 in Azure, while the sandbox's emulator
  refills faster. It keeps a small margin below the rate, so the two clocks never race.
- Each response's remaining count lowers the shared bucket to ARM's own figure, when ARM's is lower. Other
  clients of the subscription (the portal, az, pipelines) spend from the same budget.
- A 429 empties the shared bucket and holds it shut for the Retry-After seconds (at most ``LONGEST_SHUT``).
- A worker waits for a token at most ``LONGEST_WAIT`` in-process; past that the write raises ``Throttled`` and
  the job layer retries it later, so no worker slot sits idle for long.

``ArmPacing`` is an azure-core policy that runs after the retry policy, so it sees every attempt: retries take
tokens too, and Retry-After is honoured by every worker, not only the one that got the 429. Reads are not paced.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

from bot import errors
from bot.views import ThrottleInfo
from workers.redis_jobs import as_text

log = logging.getLogger(__name__)

BUDGET_KEY_PREFIX = "fluxops:arm:budget:"

#: which ARM bucket a request spends from
KIND_OF_METHOD = {"PUT": "writes", "PATCH": "writes", "POST": "writes", "DELETE": "deletes"}
RESOURCE_GRAPH_PATH = "/providers/microsoft.resourcegraph/"
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/?#]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Rate:
    burst: float
    per_second: float


#: ARM's published limits per subscription (and principal); reads are not paced here
ARM_RATES = {"writes": Rate(burst=200, per_second=10), "deletes": Rate(burst=200, per_second=10)}
#: pace this much below the refill rate, so the shared bucket and ARM's never disagree by a token (0.98: no 429 in
#: the fleet benchmark; each 1 % is ~0.1 s at 1,000 clusters, time scale 10)
_MARGIN = 0.98
#: the longest a 429's Retry-After shuts the budget (a larger one is not believed beyond this)
LONGEST_SHUT = 300.0
#: a worker waits in-process at most this long for a token; beyond it the job gives its slot back and retries
LONGEST_WAIT = 30.0

# KEYS[1] bucket hash; ARGV[1] burst, ARGV[2] tokens per second -> 0 (a token was taken) or the wait in ms
_TAKE = """
local t = redis.call('TIME')
local now = t[1] + t[2] / 1000000
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'until')
local tokens = math.min(burst, (tonumber(b[1]) or burst) + (now - (tonumber(b[2]) or now)) * rate)
local shut = tonumber(b[3]) or 0
local wait = 0
if now < shut then
  wait = math.ceil((shut - now) * 1000)
elseif tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return wait
"""

# KEYS[1] bucket hash; ARGV[1] ARM's remaining count ('' = none), ARGV[2] Retry-After seconds ('' = none),
# ARGV[3] burst, ARGV[4] tokens per second
_OBSERVE = """
local t = redis.call('TIME')
local now = t[1] + t[2] / 1000000
local burst, rate = tonumber(ARGV[3]), tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'until')
local tokens = math.min(burst, (tonumber(b[1]) or burst) + (now - (tonumber(b[2]) or now)) * rate)
local shut = tonumber(b[3]) or 0
if ARGV[1] ~= '' then
  tokens = math.min(tokens, tonumber(ARGV[1]))
end
if ARGV[2] ~= '' then
  tokens = 0
  shut = math.max(shut, now + tonumber(ARGV[2]))
  redis.call('HINCRBY', KEYS[1], 'throttled', 1)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'until', tostring(shut))
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


def budget_key(subscription: str, kind: str) -> str:
    return f"{BUDGET_KEY_PREFIX}{subscription.lower()}:{kind}"


class ArmBudget:
    """The subscriptions' write and delete budgets, shared in Redis by every worker."""

    def __init__(self, *, redis: redis.Redis, time_scale: float = 1.0) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._observe = redis.register_script(_OBSERVE)
        self._rates = {kind: Rate(r.burst, r.per_second * time_scale * _MARGIN) for kind, r in ARM_RATES.items()}

    def take(self, subscription: str, kind: str) -> float:
        """Take a token for one request; 0 when taken, else the seconds to wait before asking again."""
        rate = self._rates[kind]
        try:
            wait_ms = self._take(keys=[budget_key(subscription, kind)], args=[rate.burst, rate.per_second])
        except redis.RedisError as error:
            raise errors.ServiceUnavailable(
                f"pacing a write to Azure: Redis did not answer ({type(error).__name__})",
                recommendation="check that Redis is up; the job tries again by itself",
            ) from error
        return int(as_text(wait_ms)) / 1000

    def observe(self, subscription: str, kind: str, *, remaining: str | None, retry_after: str | None) -> None:
        """What ARM said in a response: how many tokens it has left, and how long it asks to be left alone."""
        left = _number(remaining)
        pause = _number(retry_after)
        if left is None and pause is None:
            return
        rate = self._rates[kind]
        args: list[str | float] = [
            "" if left is None else str(left),
            "" if pause is None else str(min(pause, LONGEST_SHUT)),
            rate.burst,
            rate.per_second,
        ]
        try:
            self._observe(keys=[budget_key(subscription, kind)], args=args)
        except redis.RedisError:  # the write itself went through: losing one observation only paces less well
            log.warning("ARM pacing: could not record what ARM said about subscription %s", subscription, exc_info=True)

    def writes(self, subscription_id: str) -> ThrottleInfo | None:
        """bot.usecases.context.ThrottleGauge: the write budget as last charged or seen (None: never used)."""
        try:
            tokens, until, throttled = self._redis.hmget(
                budget_key(subscription_id, "writes"), "tokens", "until", "throttled"
            )
        except redis.RedisError:
            return None
        if tokens is None:
            return None
        try:  # Redis is not trusted: what cannot be read as a number shows nothing
            left = float(as_text(tokens))
            shut = max(0.0, float(as_text(until)) - time.time()) if until is not None else 0.0
            count = int(as_text(throttled)) if throttled is not None else 0
            if not (math.isfinite(left) and math.isfinite(shut)):
                return None
            return ThrottleInfo(remaining=max(0, int(left)), shut_seconds=round(shut, 1), throttled=max(0, count))
        except (ValueError, OverflowError):
            return None


def _number(header: str | None) -> float | None:
    """A header's number, or None (absent, or not a plain non-negative number: never trusted further)."""
    if header is None:
        return None
    try:
        value = float(header)
    except ValueError:
        return None
    return value if 0 <= value < 24 * 3600 else None


class ArmPacing(HTTPPolicy[Any, Any]):
    """The azure-core policy that makes each ARM write wait for the shared budget (see the module)."""

    def __init__(self, budget: ArmBudget, *, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self._budget = budget
        self._sleep = sleep

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        http = request.http_request
        kind = KIND_OF_METHOD.get(http.method.upper())
        path = urlsplit(http.url).path
        found = _SUBSCRIPTION.search(path)
        # A Resource Graph query is a POST but a read, and names no subscription: it spends RG's own per-user
        # quota (workers/azure_resource_graph.py), never a subscription's write budget.
        if kind is None or found is None or RESOURCE_GRAPH_PATH in path.lower():
            return self.next.send(request)
        subscription = found.group(1)
        waited = 0.0
        while (wait := self._budget.take(subscription, kind)) > 0:
            if waited + wait > LONGEST_WAIT:  # give the worker slot back: the job layer retries after the wait
                raise errors.Throttled(
                    f"Azure Resource Manager's {kind} budget for subscription {subscription} is spent",
                    recommendation="fluxops tries again by itself once the subscription's throttle refills",
                    retry_after=wait,
                )
            self._sleep(wait)
            waited += wait
        response = self.next.send(request)
        headers = response.http_response.headers
        retry_after = headers.get("Retry-After") if response.http_response.status_code == 429 else None
        remaining = headers.get(f"x-ms-ratelimit-remaining-subscription-{kind}")
        self._budget.observe(subscription, kind, remaining=remaining, retry_after=retry_after)
        return response
