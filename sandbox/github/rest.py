"""GitHub's REST API, the part fluxops (through PyGithub) uses: paths, status codes, JSON shapes, errors.

Every URL in a response is built from the request's ``Host`` (so a client follows it back here), except
clone URLs, which keep the repositories' ``github.com`` addresses that Flux configurations name.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import posixpath
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.git_access import DeployKeyError, ssh_fingerprint
from sandbox.github import payloads
from sandbox.github.auth import Principal
from sandbox.github.git import CommitInfo, FileChange
from sandbox.github.state import (
    PERMISSIONS,
    REACTIONS,
    CheckRun,
    Comment,
    PullRequest,
    Status,
    key,
    repo_id,
)
from sandbox.gitrepos import RepoHandle

if TYPE_CHECKING:
    from sandbox.github.server import FakeGitHub

DOCS = "https://docs.github.com/rest"
GIT_WEB = "https://github.com"
STATUS_STATES = ("error", "failure", "pending", "success")
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
STATUS_DESCRIPTION_MAX = 140
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
MAX_PER_PAGE = 100
#: GitHub lists at most this many commits of a pull request
PULL_COMMITS_LIMIT = 250
_FINGERPRINT_NAMES = {"ssh-ed25519": "ED25519", "ecdsa-sha2-nistp256": "ECDSA", "ssh-rsa": "RSA"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: who the request authenticated as (set by the server's middleware)
PRINCIPAL = web.RequestKey("principal", Principal)


class ApiError(Exception):
    """An answer GitHub gives instead of the resource: status, message and optional validation errors."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        doc: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.doc = doc
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body["documentation_url"] = self.doc
        body["status"] = str(self.status)
        return web.json_response(body, status=self.status, headers=self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation(message: str, *, resource: str, field: str, code: str = "custom") -> ApiError:
    error = {"resource": resource, "code": code, "field": field}
    if code == "custom":
        error["message"] = message
    return ApiError(422, "Validation Failed", errors=[error])


def api_base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _b64_lines(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class RestApi:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.state = fake.state
        self.git = fake.git

    # -- routing -----------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        r = "/repos/{owner}/{repo}"
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/user", self.get_user),
            ("GET", "/rate_limit", self.rate_limit),
            ("GET", "/meta", self.meta),
            ("GET", "/app", self.get_app),
            ("GET", "/app/installations/{installation_id}", self.get_installation),
            ("POST", "/app/installations/{installation_id}/access_tokens", self.access_token),
            ("GET", r + "/installation", self.repo_installation),
            ("GET", r, self.get_repo),
            ("GET", r + "/commits/{ref:.+}/statuses", self.list_statuses),
            ("GET", r + "/commits/{ref:.+}/status", self.combined_status),
            ("GET", r + "/commits/{ref:.+}/check-runs", self.list_check_runs),
            ("GET", r + "/commits/{ref:.+}", self.get_commit),
            ("GET", r + "/compare/{basehead:.+}", self.compare),
            ("POST", r + "/statuses/{sha}", self.create_status),
            ("GET", r + "/statuses/{ref:.+}", self.list_statuses),  # the older path PyGithub lists with
            ("POST", r + "/check-runs", self.create_check_run),
            ("GET", r + "/check-runs/{id:\\d+}", self.get_check_run),
            ("PATCH", r + "/check-runs/{id:\\d+}", self.update_check_run),
            ("GET", r + "/collaborators/{user}/permission", self.permission),
            ("GET", r + "/pulls/{number:\\d+}", self.get_pull),
            ("GET", r + "/pulls/{number:\\d+}/reviews", self.list_reviews),
            ("GET", r + "/pulls/{number:\\d+}/files", self.list_files),
            ("GET", r + "/pulls/{number:\\d+}/commits", self.list_pull_commits),
            ("GET", r + "/issues/comments/{id:\\d+}", self.get_comment),
            ("PATCH", r + "/issues/comments/{id:\\d+}", self.edit_comment),
            ("GET", r + "/issues/comments/{id:\\d+}/reactions", self.list_reactions),
            ("POST", r + "/issues/comments/{id:\\d+}/reactions", self.create_reaction),
            ("GET", r + "/issues/{number:\\d+}", self.get_issue),
            ("GET", r + "/issues/{number:\\d+}/comments", self.list_comments),
            ("POST", r + "/issues/{number:\\d+}/comments", self.create_comment),
            ("GET", r + "/contents", self.contents),
            ("GET", r + "/contents/{path:.*}", self.contents),
            ("GET", r + "/keys", self.list_keys),
            ("POST", r + "/keys", self.create_key),
            ("GET", r + "/keys/{id:\\d+}", self.get_key),
            ("DELETE", r + "/keys/{id:\\d+}", self.delete_key),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)

    # -- helpers -----------------------------------------------------------------------------------

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

    def _comment(self, handle: RepoHandle, comment_id: int) -> Comment:
        comment = self.state.comments.get(comment_id)
        if comment is None or key(comment.repo) != key(handle.slug):
            raise not_found()
        return comment

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

    # -- users, apps, installations ----------------------------------------------------------------

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

    def _app(self, request: web.Request) -> dict[str, Any]:
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
            "permissions": self._app(request)["permissions"],
            "events": self._app(request)["events"],
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
        return web.json_response(self._app(request))

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
        permissions = body.get("permissions") or self._app(request)["permissions"]
        return web.json_response(
            {
                "token": token,
                "expires_at": expires_at,
                "permissions": permissions,
                "repository_selection": "all",
            },
            status=201,
        )

    # -- repositories and commits ------------------------------------------------------------------

    async def get_repo(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        body = self.repo_json(request, handle)
        if self.principal(request).kind == "token":
            body["permissions"] = {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True}
        return web.json_response(body)

    def commit_json(
        self, request: web.Request, handle: RepoHandle, info: CommitInfo, files: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        base = f"{api_base(request)}/repos/{handle.slug}"
        html = f"{api_base(request)}/{handle.slug}"
        body: dict[str, Any] = {
            "sha": info.sha,
            "node_id": payloads.node_id("Commit", int(info.sha[:12], 16)),
            "commit": {
                "author": {"name": info.author_name, "email": info.author_email, "date": info.author_date},
                "committer": {"name": info.committer_name, "email": info.committer_email, "date": info.committer_date},
                "message": info.message,
                "tree": {"sha": info.tree, "url": f"{base}/git/trees/{info.tree}"},
                "url": f"{base}/git/commits/{info.sha}",
                "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
            },
            "url": f"{base}/commits/{info.sha}",
            "html_url": f"{html}/commit/{info.sha}",
            "comments_url": f"{base}/commits/{info.sha}/comments",
            "author": self._commit_user(request, info.sha),
            "committer": self._commit_user(request, info.sha),
            "parents": [
                {"sha": p, "url": f"{base}/commits/{p}", "html_url": f"{html}/commit/{p}"} for p in info.parents
            ],
        }
        if files is not None:
            additions = sum(f["additions"] for f in files)
            deletions = sum(f["deletions"] for f in files)
            body["stats"] = {"total": additions + deletions, "additions": additions, "deletions": deletions}
            body["files"] = files
        return body

    def _commit_user(self, request: web.Request, sha: str) -> dict[str, Any] | None:
        """The GitHub user a commit is attributed to (None, as on GitHub, when no account matches)."""
        login = self.state.commit_users.get(sha)
        return self._user(request, login) if login else None

    def file_json(
        self, request: web.Request, handle: RepoHandle, head: str, change: FileChange, base: str
    ) -> dict[str, Any]:
        api = f"{api_base(request)}/repos/{handle.slug}"
        html = f"{api_base(request)}/{handle.slug}"
        quoted = urllib.parse.quote(change.filename)
        body: dict[str, Any] = {
            "sha": self.git.blob_sha(handle, head, change.filename) if change.status != "removed" else None,
            "filename": change.filename,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{html}/blob/{head}/{quoted}",
            "raw_url": f"{html}/raw/{head}/{quoted}",
            "contents_url": f"{api}/contents/{quoted}?ref={head}",
            "patch": self.git.patch(handle, base, head, change.filename),
        }
        if change.previous_filename:
            body["previous_filename"] = change.previous_filename
        return body

    def _commit_with_files(self, request: web.Request, handle: RepoHandle, sha: str) -> dict[str, Any]:
        info = self.git.commit(handle, sha)
        parent = info.parents[0] if info.parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # empty tree
        files = [self.file_json(request, handle, sha, c, parent) for c in self.git.changes(handle, parent, sha)]
        return self.commit_json(request, handle, info, files)

    async def get_commit(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        ref = request.match_info["ref"]
        sha = self.git.resolve(handle, ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        body = await self._thread(self._commit_with_files, request, handle, sha)
        return web.json_response(body)

    def _compare(self, request: web.Request, handle: RepoHandle, base: str, head: str) -> dict[str, Any]:
        base_sha = self.git.resolve(handle, base)
        head_sha = self.git.resolve(handle, head)
        if base_sha is None or head_sha is None:
            raise not_found()
        comparison = self.git.compare(handle, base_sha, head_sha)
        if comparison.merge_base is None:
            raise ApiError(404, f"No common ancestor between {base} and {head}.")
        api = f"{api_base(request)}/repos/{handle.slug}"
        html = f"{api_base(request)}/{handle.slug}"
        try:
            per_page = max(1, min(1000, int(request.query.get("per_page", "250"))))
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            per_page, page = 250, 1
        shas = comparison.commits[(page - 1) * per_page : page * per_page]
        changes = self.git.changes(handle, comparison.merge_base, head_sha)[:300]
        return {
            "url": f"{api}/compare/{base}...{head}",
            "html_url": f"{html}/compare/{base}...{head}",
            "permalink_url": f"{html}/compare/{handle.slug.split('/')[0]}:{base_sha[:7]}...{head_sha[:7]}",
            "diff_url": f"{html}/compare/{base}...{head}.diff",
            "patch_url": f"{html}/compare/{base}...{head}.patch",
            "base_commit": self.commit_json(request, handle, self.git.commit(handle, base_sha)),
            "merge_base_commit": self.commit_json(request, handle, self.git.commit(handle, comparison.merge_base)),
            "status": comparison.status,
            "ahead_by": comparison.ahead_by,
            "behind_by": comparison.behind_by,
            "total_commits": comparison.ahead_by,
            "commits": [self.commit_json(request, handle, self.git.commit(handle, s)) for s in shas],
            "files": [self.file_json(request, handle, head_sha, c, comparison.merge_base) for c in changes],
        }

    async def compare(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        basehead = request.match_info["basehead"]
        if "..." not in basehead:
            raise not_found()
        base, head = basehead.split("...", 1)
        body = await self._thread(self._compare, request, handle, base, head)
        return web.json_response(body)

    # -- statuses ----------------------------------------------------------------------------------

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

    # -- check runs --------------------------------------------------------------------------------

    def check_run_json(self, request: web.Request, run: CheckRun) -> dict[str, Any]:
        api = f"{api_base(request)}/repos/{run.repo}"
        app = self._app(request) if self.fake.auth.app is not None else None
        output = {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.output.get("annotations") or []),
            "annotations_url": f"{api}/check-runs/{run.id}/annotations",
        }
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": payloads.node_id("CheckRun", run.id),
            "external_id": run.external_id or "",
            "url": f"{api}/check-runs/{run.id}",
            "html_url": f"{api_base(request)}/{run.repo}/runs/{run.id}",
            "details_url": run.details_url,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": output,
            "name": run.name,
            "check_suite": {"id": run.id + 7_000_000},
            "app": app,
            "pull_requests": [],
        }

    def _require_installation(self, request: web.Request, doc: str) -> None:
        principal = self.principal(request)
        if not principal.is_installation:
            raise ApiError(403, "Resource not accessible by personal access token", doc=doc)

    def _apply_check_fields(self, run: CheckRun, body: dict[str, Any]) -> None:
        status = body.get("status")
        conclusion = body.get("conclusion")
        if status is not None and status not in CHECK_STATUSES:
            raise validation("status is invalid", resource="CheckRun", field="status", code="invalid")
        if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
            raise validation("conclusion is invalid", resource="CheckRun", field="conclusion", code="invalid")
        if conclusion is not None:
            run.conclusion = conclusion
            run.status = "completed"
        elif status is not None:
            run.status = status
            if status != "completed":
                run.conclusion = None
        if run.status == "completed" and run.conclusion is None:
            raise ApiError(422, 'Invalid request.\n\nNo subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.')
        if run.status == "completed":
            run.completed_at = str(body.get("completed_at") or run.completed_at or payloads.now_iso())
        output = body.get("output")
        if isinstance(output, dict):
            if not output.get("title") or not output.get("summary"):
                raise ApiError(422, 'Invalid request.\n\n"title", "summary" weren\'t supplied.')
            run.output = dict(output)
        for field in ("details_url", "external_id", "name"):
            if isinstance(body.get(field), str):
                setattr(run, field, body[field])

    async def create_check_run(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        self._require_installation(request, "https://docs.github.com/rest/checks/runs#create-a-check-run")
        body = await self._json(request)
        name = body.get("name")
        head_sha = body.get("head_sha")
        if not isinstance(name, str) or not name or not isinstance(head_sha, str):
            raise ApiError(422, 'Invalid request.\n\n"name", "head_sha" weren\'t supplied.')
        sha = self.git.resolve(handle, head_sha)
        if sha is None or len(head_sha) != 40:
            raise validation("No commit found for SHA: " + head_sha, resource="CheckRun", field="head_sha")
        run = CheckRun(
            id=self.state.next_id(),
            repo=handle.slug,
            head_sha=sha,
            name=name,
            status="queued",
            conclusion=None,
            output={},
            details_url=None,
            external_id=None,
            started_at=str(body.get("started_at") or payloads.now_iso()),
            completed_at=None,
        )
        self._apply_check_fields(run, body)
        self.state.check_runs[run.id] = run
        return web.json_response(self.check_run_json(request, run), status=201)

    def _check_run(self, handle: RepoHandle, run_id: int) -> CheckRun:
        run = self.state.check_runs.get(run_id)
        if run is None or key(run.repo) != key(handle.slug):
            raise not_found()
        return run

    async def get_check_run(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        return web.json_response(self.check_run_json(request, self._check_run(handle, int(request.match_info["id"]))))

    async def update_check_run(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        self._require_installation(request, "https://docs.github.com/rest/checks/runs#update-a-check-run")
        run = self._check_run(handle, int(request.match_info["id"]))
        body = await self._json(request)
        self._apply_check_fields(run, body)
        return web.json_response(self.check_run_json(request, run))

    async def list_check_runs(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        sha = self._resolve(handle, request.match_info["ref"])
        runs = self.state.check_runs_of(handle.slug, sha)
        name = request.query.get("check_name")
        if name:
            runs = [r for r in runs if r.name == name]
        items, headers = self._page(request, runs)
        return web.json_response(
            {"total_count": len(runs), "check_runs": [self.check_run_json(request, r) for r in items]},
            headers=headers,
        )

    # -- collaborators -----------------------------------------------------------------------------

    async def permission(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        login = request.match_info["user"]
        role = self.state.permission(handle.slug, login) or ("none" if handle.private else "read")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        rank = PERMISSIONS.index(role)
        user = self._user(request, login)
        user["permissions"] = {
            "admin": rank >= PERMISSIONS.index("admin"),
            "maintain": rank >= PERMISSIONS.index("maintain"),
            "push": rank >= PERMISSIONS.index("write"),
            "triage": rank >= PERMISSIONS.index("triage"),
            "pull": rank >= PERMISSIONS.index("read"),
        }
        user["role_name"] = role
        return web.json_response({"permission": legacy, "role_name": role, "user": user})

    # -- pull requests -----------------------------------------------------------------------------

    def pull_json(self, request: web.Request, handle: RepoHandle, pr: PullRequest) -> dict[str, Any]:
        return self.fake.pull_request_json(pr, handle, api=api_base(request), web=api_base(request))

    async def get_pull(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        return web.json_response(await self._thread(self.pull_json, request, handle, pr))

    async def list_reviews(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        repo = self.repo_json(request, handle)
        reviews = [
            payloads.review_object(
                repo=repo,
                number=pr.number,
                review_id=r.id,
                reviewer=r.reviewer,
                state=r.state,
                commit_id=r.commit_id,
                body=r.body,
                submitted_at=r.submitted_at,
                rest=True,
            )
            for r in self.state.reviews_on(handle.slug, pr.number)
        ]
        items, headers = self._page(request, reviews)
        return web.json_response(items, headers=headers)

    def _pull_commits(self, request: web.Request, handle: RepoHandle, pr: PullRequest) -> list[dict[str, Any]]:
        head = self.fake.current_head(handle, pr)
        base_tip = self.git.branch_head(handle, pr.base_ref) or head
        if pr.merged and pr.merge_commit_sha:
            base_tip = self.git.commit(handle, pr.merge_commit_sha).parents[0]
        merge_base = self.git.merge_base(handle, base_tip, head) or base_tip
        shas = self.git.compare(handle, merge_base, head).commits[:PULL_COMMITS_LIMIT]
        return [self.commit_json(request, handle, self.git.commit(handle, s)) for s in shas]

    async def list_pull_commits(self, request: web.Request) -> web.Response:
        """``GET /pulls/{n}/commits``: the pull request's commits, oldest first (GitHub stops at 250)."""
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        commits = await self._thread(self._pull_commits, request, handle, pr)
        items, headers = self._page(request, commits)
        return web.json_response(items, headers=headers)

    def _files(self, request: web.Request, handle: RepoHandle, pr: PullRequest) -> list[dict[str, Any]]:
        head = self.fake.current_head(handle, pr)
        base_tip = self.git.branch_head(handle, pr.base_ref) or head
        merge_base = self.git.merge_base(handle, base_tip, head) or base_tip
        return [
            self.file_json(request, handle, head, c, merge_base) for c in self.git.changes(handle, merge_base, head)
        ]

    async def list_files(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        files = await self._thread(self._files, request, handle, pr)
        items, headers = self._page(request, files)
        return web.json_response(items, headers=headers)

    # -- issues and comments -----------------------------------------------------------------------

    async def get_issue(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        body = payloads.issue_object(
            repo=self.repo_json(request, handle),
            number=pr.number,
            author=pr.author,
            title=pr.title,
            body=pr.body,
            state=pr.state,
            comments=len(self.state.comments_on(handle.slug, pr.number)),
            created_at=pr.created_at,
            merged_at=pr.merged_at,
        )
        return web.json_response(body)

    def comment_json(self, request: web.Request, handle: RepoHandle, comment: Comment) -> dict[str, Any]:
        body = payloads.comment_object(
            repo=self.repo_json(request, handle),
            number=comment.number,
            comment_id=comment.id,
            author=comment.author,
            body=comment.body,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            author_association=self.fake.association(handle.slug, comment.author),
            reactions=comment.counts(),
        )
        if comment.via_app and self.fake.auth.app is not None:
            body["performed_via_github_app"] = self._app(request)
        return body

    async def list_comments(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        comments = sorted(self.state.comments_on(handle.slug, pr.number), key=lambda c: c.id)
        items, headers = self._page(request, comments)
        return web.json_response([self.comment_json(request, handle, c) for c in items], headers=headers)

    async def create_comment(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        pr = self._pull(handle, int(request.match_info["number"]))
        body = await self._json(request)
        text = body.get("body")
        if not isinstance(text, str) or not text:
            raise validation("body is missing", resource="IssueComment", field="body", code="missing_field")
        if len(text) > 65536:
            raise validation("Body is too long (maximum is 65536 characters)", resource="IssueComment", field="data")
        principal = self.principal(request)
        comment = self.fake.add_comment(
            handle.slug, pr.number, principal.login, text, via_app=principal.is_installation
        )
        return web.json_response(self.comment_json(request, handle, comment), status=201)

    async def get_comment(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        comment = self._comment(handle, int(request.match_info["id"]))
        return web.json_response(self.comment_json(request, handle, comment))

    async def edit_comment(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        comment = self._comment(handle, int(request.match_info["id"]))
        body = await self._json(request)
        text = body.get("body")
        if not isinstance(text, str) or not text:
            raise validation("body is missing", resource="IssueComment", field="body", code="missing_field")
        if len(text) > 65536:
            raise validation("Body is too long (maximum is 65536 characters)", resource="IssueComment", field="data")
        comment.body = text
        comment.updated_at = payloads.now_iso()
        return web.json_response(self.comment_json(request, handle, comment))

    def reaction_json(self, request: web.Request, reaction: Any) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": payloads.node_id("Reaction", reaction.id),
            "user": self._user(request, reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    async def list_reactions(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        comment = self._comment(handle, int(request.match_info["id"]))
        items, headers = self._page(request, comment.reactions)
        return web.json_response([self.reaction_json(request, r) for r in items], headers=headers)

    async def create_reaction(self, request: web.Request) -> web.Response:
        handle = self._repo(request, write=True)
        comment = self._comment(handle, int(request.match_info["id"]))
        body = await self._json(request)
        content = body.get("content")
        if content not in REACTIONS:
            raise validation(
                "content is not included in the list", resource="Reaction", field="content", code="invalid"
            )
        login = self.principal(request).login
        for existing in comment.reactions:
            if existing.user.casefold() == login.casefold() and existing.content == content:
                return web.json_response(self.reaction_json(request, existing), status=200)
        reaction = self.fake.add_reaction(comment, login, str(content))
        return web.json_response(self.reaction_json(request, reaction), status=201)

    # -- contents ----------------------------------------------------------------------------------

    def _contents(self, request: web.Request, handle: RepoHandle, path: str, ref: str) -> Any:
        sha = self.git.resolve(handle, ref)
        if sha is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        tree = self.git.store.read_tree(handle, sha)
        path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
        api = f"{api_base(request)}/repos/{handle.slug}"
        html = f"{api_base(request)}/{handle.slug}"
        query = "?" + urllib.parse.urlencode({"ref": ref})

        def entry(name: str, kind: str, data: bytes | None) -> dict[str, Any]:
            quoted = urllib.parse.quote(name)
            obj_sha = _blob_sha(data) if data is not None else (self.git.blob_sha(handle, sha, name) or "")
            git_url = f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{obj_sha}"
            web_url = f"{html}/{'blob' if kind == 'file' else 'tree'}/{ref}/{quoted}"
            return {
                "name": posixpath.basename(name),
                "path": name,
                "sha": obj_sha,
                "size": len(data) if data is not None else 0,
                "url": f"{api}/contents/{quoted}{query}",
                "html_url": web_url,
                "git_url": git_url,
                "download_url": f"{html}/raw/{ref}/{quoted}" if kind == "file" else None,
                "type": kind,
                "_links": {"self": f"{api}/contents/{quoted}{query}", "git": git_url, "html": web_url},
            }

        if path in tree:
            data = tree[path]
            body = entry(path, "file", data)
            body.update({"content": _b64_lines(data), "encoding": "base64"})
            return body
        prefix = f"{path}/" if path else ""
        children: dict[str, str] = {}
        for name in tree:
            if name.startswith(prefix):
                rest = name[len(prefix) :]
                head, sep, _ = rest.partition("/")
                children[prefix + head] = "dir" if sep else "file"
        if not children:
            raise not_found()
        return [entry(n, kind, tree[n] if kind == "file" else None) for n, kind in sorted(children.items())]

    async def contents(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        path = request.match_info.get("path", "")
        ref = request.query.get("ref") or self.git.default_branch(handle)
        body = await self._thread(self._contents, request, handle, path, ref)
        return web.json_response(body)

    # -- deploy keys -------------------------------------------------------------------------------

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


def repository_for(handle: RepoHandle, default_branch: str, *, api: str, web: str) -> dict[str, Any]:
    """The ``repository`` object of a sandbox repository."""
    return payloads.repository(
        full_name=handle.slug,
        repo_id=repo_id(handle.slug),
        private=handle.private,
        default_branch=default_branch,
        web=web,
        api=api,
        git_web=GIT_WEB,
    )
