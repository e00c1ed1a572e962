"""``FakeGitHub``: GitHub's REST API, its webhooks and the sandbox's control over them, in one aiohttp app.

Repositories are the real git repositories of a ``RepoStore`` (host ``github.com``); deploy keys live in
a ``GitAccess``; everything else GitHub remembers (pull requests, comments, reviews, statuses, check
runs, collaborators) is in memory (``fake.state``). See the package docstring for the control routes.

The parts: :mod:`~sandbox.github.core` (state and JSON views), :mod:`~sandbox.github.hook_events`
(webhooks), :mod:`~sandbox.github.actions` (what people do), :mod:`~sandbox.github.rest` (the REST API);
this module serves them and reads back what fluxops did.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.github.actions import SandboxActions
from sandbox.github.auth import AuthError
from sandbox.github.core import Fault, Outcome, SandboxError
from sandbox.github.rest import PRINCIPAL, ApiError
from sandbox.github.state import Delivery, RequestRecord, key

__all__ = ["FakeGitHub", "Fault", "Outcome", "SandboxError"]

MAX_BODY = 10 * 1024 * 1024
RATE_LIMIT = 5000
#: query parameters never recorded (GitHub once accepted tokens there)
_SECRET_QUERY = re.compile(r"token|secret|password|key", re.IGNORECASE)


class FakeGitHub(SandboxActions):
    """GitHub.com for the sandbox, served over plain HTTP.

    ``token`` is the personal access token fluxops may use (as ``GITHUB_TOKEN``); ``app_id`` with
    ``app_public_key_pem`` makes it a GitHub App installed once (``installation_id``) whose webhooks carry
    ``installation``. ``webhook_url`` is where deliveries go, signed with ``webhook_secret``; ``on_push``
    is called with (slug, branch, sha) after every commit the fake makes on a branch.
    """

    # -- serving -----------------------------------------------------------------------------------

    def app(self) -> web.Application:
        from sandbox.github.control import Control

        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._middleware])
        Control(self).add_routes(app)
        self.rest.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port); returns and sets ``base_url``."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/"
        return self.base_url

    async def stop(self) -> None:
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            response: web.StreamResponse = await handler(request)
            return response
        principal_name = "anonymous"
        try:
            principal = self.auth.principal(request.headers.get("Authorization"))
            request[PRINCIPAL] = principal
            principal_name = principal.login or principal.kind
            fault = next((f for f in self.faults if f.matches(request.method, request.path)), None)
            if fault is not None:
                fault.remaining -= 1
                raise ApiError(fault.status, fault.message, headers=fault.headers)
            response = await handler(request)
        except ApiError as exc:
            response = exc.response()
        except AuthError as exc:
            response = ApiError(exc.status, exc.message).response()
        except web.HTTPMethodNotAllowed:
            response = ApiError(404, "Not Found").response()
        except web.HTTPNotFound:
            response = ApiError(404, "Not Found").response()
        self._rate_headers(response)
        await self._record(request, response.status, principal_name)
        return response

    def _rate_headers(self, response: web.StreamResponse) -> None:
        now = int(time.time())
        if now >= self._rate_reset:
            self._rate_reset, self._rate_used = now + 3600, 0
        self._rate_used += 1
        defaults = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - self._rate_used)),
            "X-RateLimit-Reset": str(self._rate_reset),
            "X-RateLimit-Used": str(self._rate_used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
        }
        for name, value in defaults.items():
            response.headers.setdefault(name, value)

    async def _record(self, request: web.Request, status: int, principal: str) -> None:
        body: Any = None
        raw = await request.read() if request.body_exists else b""
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"_unparsed_bytes": len(raw)}
        query = {k: ("**********" if _SECRET_QUERY.search(k) else v) for k, v in request.query.items()}
        if request.path.endswith("/access_tokens"):
            body = None  # nothing secret goes in, but nothing from the token exchange is kept either
        self.state.requests.append(RequestRecord(request.method, request.path, query, body, status, principal))

    # -- faults ------------------------------------------------------------------------------------

    def inject_fault(
        self,
        status: int = 503,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer the next ``count`` matching API requests with ``status``."""
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        text = message or {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}.get(status, "Error")
        fault = Fault(status, text, headers, path, method, count)
        self.faults.append(fault)
        return fault

    def inject_rate_limit(
        self,
        reset_in: float = 60.0,
        *,
        secondary: bool = False,
        path: str | None = None,
        method: str | None = None,
        count: int = 1,
    ) -> Fault:
        """Answer as GitHub does when a rate limit is hit: 403 with X-RateLimit-Reset (primary) or
        429 with Retry-After (secondary)."""
        reset = int(time.time() + reset_in)
        if secondary:
            headers = {"Retry-After": str(int(reset_in))}
            message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
            fault = Fault(429, message, headers, path, method, count)
        else:
            headers = {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Used": str(RATE_LIMIT),
            }
            message = "API rate limit exceeded for installation. Check out the documentation for more details."
            fault = Fault(403, message, headers, path, method, count)
        self.faults.append(fault)
        return fault

    def break_next_deploy_keys(self, slug: str, count: int = 1) -> int:
        """A fault: the next ``count`` deploy keys added to ``slug`` are accepted and listed, but SSH
        does not honour them. Returns how many are now pending for that repository."""
        handle = self._handle(slug)
        if count < 1:
            raise SandboxError(400, "count must be a positive integer")
        return self.access.break_next_keys("github.com", handle.slug, count)

    def clear_faults(self) -> None:
        """Drop every pending API fault and deploy-key fault, and let SSH honour broken keys again."""
        self.faults.clear()
        self.access.clear_key_faults()

    # -- reading what fluxops did ------------------------------------------------------------------

    def statuses(self, repo: str, sha: str | None = None) -> list[dict[str, Any]]:
        """Commit statuses, newest first."""
        k = key(repo)
        return [
            {
                "id": s.id,
                "repo": s.repo,
                "sha": s.sha,
                "state": s.state,
                "context": s.context,
                "description": s.description,
                "target_url": s.target_url,
                "creator": s.creator,
                "created_at": s.created_at,
            }
            for s in reversed(self.state.statuses)
            if key(s.repo) == k and (sha is None or s.sha == sha)
        ]

    def comments(self, repo: str, number: int | None = None) -> list[dict[str, Any]]:
        """Comments on pull requests, oldest first."""
        k = key(repo)
        return [
            {
                "id": c.id,
                "repo": c.repo,
                "number": c.number,
                "author": c.author,
                "body": c.body,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
                "via_app": c.via_app,
                "reactions": [{"user": r.user, "content": r.content} for r in c.reactions],
            }
            for c in sorted(self.state.comments.values(), key=lambda c: c.id)
            if key(c.repo) == k and (number is None or c.number == number)
        ]

    def check_runs(self, repo: str, sha: str | None = None) -> list[dict[str, Any]]:
        k = key(repo)
        return [
            {
                "id": r.id,
                "repo": r.repo,
                "head_sha": r.head_sha,
                "name": r.name,
                "status": r.status,
                "conclusion": r.conclusion,
                "output": r.output,
                "details_url": r.details_url,
                "external_id": r.external_id,
                "started_at": r.started_at,
                "completed_at": r.completed_at,
            }
            for r in self.state.check_runs.values()
            if key(r.repo) == k and (sha is None or r.head_sha == sha)
        ]

    def requests(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.state.requests]

    def deliveries(self) -> list[dict[str, Any]]:
        return [d.as_json() for d in self.state.deliveries.values()]

    def delivery(self, delivery_id: str) -> Delivery | None:
        return self.state.deliveries.get(delivery_id)
