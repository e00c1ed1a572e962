"""The fake's route table and its request pipeline: Basic auth with a PAT, injected faults, organization,
api-version, then the endpoint; every call is recorded (never the PAT)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.azure_devops.records import AdoError
from sandbox.azure_devops.rest.calls import Call, Handler, json_response, number
from sandbox.azure_devops.rest.identity import Identity
from sandbox.azure_devops.rest.pulls import PullRequests
from sandbox.azure_devops.rest.repositories import Repositories
from sandbox.azure_devops.rest.statuses import Statuses
from sandbox.azure_devops.rest.threads import Threads
from sandbox.azure_devops.state import Organization

if TYPE_CHECKING:
    from sandbox.azure_devops.server import FakeAzureDevOps

_PREFIX = re.compile(r"^/(?P<org>[^/]+)(?:/(?P<project>[^/]+))?/_apis/(?P<rest>.+?)/?$")
_VERSION = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?:-preview(?:\.\d+)?)?$", re.IGNORECASE)
_ACCEPT_VERSION = re.compile(r"api-version=([^;,\s]+)", re.IGNORECASE)
#: the newest REST API version the fake serves (as Azure DevOps Services did when 7.1 was current)
LATEST = (7, 2)
RECORD_BODY_LIMIT = 8000
_REPO = r"git/repositories/(?P<repo>[^/]+)"
_PR = _REPO + r"/pullrequests/(?P<pr>\d+)"
_THREAD = _PR + r"/threads/(?P<thread>\d+)"
_COMMENT = _THREAD + r"/comments/(?P<comment>\d+)"


@dataclass
class Fault:
    """An injected failure: the next ``remaining`` matching calls get ``status`` instead of an answer."""

    status: int
    remaining: int = 1
    retry_after: float | None = None
    path: str = ""  # a substring of the path (case-insensitive); "" matches every call
    method: str = ""
    body: str | None = None
    content_type: str = "application/json"

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (not self.method or self.method.upper() == method)
            and self.path.lower() in path.lower()
        )

    def response(self) -> web.Response:
        self.remaining -= 1
        headers = {"Retry-After": number(self.retry_after)} if self.retry_after is not None else {}
        if self.body is not None:
            return web.Response(status=self.status, text=self.body, content_type=self.content_type, headers=headers)
        error = AdoError(self.status, "InjectedFaultException", f"injected fault: HTTP {self.status}")
        return json_response(error.body(), status=self.status, headers=headers)


class RestApi:
    """Azure DevOps' REST API as the fake serves it: the route table and the pipeline every call passes."""

    def __init__(self, fake: FakeAzureDevOps, *, tokens: Mapping[str, str]) -> None:
        self.fake = fake
        self.org: Organization = fake.org
        self.identity = Identity(fake)
        self.repos = Repositories(fake)
        self.pulls = PullRequests(fake)
        self.threads = Threads(fake)
        self.statuses = Statuses(fake)
        #: sha256(PAT) -> unique name of its owner; PATs themselves are not kept here
        self._tokens = {hashlib.sha256(t.encode()).digest(): who for t, who in tokens.items()}
        self.faults: list[Fault] = []
        self.recorded: list[dict[str, Any]] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        for method, pattern, handler in self._table():
            self._routes.append((method, re.compile(f"^{pattern}$", re.IGNORECASE), handler))

    def add_token(self, token: str, unique_name: str) -> None:
        self._tokens[hashlib.sha256(token.encode()).digest()] = unique_name

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:(?!_sandbox/).*}", self.handle)

    def _table(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", r"connectionData", self.identity.connection_data),
            ("GET", r"identities", self.identity.identities),
            ("GET", r"git/repositories", self.repos.list_repos),
            ("GET", _REPO, self.repos.get_repo),
            ("GET", r"git/pullrequests/(?P<pr>\d+)", self.pulls.get_pr),
            ("GET", _PR, self.pulls.get_pr),
            ("GET", _PR + r"/reviewers", self.pulls.reviewers),
            ("GET", _PR + r"/iterations", self.pulls.iterations),
            ("GET", _PR + r"/commits", self.pulls.pull_commits),
            ("GET", r"accesscontrollists/(?P<namespace>[0-9a-fA-F-]{36})", self.identity.access_control_lists),
            ("GET", _PR + r"/threads", self.threads.list_threads),
            ("POST", _PR + r"/threads", self.threads.create_thread),
            ("GET", _THREAD, self.threads.get_thread),
            ("GET", _THREAD + r"/comments", self.threads.list_comments),
            ("POST", _THREAD + r"/comments", self.threads.create_comment),
            ("GET", _COMMENT, self.threads.get_comment),
            ("PATCH", _COMMENT, self.threads.update_comment),
            ("DELETE", _COMMENT, self.threads.delete_comment),
            ("GET", _COMMENT + r"/likes", self.threads.list_likes),
            ("POST", _COMMENT + r"/likes", self.threads.like),
            ("DELETE", _COMMENT + r"/likes", self.threads.unlike),
            ("GET", _PR + r"/statuses", self.statuses.list_pr_statuses),
            ("POST", _PR + r"/statuses", self.statuses.create_pr_status),
            ("GET", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})/statuses", self.statuses.list_commit_statuses),
            ("POST", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})/statuses", self.statuses.create_commit_status),
            ("GET", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})", self.repos.get_commit),
            ("GET", _REPO + r"/items", self.repos.items),
            ("GET", _REPO + r"/diffs/commits", self.repos.diffs),
        ]

    # -- the pipeline ---------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        user: str | None = None
        try:
            user = self._authenticate(request.headers.get("Authorization"))
            response = await self._dispatch(request, user, raw)
        except AdoError as exc:
            headers = {}
            if exc.status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="https://dev.azure.com/"'
            response = json_response(exc.body(), status=exc.status, headers=headers)
        self._record(request, raw, response.status, user)
        return response

    def _authenticate(self, header: str | None) -> str:
        scheme, _, value = (header or "").partition(" ")
        token = ""
        if scheme.lower() == "basic":
            try:
                token = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                token = ""
        digest = hashlib.sha256(token.encode()).digest()
        found: str | None = None
        for known, who in self._tokens.items():  # look at every token: no early exit
            if hmac.compare_digest(known, digest) and token:
                found = who
        if found is None:
            raise AdoError(
                401,
                "UnauthorizedRequestException",
                "TF400813: The user '' is not authorized to access this resource.",
            )
        return found

    async def _dispatch(self, request: web.Request, user: str, raw: bytes) -> web.StreamResponse:
        for fault in self.faults:
            if fault.matches(request.method, request.path):
                return fault.response()
        match = _PREFIX.match(request.path)
        if match is None or match["org"].lower() != self.org.name.lower():
            raise AdoError(404, "ResourceNotFoundException", f"The resource {request.path} does not exist.")
        version = request.query.get("api-version") or _accept_version(request.headers.get("Accept", ""))
        if not version:
            raise AdoError(
                400,
                "VssVersionNotSpecifiedException",
                f'No api-version was supplied for the "{request.method}" request. Please provide an api-version '
                'in the query string (e.g. "?api-version=7.1").',
            )
        parsed = _VERSION.match(version)
        if parsed is None or (int(parsed["major"]), int(parsed["minor"])) > LATEST:
            raise AdoError(
                400,
                "VssVersionOutOfRangeException",
                f"The requested REST API version of {version} is out of range for this server. "
                f"The latest REST API version this server supports is {LATEST[0]}.{LATEST[1]}.",
            )
        call = Call(user=user, project=match["project"], api_version=version, body=raw)
        rest = match["rest"]
        known_path = False
        for method, pattern, handler in self._routes:
            found = pattern.match(rest)
            if found is None:
                continue
            known_path = True
            if method == request.method:
                return await handler(request, {k: v for k, v in found.groupdict().items() if v is not None}, call)
        if known_path:
            raise AdoError(405, "HttpMethodNotAllowedException", f"The HTTP method {request.method} is not allowed.")
        raise AdoError(404, "ResourceNotFoundException", f"The resource {request.path} does not exist.")

    def _record(self, request: web.Request, raw: bytes, status: int, user: str | None) -> None:
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw[:RECORD_BODY_LIMIT].decode(errors="replace")
        self.recorded.append(
            {
                "seq": len(self.recorded) + 1,
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": body,
                "status": status,
                "user": user,  # who the PAT belongs to; never the PAT
            }
        )


def _accept_version(accept: str) -> str:
    """The api-version an ``Accept`` header names, or ""."""
    found = _ACCEPT_VERSION.search(accept)
    return found.group(1) if found else ""
