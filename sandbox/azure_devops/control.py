"""``/_sandbox/*``: acting as the people of the organization, and reading what fluxops did (JSON, no auth).

Each route calls the ``FakeAzureDevOps`` method of the same name and answers its result; Azure DevOps
errors come back with their status and ADO's error body, bad input as 400 ``{"error": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.azure_devops.records import AdoError

if TYPE_CHECKING:
    from sandbox.azure_devops.server import FakeAzureDevOps

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadInput(ValueError):
    pass


class Control:
    def __init__(self, fake: FakeAzureDevOps) -> None:
        self.fake = fake

    def add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, _Handler]] = [
            ("GET", "/_sandbox/health", self.health),
            ("POST", "/_sandbox/repos", self.create_repo),
            ("POST", "/_sandbox/push", self.push),
            ("POST", "/_sandbox/pulls", self.open_pull),
            ("GET", "/_sandbox/pulls/{id}", self.get_pull),
            ("POST", "/_sandbox/pulls/{id}/push", self.push_pull),
            ("POST", "/_sandbox/comment", self.comment),
            ("POST", "/_sandbox/vote", self.vote),
            ("POST", "/_sandbox/complete", self.complete),
            ("POST", "/_sandbox/abandon", self.abandon),
            ("POST", "/_sandbox/redeliver", self.redeliver),
            ("POST", "/_sandbox/members", self.members),
            ("POST", "/_sandbox/permissions", self.permissions),
            ("POST", "/_sandbox/faults", self.faults),
            ("GET", "/_sandbox/requests", self.requests),
            ("GET", "/_sandbox/statuses", self.statuses),
            ("GET", "/_sandbox/pr-statuses", self.pr_statuses),
            ("GET", "/_sandbox/threads", self.threads),
            ("GET", "/_sandbox/deliveries", self.deliveries),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, _guarded(handler))

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "org_url": self.fake.org_url})

    async def create_repo(self, request: web.Request) -> web.Response:
        body = await _body(request)
        files = {path: text or "" for path, text in _files(body.get("files", {}), allow_delete=False).items()}
        sha = self.fake.create_repo(_str(body, "repo"), files, branch=str(body.get("branch") or "main"))
        return web.json_response({"sha": sha, "repository": self.fake.repository(_str(body, "repo"))})

    async def push(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = await self.fake.push(
            _str(body, "repo"),
            _str(body, "branch"),
            _files(body.get("files")),
            message=str(body.get("message") or "Update"),
            author=str(body.get("author") or "dev@fluxops.invalid"),
        )
        return web.json_response(result)

    async def open_pull(self, request: web.Request) -> web.Response:
        body = await _body(request)
        files = _files(body["files"]) if body.get("files") else None
        result = await self.fake.open_pull(
            _str(body, "repo"),
            source=_str(body, "source"),
            target=str(body.get("target") or "main"),
            title=str(body.get("title") or ""),
            author=str(body.get("author") or "dev@fluxops.invalid"),
            files=files,
            description=str(body.get("description") or ""),
            fork=str(body["fork"]) if body.get("fork") else None,
        )
        return web.json_response(result)

    async def get_pull(self, request: web.Request) -> web.Response:
        pr = self.fake.org.pull(_int_text(request.match_info["id"], "id"))
        return web.json_response(pr.resource())

    async def push_pull(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = await self.fake.push_pull(
            _int_text(request.match_info["id"], "id"),
            _files(body.get("files")),
            message=str(body.get("message") or "Update"),
            author=str(body["author"]) if body.get("author") else None,
        )
        return web.json_response(result)

    async def comment(self, request: web.Request) -> web.Response:
        body = await _body(request)
        thread = body.get("thread_id")
        result = await self.fake.comment(
            _str(body, "repo"),
            _int(body, "id"),
            author=_str(body, "author"),
            content=_str(body, "content"),
            thread_id=int(thread) if thread not in (None, "") else None,
        )
        return web.json_response(result)

    async def vote(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = await self.fake.vote(
            _str(body, "repo"), _int(body, "id"), reviewer=_str(body, "reviewer"), vote=_int(body, "vote")
        )
        return web.json_response(result)

    async def complete(self, request: web.Request) -> web.Response:
        body = await _body(request)
        by = body.get("by")
        return web.json_response(
            await self.fake.complete(_str(body, "repo"), _int(body, "id"), by=str(by) if by else None)
        )

    async def abandon(self, request: web.Request) -> web.Response:
        body = await _body(request)
        return web.json_response(await self.fake.abandon(_str(body, "repo"), _int(body, "id")))

    async def redeliver(self, request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            delivery = await self.fake.redeliver(_int(body, "notification"))
        except KeyError as exc:
            return web.json_response({"error": str(exc.args[0])}, status=404)
        return web.json_response(delivery.summary())

    async def members(self, request: web.Request) -> web.Response:
        body = await _body(request)
        display = body.get("display_name")
        self.fake.add_member(_str(body, "unique_name"), str(display) if display else None)
        return web.json_response({"members": self.fake.org.members})

    async def permissions(self, request: web.Request) -> web.Response:
        """``{"user", "repo": "project/repo", "allow": [names], "deny": [names], "project_wide": bool}``."""
        body = await _body(request)
        token = self.fake.grant(
            _str(body, "user"),
            _str(body, "repo"),
            allow=body.get("allow") or (),
            deny=body.get("deny") or (),
            project_wide=bool(body.get("project_wide")),
        )
        return web.json_response({"token": token})

    async def faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        retry_after = body.get("retry_after")
        self.fake.fail_next(
            _int(body, "status"),
            count=int(body.get("count") or 1),
            retry_after=float(retry_after) if retry_after is not None else None,
            path=str(body.get("path") or ""),
            method=str(body.get("method") or ""),
        )
        return web.json_response({"ok": True})

    async def requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.fake.recorded())

    async def statuses(self, request: web.Request) -> web.Response:
        repo, sha = _query(request, "repo"), _query(request, "sha")
        return web.json_response(self.fake.statuses(repo, sha))

    async def pr_statuses(self, request: web.Request) -> web.Response:
        return web.json_response(self.fake.pr_statuses(_query(request, "repo"), _int_text(_query(request, "id"), "id")))

    async def threads(self, request: web.Request) -> web.Response:
        return web.json_response(self.fake.threads(_query(request, "repo"), _int_text(_query(request, "id"), "id")))

    async def deliveries(self, request: web.Request) -> web.Response:
        event_type = request.query.get("event_type")
        found = [d.summary() for d in self.fake.deliveries() if not event_type or d.event_type == event_type]
        return web.json_response(found)


def _guarded(handler: _Handler) -> _Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadInput as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except AdoError as exc:
            return web.json_response(exc.body(), status=exc.status)
        except (KeyError, ValueError) as exc:
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)

    return guarded


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        raise BadInput("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{key!r} is required (a string)")
    return value


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadInput(f"{key!r} is required (an integer)")
    return _int_text(str(value), key)


def _int_text(text: str, key: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"{key!r} must be an integer, not {text!r}") from None


def _query(request: web.Request, key: str) -> str:
    value = request.query.get(key)
    if not value:
        raise BadInput(f"query parameter {key!r} is required")
    return value


def _files(value: Any, *, allow_delete: bool = True) -> dict[str, str | None]:
    if not isinstance(value, dict) or not value:
        raise BadInput("'files' must be an object of path -> text (null deletes)")
    files: dict[str, str | None] = {}
    for path, text in value.items():
        if text is None and allow_delete:
            files[str(path)] = None
        elif isinstance(text, str):
            files[str(path)] = text
        else:
            raise BadInput(f"file {path!r}: text must be a string" + (" or null" if allow_delete else ""))
    return files
