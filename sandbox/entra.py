"""Microsoft Entra access tokens as the sandbox hands them out and checks them.

A real Entra token is a signed JWT whose ``aud`` names the application it is for; AKS clusters with Entra
integration accept tokens for the AKS server application. The sandbox's tokens carry the same facts in a plain
form, ``sandbox-entra.<audience>.<issued at, ms>.<random>``, unsigned: the sandbox trusts its own format. The
managed identity endpoint (sandbox/identity.py) and SandboxCredential (sandbox/credential.py) both issue them.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass

#: the AKS server application (Azure Kubernetes Service AAD Server): the audience of tokens for AKS clusters
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
#: the object id the sandbox's managed identity is known by (RBAC denials name it)
SANDBOX_PRINCIPAL_ID = "00000000-0000-4000-8000-00000000f1d0"
_PREFIX = "sandbox-entra"


@dataclass(frozen=True)
class EntraToken:
    audience: str
    issued_at: float  # seconds since the epoch


def audience_of_scope(scope: str) -> str:
    """The audience a scope or resource names: ``X/.default`` and ``X/`` are ``X``."""
    return scope.removesuffix("/.default").rstrip("/")


def issue_token(scope: str, now: float | None = None) -> str:
    """A token for ``scope`` (a resource, or a scope ending in ``/.default``)."""
    audience = base64.urlsafe_b64encode(audience_of_scope(scope).encode()).decode().rstrip("=")
    issued_ms = int((time.time() if now is None else now) * 1000)
    return f"{_PREFIX}.{audience}.{issued_ms}.{secrets.token_urlsafe(12)}"


def read_token(token: str) -> EntraToken | None:
    """What a sandbox Entra token says, or None when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _PREFIX or not parts[2].isdigit():
        return None
    try:
        audience = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return EntraToken(audience=audience, issued_at=int(parts[2]) / 1000)
