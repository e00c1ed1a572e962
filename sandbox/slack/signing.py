"""Slack's v0 request signing: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed by the signing secret."""

from __future__ import annotations

import hashlib
import hmac
import time

VERSION = "v0"
#: how old a timestamp receivers accept (Slack's recommendation, and slack_bolt's check)
WINDOW_SECONDS = 300


def signature(secret: str, timestamp: str, body: str | bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"{VERSION}:{timestamp}:".encode() + raw
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: str, body: str | bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends an app."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, ts, body)}


def verify(secret: str, timestamp: str, body: str | bytes, received: str, *, now: float | None = None) -> bool:
    """Whether ``received`` signs ``body`` and the timestamp is fresh (constant-time comparison)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > WINDOW_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), received)
