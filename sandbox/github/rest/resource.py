"""The base of the REST endpoints: repository lookup with GitHub's visibility rules, JSON bodies, paging."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.github import payloads
from sandbox.github.auth import Principal
from sandbox.github.rest.errors import ApiError, not_found
from sandbox.github.state import PullRequest
from sandbox.gitrepos import RepoHandle

if TYPE_CHECKING:
    from sandbox.github.core import GitHubCore


MAX_PER_PAGE = 100
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: who the request authenticated as (set by the server's middleware)
PRINCIPAL = web.RequestKey("principal", Principal)


def api_base(request: web.Request) -> str:
    """The base of every API and web URL in an answer: the request's own scheme and host."""
    return f"{request.scheme}://{request.host}"


class Resource:
    """What every group of endpoints shares: the fake's state and git, lookups that answer 404, paging."""

    def __init__(self, fake: GitHubCore) -> None:
        self.fake = fake
        self.state = fake.state
        self.git = fake.git

    @staticmethod
    def principal(request: web.Request) -> Principal:
        return request[PRINCIPAL]

    def _repo(self, request: web.Request, *, write: bool = False) -> RepoHandle:
        slug = f"{request.match_info['owner']}/{request.match_info['repo']}"
        handle = self.git.handle(slug)
        principal = self.principal(request)
        if principal.kind == "anonymous":
            if handle is None or handle.private:
                raise not_found()
            if write:
                raise ApiError(401, "Requires authentication")
        if handle is None:
            raise not_found()
        if principal.kind == "app":
            # A JWT speaks for the app, not for an installation: repository endpoints refuse it.
            raise ApiError(401, "A JSON web token cannot be used to access this resource")
        return handle

    def repo_json(self, request: web.Request, handle: RepoHandle) -> dict[str, Any]:
        return self.fake.repository_json(handle, api=api_base(request), web=api_base(request))

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json() if await request.read() else {}
        except ValueError:
            raise ApiError(400, "Problems parsing JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Problems parsing JSON")
        return body

    def _resolve(self, handle: RepoHandle, ref: str) -> str:
        sha = self.git.resolve(handle, ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return sha

    def _pull(self, handle: RepoHandle, number: int) -> PullRequest:
        pr = self.state.pull(handle.slug, number)
        if pr is None:
            raise not_found()
        return pr

    def _user(self, request: web.Request, login: str) -> dict[str, Any]:
        base = api_base(request)
        return payloads.user(login, api=base, web=base)

    @staticmethod
    def _page(request: web.Request, items: Sequence[Any], *, default: int = 30) -> tuple[list[Any], dict[str, str]]:
        """One page of ``items`` and the ``Link`` header GitHub sends with it."""
        try:
            per_page = max(1, min(MAX_PER_PAGE, int(request.query.get("per_page", default))))
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            per_page, page = default, 1
        last = max(1, (len(items) + per_page - 1) // per_page)
        chunk = list(items[(page - 1) * per_page : page * per_page])
        links = []

        def link(n: int, rel: str) -> str:
            query = {**request.query, "page": str(n), "per_page": str(per_page)}
            return f'<{api_base(request)}{request.path}?{urllib.parse.urlencode(query)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return chunk, ({"Link": ", ".join(links)} if links else {})

    async def _thread(self, func: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(func, *args)

    def app_json(self, request: web.Request) -> dict[str, Any]:
        app = self.fake.auth.app
        if app is None:
            raise not_found()
        base = api_base(request)
        return {
            "id": app.app_id,
            "slug": app.slug,
            "node_id": payloads.node_id("App", app.app_id),
            "client_id": f"Iv1.{app.app_id:016x}",
            "owner": payloads.user("fluxops-sandbox", api=base, web=base),
            "name": app.slug,
            "description": "fluxops in the sandbox",
            "external_url": base,
            "html_url": f"{base}/apps/{app.slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": {
                "checks": "write",
                "contents": "read",
                "issues": "write",
                "metadata": "read",
                "pull_requests": "write",
                "statuses": "write",
                "administration": "write",
            },
            "events": ["push", "pull_request", "pull_request_review", "issue_comment"],
            "installations_count": 1,
        }
