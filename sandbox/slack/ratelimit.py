"""Slack's Web API rate limits as token buckets, off unless the fake is built with ``rate_limits=True``.

Slack publishes tiers per method and workspace (Tier 2: 20+/min, Tier 3: 50+/min, Tier 4: 100+/min,
bursts allowed) and a special limit for posting: about one message per second per channel, with short
bursts. Over a limit it answers HTTP 429, ``Retry-After`` in whole seconds (slack_sdk parses it as an
int) and ``{"ok": false, "error": "ratelimited"}``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    burst: float
    per_second: float
    per_channel: bool = False


def per_minute(n: int) -> Limit:
    return Limit(burst=n, per_second=n / 60)


TIER_2 = per_minute(20)
TIER_3 = per_minute(50)
TIER_4 = per_minute(100)

LIMITS: dict[str, Limit] = {
    "auth.test": TIER_4,
    "chat.postMessage": Limit(burst=3, per_second=1.0, per_channel=True),
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "chat.postEphemeral": TIER_4,
    "usergroups.users.list": TIER_2,
    "users.info": TIER_4,
}


@dataclass
class _Bucket:
    limit: Limit
    tokens: float
    updated: float


class RateLimiter:
    """One bucket per method (and per channel where Slack limits per channel), created full on first use."""

    def __init__(
        self,
        *,
        enabled: bool,
        limits: dict[str, Limit] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.limits = dict(LIMITS if limits is None else limits)
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.throttled = 0  # how many 429s were answered

    def _bucket(self, method: str, channel: str) -> _Bucket | None:
        limit = self.limits.get(method)
        if limit is None:
            return None
        key = (method, channel if limit.per_channel else "")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(limit, limit.burst, self._clock())
            self._buckets[key] = bucket
        now = self._clock()
        bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.per_second)
        bucket.updated = now
        return bucket

    def check(self, method: str, channel: str = "") -> int:
        """Charge one call; 0 when allowed, else the whole seconds to wait (at least 1)."""
        if not self.enabled:
            return 0
        bucket = self._bucket(method, channel)
        if bucket is None:
            return 0
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        self.throttled += 1
        return max(1, math.ceil((1 - bucket.tokens) / bucket.limit.per_second))

    def drain(self, method: str, channel: str = "") -> None:
        """Empty one bucket now, for tests that must start throttled."""
        bucket = self._bucket(method, channel)
        if bucket is not None:
            bucket.tokens = 0.0
