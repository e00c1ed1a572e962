"""Deploy keys: kept in the sandbox's ``GitAccess``, so the simulated Flux checks SSH fetches against them."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from sandbox.git_access import DeployKeyError
from sandbox.github.rest.errors import ApiError, not_found, validation
from sandbox.github.rest.resource import Resource, api_base
from sandbox.gitrepos import RepoHandle


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class DeployKeys(Resource):
    """A repository's deploy keys: list, add, read, remove."""

    def key_json(self, request: web.Request, handle: RepoHandle, entry: Any) -> dict[str, Any]:
        return {
            "id": entry.id,
            "key": entry.key,
            "url": f"{api_base(request)}/repos/{handle.slug}/keys/{entry.id}",
            "title": entry.title,
            "verified": True,
            "created_at": _iso(entry.created_at),
            "read_only": entry.read_only,
            "added_by": self.fake.key_added_by.get(entry.id),
            "last_used": None,
            "enabled": True,
        }

    def _admin(self, request: web.Request) -> None:
        if self.principal(request).kind == "anonymous":
            raise ApiError(401, "Requires authentication")

    async def list_keys(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        self._admin(request)
        keys = self.fake.access.deploy_keys("github.com", handle.slug)
        items, headers = self._page(request, keys)
        return web.json_response([self.key_json(request, handle, k) for k in items], headers=headers)

    async def create_key(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        body = await self._json(request)
        public = body.get("key")
        if not isinstance(public, str) or not public.strip():
            raise validation("key is missing", resource="PublicKey", field="key", code="missing_field")
        title = body.get("title")
        read_only = body.get("read_only", True)
        if not isinstance(read_only, bool):
            raise validation("read_only is invalid", resource="PublicKey", field="read_only", code="invalid")
        try:
            key_id = self.fake.access.add_deploy_key(
                "github.com", handle.slug, public, title=str(title or ""), read_only=read_only
            )
        except DeployKeyError as exc:
            raise validation(str(exc), resource="PublicKey", field="key") from None
        self.fake.key_added_by[key_id] = self.principal(request).login
        entry = next(k for k in self.fake.access.deploy_keys("github.com", handle.slug) if k.id == key_id)
        return web.json_response(self.key_json(request, handle, entry), status=201)

    async def get_key(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        self._admin(request)
        key_id = int(request.match_info["id"])
        for entry in self.fake.access.deploy_keys("github.com", handle.slug):
            if entry.id == key_id:
                return web.json_response(self.key_json(request, handle, entry))
        raise not_found()

    async def delete_key(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        if not self.fake.access.remove_deploy_key("github.com", handle.slug, int(request.match_info["id"])):
            raise not_found()
        return web.Response(status=204)
