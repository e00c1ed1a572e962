"""A token credential for the sandbox: the emulator wants a Bearer token, not a real one."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken


class SandboxCredential:
    """Satisfies azure.core.credentials.TokenCredential with a fixed, clearly fake token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fluxops-sandbox-token", int(time.time()) + 3600)
