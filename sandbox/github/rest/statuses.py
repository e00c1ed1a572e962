"""Commit statuses: create, list, and the combined status of a ref."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.github import payloads
from sandbox.github.rest.errors import ApiError, validation
from sandbox.github.rest.resource import Resource, api_base
from sandbox.github.state import Status

STATUS_STATES = ("error", "failure", "pending", "success")
STATUS_DESCRIPTION_MAX = 140


class Statuses(Resource):
    """Commit statuses, newest first, and their roll-up per context."""

    def status_json(self, request: web.Request, status: Status) -> dict[str, Any]:
        creator = self._user(request, status.creator)
        return {
            "url": f"{api_base(request)}/repos/{status.repo}/statuses/{status.sha}",
            "avatar_url": creator["avatar_url"],
            "id": status.id,
            "node_id": payloads.node_id("StatusContext", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": status.created_at,
            "updated_at": status.created_at,
            "creator": creator,
        }

    async def create_status(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        body = await self._json(request)
        sha = self.git.resolve(handle, request.match_info["sha"])
        if sha is None or len(request.match_info["sha"]) != 40:
            raise ApiError(422, f"No commit found for SHA: {request.match_info['sha']}")
        state = body.get("state")
        if state not in STATUS_STATES:
            raise validation("state is not included in the list", resource="Status", field="state", code="invalid")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise validation("description is invalid", resource="Status", field="description", code="invalid")
        if description is not None and len(description) > STATUS_DESCRIPTION_MAX:
            raise validation(
                "description is too long (maximum is 140 characters)", resource="Status", field="description"
            )
        status = Status(
            id=self.state.next_id(),
            repo=handle.slug,
            sha=sha,
            state=state,
            context=str(body.get("context") or "default"),
            description=description,
            target_url=body.get("target_url") or None,
            creator=self.principal(request).login,
            created_at=payloads.now_iso(),
        )
        self.state.statuses.append(status)
        return web.json_response(self.status_json(request, status), status=201)

    async def list_statuses(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        sha = self._resolve(handle, request.match_info["ref"])
        items, headers = self._page(request, self.state.statuses_of(handle.slug, sha))
        return web.json_response([self.status_json(request, s) for s in items], headers=headers)

    async def combined_status(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        sha = self._resolve(handle, request.match_info["ref"])
        latest: dict[str, Status] = {}
        for status in self.state.statuses_of(handle.slug, sha):  # newest first
            latest.setdefault(status.context, status)
        states = {s.state for s in latest.values()}
        if states & {"error", "failure"}:
            combined = "failure"
        elif not states or "pending" in states:
            combined = "pending"
        else:
            combined = "success"
        api = f"{api_base(request)}/repos/{handle.slug}"
        return web.json_response(
            {
                "state": combined,
                "statuses": [self.status_json(request, s) for s in latest.values()],
                "sha": sha,
                "total_count": len(latest),
                "repository": self.repo_json(request, handle),
                "commit_url": f"{api}/commits/{sha}",
                "url": f"{api}/commits/{sha}/status",
            }
        )
