"""Token-bucket throttling with ARM's published numbers, per subscription and kind of request.

ARM keeps one bucket per subscription (and principal) for reads, one for writes and one for deletes.
``time_scale`` speeds the refill up (10 means ten simulated seconds per real second) so tests and
benchmarks can exercise throttling without waiting real minutes; buckets start full.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BucketSpec:
    burst: float
    per_second: float


#: ARM's subscription limits (requests per subscription per principal).
ARM_LIMITS: dict[str, BucketSpec] = {
    "reads": BucketSpec(burst=250, per_second=25),
    "writes": BucketSpec(burst=200, per_second=10),
    "deletes": BucketSpec(burst=200, per_second=10),
}


@dataclass
class TokenBucket:
    spec: BucketSpec
    time_scale: float
    clock: Callable[[], float]
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.spec.burst
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.spec.burst, self.tokens + (now - self.updated) * self.spec.per_second * self.time_scale)
        self.updated = now

    def take(self) -> float:
        """Take one token; return 0 on success or the real seconds until one is available."""
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / (self.spec.per_second * self.time_scale)

    def remaining(self) -> int:
        self._refill()
        return max(0, math.floor(self.tokens))


@dataclass(frozen=True)
class ThrottleDecision:
    allowed: bool
    retry_after: float
    headers: dict[str, str]


class Throttle:
    """All buckets of the emulator, created on first use."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        limits: dict[str, BucketSpec] | None = None,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.time_scale = time_scale
        self.limits = dict(limits or ARM_LIMITS)
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self.throttled = 0  # how many 429s were answered: benchmarks report it

    def _bucket(self, subscription: str, kind: str) -> TokenBucket:
        key = (subscription.lower(), kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.limits[kind], self.time_scale, self._clock)
            self._buckets[key] = bucket
        return bucket

    def drain(self, subscription: str, kind: str) -> None:
        """Empty one bucket now (tests and benchmarks that must start from a throttled state)."""
        bucket = self._bucket(subscription, kind)
        bucket.remaining()  # brings the refill up to now
        bucket.tokens = 0.0

    def check(self, subscription: str, method: str) -> ThrottleDecision:
        """Charge one request of ``method`` to the subscription's bucket."""
        kind = "reads" if method in ("GET", "HEAD") else "deletes" if method == "DELETE" else "writes"
        if not self.enabled:
            return ThrottleDecision(True, 0.0, {})
        bucket = self._bucket(subscription, kind)
        wait = bucket.take()
        header = f"x-ms-ratelimit-remaining-subscription-{kind}"
        headers = {header: str(bucket.remaining())}
        if wait <= 0:
            return ThrottleDecision(True, 0.0, headers)
        self.throttled += 1
        # ARM speaks whole seconds; at a compressed time scale a whole second would distort
        # pacing, so sub-second waits keep one decimal (azure-core parses Retry-After as float).
        retry_after = math.ceil(wait) if self.time_scale == 1 else max(0.1, math.ceil(wait * 10) / 10)
        headers["Retry-After"] = str(retry_after)
        return ThrottleDecision(False, float(retry_after), headers)
