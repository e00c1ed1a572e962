"""One mapping from a Git host's HTTP answer to a bot error, for GitHub and Azure DevOps alike.

Each host adapter says what its answer was (status, Retry-After, whether it was a rate limit) and how it
words each kind of refusal; which error class that is, whether the job layer retries it and after how
long are decided here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from bot import errors


class Refusal(StrEnum):
    """What kind of "no" a Git host gave."""

    UNREACHABLE = "unreachable"  # no answer at all (connection error, timeout)
    UNAUTHENTICATED = "unauthenticated"  # 401; 203 or a redirect is a sign-in page: the token was not taken
    FORBIDDEN = "forbidden"  # 403 that is not a rate limit
    NOT_FOUND = "not found"
    CONFLICT = "conflict"  # 409, where the host means a race worth retrying
    THROTTLED = "throttled"  # 429, or the host's own rate-limit sign
    UNAVAILABLE = "unavailable"  # 5xx
    INVALID = "invalid"  # any other 4xx: asking again changes nothing


_ERRORS: dict[Refusal, type[errors.FluxopsError]] = {
    Refusal.UNREACHABLE: errors.ServiceUnavailable,
    Refusal.UNAUTHENTICATED: errors.Unauthorized,
    Refusal.FORBIDDEN: errors.Unauthorized,
    Refusal.NOT_FOUND: errors.NotFound,
    Refusal.CONFLICT: errors.Conflict,
    Refusal.THROTTLED: errors.Throttled,
    Refusal.UNAVAILABLE: errors.ServiceUnavailable,
    Refusal.INVALID: errors.InvalidRequest,
}

#: how a host words each refusal: (message, recommendation), ``str.format`` templates over the fields the
#: adapter gives (``doing`` and ``status`` always)
Wording = Mapping[Refusal, tuple[str, str]]


def classify(status: int, *, rate_limited: bool = False, conflict_retries: bool = False) -> Refusal:
    """The kind of refusal an HTTP status is. ``rate_limited``: the host said so on a 403 (GitHub's
    secondary limits); ``conflict_retries``: the host's 409 means a race, not a state that stays."""
    if status == 429 or (status == 403 and rate_limited):
        return Refusal.THROTTLED
    if status in (203, 401) or 300 <= status < 400:
        return Refusal.UNAUTHENTICATED
    if status == 403:
        return Refusal.FORBIDDEN
    if status == 404:
        return Refusal.NOT_FOUND
    if status >= 500:
        return Refusal.UNAVAILABLE
    if status == 409 and conflict_retries:
        return Refusal.CONFLICT
    return Refusal.INVALID


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The answer's ``Retry-After`` in seconds (header names in any case); None when absent or not seconds."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def host_error(
    refusal: Refusal,
    wording: Wording,
    *,
    code: str,
    retry_after: float | None = None,
    **fields: object,
) -> errors.FluxopsError:
    """The bot error for ``refusal``, worded by the host; ``retry_after`` is kept only where the job layer
    retries (throttling, server errors, conflicts)."""
    message, recommendation = wording[refusal]
    error = _ERRORS[refusal]
    return error(
        message.format(**fields),
        recommendation=recommendation.format(**fields),
        code=code,
        retry_after=retry_after if error.retryable else None,
    )
