"""A managed identity endpoint, as App Service and Azure Functions serve it to their apps.

azure-identity's DefaultAzureCredential finds it through IDENTITY_ENDPOINT and IDENTITY_HEADER and
asks it for ARM tokens, so fluxops' workers run against the sandbox with the same credential code
they use in Azure. Plain HTTP on loopback, as the real one is.
"""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from sandbox.entra import SANDBOX_PRINCIPAL_ID, issue_token


class IdentityEndpoint:
    """GET /msi/token?api-version=2019-08-01&resource=... with header X-IDENTITY-HEADER."""

    def __init__(self) -> None:
        self.header_secret = secrets.token_urlsafe(24)
        self.issued: list[str] = []  # resources tokens were issued for, for tests
        self.base_url = ""

    @property
    def url(self) -> str:
        return f"{self.base_url}/msi/token"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/msi/token", self._token)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.headers.get("X-IDENTITY-HEADER", ""), self.header_secret):
            return web.json_response(
                {"statusCode": 400, "message": "X-IDENTITY-HEADER is missing or wrong"}, status=400
            )
        resource = request.query.get("resource", "")
        if request.query.get("api-version") != "2019-08-01" or not resource:
            return web.json_response(
                {"statusCode": 400, "message": "api-version and resource are required"}, status=400
            )
        self.issued.append(resource)
        expires_on = int(time.time()) + 3600
        return web.json_response(
            {
                "access_token": issue_token(resource),
                "expires_on": str(expires_on),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": SANDBOX_PRINCIPAL_ID,
            }
        )
