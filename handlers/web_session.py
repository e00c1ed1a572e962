"""Who is looking at the status page: a signed session cookie, or a trusted authenticating proxy's header.

- **Session cookie** ``fluxops_session``: ``base64url(JSON {platform, user, expires}) "." hex(HMAC-SHA256)`` under
  FLUXOPS_SESSION_SECRET, compared in constant time; HttpOnly, SameSite=Lax, Secure unless FLUXOPS_PUBLIC_URL is
  ``http://`` (the sandbox), with its expiry in the cookie and in the signed payload (a copied cookie dies too).
  It is set by a one-time sign-in link: a random token whose SHA-256 is a Redis key with a short TTL, taken with
  GETDEL, so a link signs in once and only once, even with two web replicas racing.
- **Proxy header** (FLUXOPS_TRUSTED_PROXY_HEADER): oauth2-proxy in front of fluxops sets ``X-Forwarded-User`` and
  ``X-Forwarded-Email`` after its own sign-in. A header is only a claim: fluxops believes it only when told to,
  because anyone reaching the web process without the proxy could send it. ``X-Forwarded-User`` must be the
  Slack user id (oauth2-proxy with Slack's OpenID Connect provider: the ``sub`` claim is it);
  ``X-Forwarded-Email`` is turned into the Slack user id with Slack's ``users.lookupByEmail``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from workers.redis_names import SIGNIN_PREFIX

COOKIE = "fluxops_session"
#: how long a one-time sign-in link stays valid when nobody uses it (seconds)
SIGNIN_TTL = 15 * 60


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: the policy names people by platform and user id (Slack user ids here)."""

    platform: str
    user: str
    #: how the page greets them (the proxy's email, or the user id)
    shown_as: str = ""

    @property
    def label(self) -> str:
        return self.shown_as or f"{self.platform}:{self.user}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Signs and checks session cookie values."""

    def __init__(self, secret: bytes, *, max_age: int, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("a session secret needs at least 16 bytes")
        self._key = hashlib.sha256(b"fluxops-session\0" + secret).digest()
        self.max_age = max_age
        self._clock = clock

    def encode(self, viewer: Viewer) -> str:
        payload = {"p": viewer.platform, "u": viewer.user, "s": viewer.shown_as, "e": int(self._clock()) + self.max_age}
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._sign(body)}"

    def decode(self, value: str) -> Viewer | None:
        """The viewer ``value`` was signed for, or None when it is forged, malformed or expired."""
        body, sep, signature = value.partition(".")
        if not sep or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            payload = json.loads(_unb64(body))
            expires, platform, user, shown = int(payload["e"]), str(payload["p"]), str(payload["u"]), str(payload["s"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if expires <= self._clock() or not user.strip():
            return None
        return Viewer(platform, user, shown)

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def _token_key(token: str) -> str:
    # the digest, not the token: what Redis holds (a dump, a MONITOR) cannot be replayed as a link
    return SIGNIN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


async def issue_signin(redis: aioredis.Redis, viewer: Viewer, *, ttl: int = SIGNIN_TTL) -> str:
    """A new one-time sign-in token for ``viewer`` (the link is ``/fleet/signin?token=...``)."""
    token = secrets.token_urlsafe(32)
    value = json.dumps({"platform": viewer.platform, "user": viewer.user, "shown_as": viewer.shown_as})
    await redis.set(_token_key(token), value, ex=ttl)
    return token


async def redeem_signin(redis: aioredis.Redis, token: str) -> Viewer | None:
    """The viewer ``token`` signs in, deleting it in the same step (GETDEL); None when used, expired or unknown."""
    if not token or len(token) > 200:
        return None
    raw = await redis.getdel(_token_key(token))
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return Viewer(str(data["platform"]), str(data["user"]), str(data.get("shown_as", "")))
    except (ValueError, KeyError, TypeError):
        return None


def secure_cookies(public_url: str) -> bool:
    """Cookies are Secure unless fluxops is served over plain http (the sandbox on 127.0.0.1)."""
    return not public_url.lower().startswith("http://")
