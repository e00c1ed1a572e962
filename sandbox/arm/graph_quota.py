"""Resource Graph's own throttle: a per-user quota of queries per window, announced in every answer.

The service allows each user 15 queries in a 5-second window; every answer carries
``x-ms-user-quota-remaining`` and ``x-ms-user-quota-resets-after`` (hh:mm:ss), and a query past the quota
gets 429 with the same two headers. ``time_scale`` compresses the window as the ARM throttle does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

QUERIES_PER_WINDOW = 15
WINDOW_SECONDS = 5.0


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    headers: dict[str, str]


def resets_after(seconds: float, *, whole: bool) -> str:
    """hh:mm:ss as the service writes it; with fractions of a second when the window is compressed."""
    if whole:
        total = max(0, math.ceil(seconds))
        return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    hours, rest = divmod(max(0.0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:010.7f}"


class GraphQuota:
    """One fixed window per user (the bearer token stands for the user)."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        enabled: bool = True,
        limit: int = QUERIES_PER_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = WINDOW_SECONDS / time_scale
        self.whole_seconds = time_scale == 1
        self.enabled = enabled
        self.limit = limit
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # user -> (window start, queries used)
        self.throttled = 0
        self._spent_until = 0.0

    def exhaust(self) -> None:
        """Use up every user's quota for one window from now (tests that must start throttled)."""
        now = self._clock()
        self._windows = {user: (now, self.limit) for user in self._windows}
        self._spent_until = now + self.window

    def _current(self, user: str) -> tuple[float, int]:
        now = self._clock()
        default = (now, 0) if now >= self._spent_until else (self._spent_until - self.window, self.limit)
        start, used = self._windows.get(user, default)
        if now - start >= self.window:
            start, used = now, 0
        return start, used

    def charge(self, user: str) -> QuotaDecision:
        """Count one query of ``user``; refuse it when the window's quota is spent."""
        start, used = self._current(user)
        allowed = not self.enabled or used < self.limit
        if allowed:
            used += 1
        else:
            self.throttled += 1
        self._windows[user] = (start, used)
        left = start + self.window - self._clock()
        headers = {
            "x-ms-user-quota-remaining": str(max(0, self.limit - used)),
            "x-ms-user-quota-resets-after": resets_after(left, whole=self.whole_seconds),
        }
        return QuotaDecision(allowed, headers)
