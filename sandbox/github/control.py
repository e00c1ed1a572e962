"""``/_sandbox/*``: JSON routes (no auth) that act as people on GitHub and read what fluxops did.

Each route is a thin wrapper of a ``FakeGitHub`` method; the package docstring lists them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.github.server import SandboxError

if TYPE_CHECKING:
    from sandbox.github.server import FakeGitHub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _text(body: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value:
        raise SandboxError(400, f"{name} must be a non-empty string")
    return value


def _int(body: Any, name: str) -> int:
    value = body.get(name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SandboxError(400, f"{name} must be an integer") from None


def _files(body: dict[str, Any], *, required: bool = True) -> dict[str, str | None] | None:
    files = body.get("files")
    if files is None and not required:
        return None
    if not isinstance(files, dict) or not files:
        raise SandboxError(400, "files must be an object of path -> text (null deletes)")
    if not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in files.items()):
        raise SandboxError(400, "files must map paths to text or null")
    return dict(files)


class Control:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    def add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/_sandbox/health", self.health),
            ("POST", "/_sandbox/push", self.push),
            ("POST", "/_sandbox/pulls", self.open_pull),
            ("POST", "/_sandbox/pulls/{number:\\d+}/push", self.push_to_pull),
            ("POST", "/_sandbox/comment", self.comment),
            ("POST", "/_sandbox/edit-comment", self.edit_comment),
            ("POST", "/_sandbox/replay", self.replay),
            ("POST", "/_sandbox/review", self.review),
            ("POST", "/_sandbox/merge", self.merge),
            ("POST", "/_sandbox/close", self.close),
            ("POST", "/_sandbox/collaborators", self.collaborators),
            ("POST", "/_sandbox/redeliver", self.redeliver),
            ("POST", "/_sandbox/ping", self.ping),
            ("POST", "/_sandbox/webhook", self.webhook),
            ("POST", "/_sandbox/faults", self.add_fault),
            ("POST", "/_sandbox/faults/deploy-keys", self.break_deploy_keys),
            ("DELETE", "/_sandbox/faults", self.clear_faults),
            ("GET", "/_sandbox/requests", self.requests),
            ("GET", "/_sandbox/statuses", self.statuses),
            ("GET", "/_sandbox/comments", self.comments),
            ("GET", "/_sandbox/check-runs", self.check_runs),
            ("GET", "/_sandbox/deliveries", self.deliveries),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._guard(handler))

    @staticmethod
    def _guard(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except SandboxError as exc:
                return _problem(exc.status, exc.message)

        return guarded

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise SandboxError(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise SandboxError(400, "the body must be a JSON object")
        return body

    # -- acting ------------------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def push(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        files = _files(body)
        assert files is not None
        outcome = await self.fake.push(
            _text(body, "repo"),
            _text(body, "branch", default="main"),
            files,
            message=_text(body, "message", default="Update files"),
            author=_text(body, "author", default="sandbox-user"),
        )
        return web.json_response(outcome.as_json())

    async def open_pull(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        base = body.get("base")
        outcome = await self.fake.open_pull(
            _text(body, "repo"),
            _text(body, "head"),
            base=base if isinstance(base, str) and base else None,
            title=str(body.get("title") or ""),
            author=_text(body, "author", default="sandbox-user"),
            files=_files(body, required=False),
            fork=bool(body.get("fork", False)),
            body=body.get("body") if isinstance(body.get("body"), str) else None,
            message=body.get("message") if isinstance(body.get("message"), str) else None,
        )
        return web.json_response(outcome.as_json(), status=201)

    async def push_to_pull(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        files = _files(body)
        assert files is not None
        outcome = await self.fake.push_to_pull(
            _text(body, "repo"),
            _int(request.match_info, "number"),
            files,
            message=_text(body, "message", default="Update files"),
            author=body.get("author") if isinstance(body.get("author"), str) else None,
        )
        return web.json_response(outcome.as_json())

    async def comment(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        created_at = body.get("created_at")
        outcome = await self.fake.comment(
            _text(body, "repo"),
            _int(body, "number"),
            _text(body, "body"),
            author=_text(body, "author", default="sandbox-user"),
            created_at=created_at if isinstance(created_at, str) and created_at else None,
        )
        return web.json_response(outcome.as_json(), status=201)

    async def edit_comment(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        outcome = await self.fake.edit_comment(
            _text(body, "repo"), _int(body, "id"), _text(body, "body"), editor=_text(body, "editor")
        )
        return web.json_response(outcome.as_json())

    async def replay(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        delivery = await self.fake.replay(_text(body, "delivery"))
        return web.json_response(delivery.as_json())

    async def review(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        outcome = await self.fake.review(
            _text(body, "repo"),
            _int(body, "number"),
            reviewer=_text(body, "reviewer"),
            state=_text(body, "state"),
            body=str(body.get("body") or ""),
        )
        return web.json_response(outcome.as_json(), status=201)

    async def merge(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        author = body.get("author")
        outcome = await self.fake.merge(
            _text(body, "repo"), _int(body, "number"), author=author if isinstance(author, str) else None
        )
        return web.json_response(outcome.as_json())

    async def close(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        author = body.get("author")
        outcome = await self.fake.close(
            _text(body, "repo"), _int(body, "number"), author=author if isinstance(author, str) else None
        )
        return web.json_response(outcome.as_json())

    async def collaborators(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        repo, login, permission = _text(body, "repo"), _text(body, "login"), _text(body, "permission")
        self.fake.set_permission(repo, login, permission)
        return web.json_response({"repo": repo, "login": login, "permission": permission})

    async def redeliver(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        delivery = await self.fake.redeliver(_text(body, "delivery"))
        return web.json_response(delivery.as_json())

    async def ping(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        outcome = await self.fake.ping(_text(body, "repo"))
        return web.json_response(outcome.as_json())

    async def webhook(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        url = body.get("url")
        if url is not None and not isinstance(url, str):
            raise SandboxError(400, "url must be a string or null")
        self.fake.webhook_url = url or None
        return web.json_response({"url": self.fake.webhook_url})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        kind = str(body.get("kind") or "error")
        path = body.get("path") if isinstance(body.get("path"), str) else None
        method = body.get("method") if isinstance(body.get("method"), str) else None
        count = int(body.get("count") or 1)
        if kind in ("rate_limit", "secondary_rate_limit"):
            fault = self.fake.inject_rate_limit(
                float(body.get("reset_in") or 60),
                secondary=kind == "secondary_rate_limit",
                path=path,
                method=method,
                count=count,
            )
        elif kind == "error":
            retry_after = body.get("retry_after")
            fault = self.fake.inject_fault(
                int(body.get("status") or 503),
                path=path,
                method=method,
                count=count,
                message=body.get("message") if isinstance(body.get("message"), str) else None,
                retry_after=float(retry_after) if retry_after is not None else None,
            )
        else:
            raise SandboxError(400, "kind must be error, rate_limit or secondary_rate_limit")
        return web.json_response({"status": fault.status, "message": fault.message, "count": fault.remaining})

    async def break_deploy_keys(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        count = _int(body, "count") if body.get("count") is not None else 1
        return web.json_response({"broken_next": self.fake.break_next_deploy_keys(_text(body, "repo"), count)})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.fake.clear_faults()
        return web.json_response({"faults": 0})

    # -- reading -----------------------------------------------------------------------------------

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.fake.requests()})

    async def statuses(self, request: web.Request) -> web.Response:
        repo = request.query.get("repo", "")
        if not repo:
            raise SandboxError(400, "repo is required")
        return web.json_response({"statuses": self.fake.statuses(repo, request.query.get("sha") or None)})

    async def comments(self, request: web.Request) -> web.Response:
        repo = request.query.get("repo", "")
        if not repo:
            raise SandboxError(400, "repo is required")
        number = request.query.get("number")
        if number is not None and not number.isdigit():
            raise SandboxError(400, "number must be an integer")
        return web.json_response({"comments": self.fake.comments(repo, int(number) if number else None)})

    async def check_runs(self, request: web.Request) -> web.Response:
        repo = request.query.get("repo", "")
        if not repo:
            raise SandboxError(400, "repo is required")
        return web.json_response({"check_runs": self.fake.check_runs(repo, request.query.get("sha") or None)})

    async def deliveries(self, request: web.Request) -> web.Response:
        return web.json_response({"deliveries": self.fake.deliveries()})
