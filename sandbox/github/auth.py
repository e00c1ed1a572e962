"""Who is calling the fake GitHub: a personal access token, a GitHub App (JWT) or one of its installations.

Tokens are kept only as SHA-256 digests. As on GitHub: ``Authorization: token X`` and ``Bearer X`` both
work; a GitHub App authenticates with an RS256 JWT whose ``iss`` is its id and trades it for an
installation token (``POST /app/installations/{id}/access_tokens``, one hour by default).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from bot.models import Secret

#: GitHub refuses app JWTs that expire more than ten minutes ahead
JWT_MAX_LIFETIME = 600
JWT_LEEWAY = 60


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; ``login`` is what comments and statuses it creates are attributed to."""

    kind: str  # "token" | "installation" | "app" | "anonymous"
    login: str
    installation_id: int | None = None

    @property
    def is_installation(self) -> bool:
        return self.kind == "installation"


ANONYMOUS = Principal("anonymous", "")


class AuthError(Exception):
    """The credentials were refused: status and GitHub's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AppConfig:
    app_id: int
    public_key_pem: str
    slug: str
    installation_id: int
    token_ttl: float


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Authenticator:
    """Checks the ``Authorization`` header against the configured token and the app's keys and tokens."""

    def __init__(self, *, token: Secret | None, token_login: str, app: AppConfig | None) -> None:
        self._token = _digest(token.reveal()) if token is not None else None
        self.token_login = token_login
        self.app = app
        self._installation_tokens: dict[bytes, tuple[int, float]] = {}  # digest -> (installation, expiry)

    @property
    def app_login(self) -> str:
        return f"{self.app.slug}[bot]" if self.app else ""

    def principal(self, authorization: str | None) -> Principal:
        """The caller named by an ``Authorization`` header (ANONYMOUS without one); AuthError when refused."""
        if not authorization:
            return ANONYMOUS
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise AuthError(401, "Bad credentials")
        if credential.count(".") == 2 and self.app is not None and scheme.lower() == "bearer":
            self._verify_jwt(credential)
            return Principal("app", self.app_login)
        digest = _digest(credential)
        if self._token is not None and secrets.compare_digest(digest, self._token):
            return Principal("token", self.token_login)
        issued = self._installation_tokens.get(digest)
        if issued is not None and issued[1] > time.time():
            return Principal("installation", self.app_login, installation_id=issued[0])
        raise AuthError(401, "Bad credentials")

    def _verify_jwt(self, token: str) -> None:
        assert self.app is not None
        try:
            claims = jwt.decode(
                token,
                self.app.public_key_pem,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "iss"], "verify_iss": False},
                leeway=JWT_LEEWAY,
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "'Expiration time' claim ('exp') must be a numeric value in the future") from None
        except jwt.PyJWTError:
            raise AuthError(401, "A JSON web token could not be decoded") from None
        if str(claims.get("iss")) != str(self.app.app_id):
            raise AuthError(401, "'Issuer' claim ('iss') must be an Integer")
        if float(claims["exp"]) - float(claims["iat"]) > JWT_MAX_LIFETIME + JWT_LEEWAY:
            raise AuthError(401, "'Expiration time' claim ('exp') is too far in the future")

    def issue_installation_token(self, installation_id: int) -> tuple[str, str]:
        """A new installation token and its expiry (ISO 8601) for an installation of the app."""
        assert self.app is not None
        token = "ghs_" + secrets.token_urlsafe(27)[:36]
        expires = time.time() + self.app.token_ttl
        self._installation_tokens[_digest(token)] = (installation_id, expires)
        return token, datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def installation_tokens_issued(self) -> int:
        return len(self._installation_tokens)
