"""A token credential for the sandbox: the emulators want a Bearer token, not a real one."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken

from sandbox.entra import AKS_SERVER_APP_ID, audience_of_scope, issue_token


class SandboxCredential:
    """Satisfies azure.core.credentials.TokenCredential with clearly fake tokens: a fixed one for ARM (which
    takes any bearer), and for the AKS server application a sandbox Entra token its Kubernetes API checks."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        expires_on = int(time.time()) + 3600
        if scopes and audience_of_scope(scopes[0]) == AKS_SERVER_APP_ID:
            return AccessToken(issue_token(scopes[0]), expires_on)
        return AccessToken("fluxops-sandbox-token", expires_on)
