"""The registry's HTTP API: the pull side of the OCI distribution spec, and a token endpoint.

Auth as Docker Hub and ACR do it: a request without a token gets 401 and a ``Bearer`` challenge naming
``{base}/token``; the client fetches a token there with its user and password (HTTP basic; anonymous for a
public repository) and retries with it. Basic credentials are also taken on the API itself, as a plain
distribution registry with htpasswd would. A sandbox Entra token for the registry's audience (what the
cluster's workload identity gets) is taken as a bearer token too: ACR would first exchange it for a registry
token, a step the sandbox leaves out.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from typing import Any

from aiohttp import web

from sandbox.entra import audience_of_scope, read_token
from sandbox.oci_registry.store import OCI_MANIFEST_MEDIA_TYPE, RegistryStore

#: the audience of Entra tokens for Azure Container Registry
ACR_AUDIENCE = "https://containerregistry.azure.net"
TOKEN_SECONDS = 300


def _errors(
    status: int, code: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"errors": [{"code": code, "message": message, "detail": detail}]}
    return web.json_response(body, status=status, headers=headers)


class OciRegistry:
    """Serves ``store``; ``users`` maps user names to passwords; ``public`` repositories need no credentials."""

    def __init__(self, store: RegistryStore | None = None, *, users: dict[str, str] | None = None) -> None:
        self.store = store or RegistryStore()
        self.users = dict(users or {})
        self.public: set[str] = set()
        self.base_url = ""  # set once serving
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        #: every request, (method, path, status): what a test or a person can read back
        self.requests: list[tuple[str, str, int]] = []

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/token", self._token)
        app.router.add_route("GET", "/v2/", self._base)
        app.router.add_route("*", "/v2/{name:.+}/manifests/{reference}", self._manifest)
        app.router.add_route("*", "/v2/{name:.+}/blobs/{digest}", self._blob)
        app.router.add_get("/v2/{name:.+}/tags/list", self._tags)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        self.requests.append((request.method, request.path, response.status))
        return response

    # -- auth -----------------------------------------------------------------------------------

    def _basic_ok(self, header: str) -> bool | None:
        """None: no basic credentials; else whether they are a known user's."""
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        known = self.users.get(user)
        return known is not None and secrets.compare_digest(known, password)

    def _authorized(self, request: web.Request, name: str | None) -> bool:
        if name is not None and name in self.public:
            return True
        header = request.headers.get("Authorization", "")
        basic = self._basic_ok(header)
        if basic is not None:
            return basic
        if header.startswith("Bearer "):
            token = header[7:].strip()
            expiry = self._tokens.get(token)
            if expiry is not None:
                return expiry > time.monotonic()
            entra = read_token(token)
            return entra is not None and audience_of_scope(entra.audience) == ACR_AUDIENCE
        return False

    def _challenge(self, request: web.Request, name: str | None) -> web.Response:
        realm = f"{self.base_url}/token"
        service = request.host
        challenge = f'Bearer realm="{realm}",service="{service}"'
        detail = None
        if name is not None:
            challenge += f',scope="repository:{name}:pull"'
            detail = [{"Type": "repository", "Class": "", "Name": name, "Action": "pull"}]
        return _errors(401, "UNAUTHORIZED", "authentication required", detail, {"WWW-Authenticate": challenge})

    async def _token(self, request: web.Request) -> web.Response:
        scope = request.query.get("scope", "")
        name = scope.split(":")[1] if scope.count(":") >= 2 else None
        basic = self._basic_ok(request.headers.get("Authorization", ""))
        if basic is False or (basic is None and not (name is not None and name in self.public)):
            return _errors(401, "UNAUTHORIZED", "authentication required", None)
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + TOKEN_SECONDS
        return web.json_response({"token": token, "access_token": token, "expires_in": TOKEN_SECONDS})

    # -- API -------------------------------------------------------------------------------------

    async def _base(self, request: web.Request) -> web.Response:
        if not self._authorized(request, None):
            return self._challenge(request, None)
        return web.json_response({})

    async def _manifest(self, request: web.Request) -> web.Response:
        name, reference = request.match_info["name"], request.match_info["reference"]
        if request.method not in ("GET", "HEAD"):
            return _errors(405, "UNSUPPORTED", "the sandbox registry is read-only: artifacts are pushed by its seed")
        if not self._authorized(request, name):
            return self._challenge(request, name)
        if self.store.tags(name) is None:
            return _errors(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
        found = self.store.manifest(name, reference)
        if found is None:
            return _errors(
                404, "MANIFEST_UNKNOWN", "manifest unknown", {"Tag" if ":" not in reference else "Digest": reference}
            )
        digest, body = found
        headers = {"Docker-Content-Digest": digest, "Content-Type": OCI_MANIFEST_MEDIA_TYPE}
        if request.method == "HEAD":
            return web.Response(status=200, headers={**headers, "Content-Length": str(len(body))})
        return web.Response(status=200, body=body, headers=headers)

    async def _blob(self, request: web.Request) -> web.Response:
        name, digest = request.match_info["name"], request.match_info["digest"]
        if request.method not in ("GET", "HEAD"):
            return _errors(405, "UNSUPPORTED", "the sandbox registry is read-only: artifacts are pushed by its seed")
        if not self._authorized(request, name):
            return self._challenge(request, name)
        blob = self.store.blob(digest)
        if blob is None:
            return _errors(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
        headers = {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream"}
        if request.method == "HEAD":
            return web.Response(status=200, headers={**headers, "Content-Length": str(len(blob))})
        return web.Response(status=200, body=blob, headers=headers)

    async def _tags(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not self._authorized(request, name):
            return self._challenge(request, name)
        tags = self.store.tags(name)
        if tags is None:
            return _errors(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
        return web.Response(text=json.dumps({"name": name, "tags": tags}), content_type="application/json")
