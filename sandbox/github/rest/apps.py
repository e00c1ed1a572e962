"""``/user``, ``/rate_limit``, ``/meta`` and the GitHub App endpoints (app, installations, tokens)."""

from __future__ import annotations

import base64
import time
from typing import Any

from aiohttp import web

from sandbox.git_access import ssh_fingerprint
from sandbox.github import payloads
from sandbox.github.rest.errors import ApiError, not_found
from sandbox.github.rest.resource import Resource, api_base

#: the address ranges ``GET /meta`` lists (GitHub's published ones; nothing in the sandbox uses them)
META_RANGES: dict[str, list[str]] = {
    "hooks": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"],
    "web": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.151/32"],
    "api": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.148/32"],
    "git": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20", "20.201.28.151/32"],
    "packages": ["140.82.121.33/32", "140.82.121.34/32"],
    "pages": ["192.30.252.153/32", "192.30.252.154/32", "185.199.108.153/32", "185.199.109.153/32"],
    "importer": ["52.23.85.212/32", "52.0.228.224/32", "52.22.155.48/32"],
}
_FINGERPRINT_NAMES = {"ssh-ed25519": "ED25519", "ecdsa-sha2-nistp256": "ECDSA", "ssh-rsa": "RSA"}


class Apps(Resource):
    """Who is calling: the authenticated user, the app behind a JWT and its installation."""

    async def get_user(self, request: web.Request) -> web.Response:
        principal = self.principal(request)
        if principal.kind == "anonymous":
            raise ApiError(401, "Requires authentication")
        if principal.kind != "token":
            raise ApiError(403, "Resource not accessible by integration")
        body = self._user(request, principal.login)
        body.update({"name": principal.login, "email": None, "public_repos": 0, "created_at": "2024-01-01T00:00:00Z"})
        return web.json_response(body)

    async def rate_limit(self, request: web.Request) -> web.Response:
        reset = int(time.time()) + 3600
        core = {"limit": 5000, "remaining": 4999, "reset": reset, "used": 1, "resource": "core"}
        return web.json_response({"resources": {"core": core}, "rate": core})

    async def meta(self, request: web.Request) -> web.Response:
        """GitHub's meta: its SSH host keys (those the simulated Flux checks known_hosts against),
        their fingerprints and address ranges. No authentication needed, as on api.github.com."""
        ssh_keys = self.fake.access.host_keys("github.com")
        fingerprints: dict[str, str] = {}
        for line in ssh_keys:
            key_type, encoded = line.split()[:2]
            name = "SHA256_" + _FINGERPRINT_NAMES.get(key_type, key_type.upper())
            fingerprints[name] = ssh_fingerprint(base64.b64decode(encoded)).removeprefix("SHA256:")
        body: dict[str, Any] = {
            "verifiable_password_authentication": False,
            "ssh_key_fingerprints": fingerprints,
            "ssh_keys": ssh_keys,
            **{name: list(ranges) for name, ranges in META_RANGES.items()},
        }
        return web.json_response(body)

    def _installation(self, request: web.Request) -> dict[str, Any]:
        app = self.fake.auth.app
        assert app is not None
        base = api_base(request)
        return {
            "id": app.installation_id,
            "account": payloads.user("fluxops-sandbox", api=base, web=base),
            "repository_selection": "all",
            "access_tokens_url": f"{base}/app/installations/{app.installation_id}/access_tokens",
            "repositories_url": f"{base}/installation/repositories",
            "html_url": f"{base}/settings/installations/{app.installation_id}",
            "app_id": app.app_id,
            "app_slug": app.slug,
            "target_id": 1,
            "target_type": "Organization",
            "permissions": self.app_json(request)["permissions"],
            "events": self.app_json(request)["events"],
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "single_file_name": None,
            "suspended_at": None,
        }

    def _require_jwt(self, request: web.Request) -> None:
        if self.fake.auth.app is None:
            raise not_found()
        if self.principal(request).kind != "app":
            raise ApiError(401, "A JSON web token could not be decoded")

    async def get_app(self, request: web.Request) -> web.Response:
        self._require_jwt(request)
        return web.json_response(self.app_json(request))

    async def get_installation(self, request: web.Request) -> web.Response:
        self._require_jwt(request)
        app = self.fake.auth.app
        assert app is not None
        if request.match_info["installation_id"] != str(app.installation_id):
            raise not_found()
        return web.json_response(self._installation(request))

    async def repo_installation(self, request: web.Request) -> web.Response:
        self._require_jwt(request)
        slug = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if self.git.handle(slug) is None:
            raise not_found()
        return web.json_response(self._installation(request))

    async def access_token(self, request: web.Request) -> web.Response:
        self._require_jwt(request)
        app = self.fake.auth.app
        assert app is not None
        if request.match_info["installation_id"] != str(app.installation_id):
            raise not_found()
        body = await self._json(request)
        token, expires_at = self.fake.auth.issue_installation_token(app.installation_id)
        permissions = body.get("permissions") or self.app_json(request)["permissions"]
        return web.json_response(
            {
                "token": token,
                "expires_at": expires_at,
                "permissions": permissions,
                "repository_selection": "all",
            },
            status=201,
        )
