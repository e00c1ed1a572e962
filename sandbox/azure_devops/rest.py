"""The REST API 7.1 routes of the fake: Git repositories, pull requests, threads, comments, likes,
statuses, items, diffs and commits, plus ``connectionData`` and ``identities``.

ADO matches its routes case-insensitively (``pullRequests`` and ``pullrequests`` are one route), so one
catch-all handler dispatches on regular expressions instead of aiohttp's router. Every call needs Basic
auth with a PAT the fake knows and an ``api-version`` (query or ``Accept`` header).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from sandbox.azure_devops import payloads
from sandbox.azure_devops.directory import DESCRIPTOR_PREFIX, GIT_NAMESPACE
from sandbox.azure_devops.records import COMMENT_TYPES, THREAD_STATUSES, AdoError, PullRequest, Repo, latest_only
from sandbox.azure_devops.state import Organization

if TYPE_CHECKING:
    from sandbox.azure_devops.server import FakeAzureDevOps

_PREFIX = re.compile(r"^/(?P<org>[^/]+)(?:/(?P<project>[^/]+))?/_apis/(?P<rest>.+?)/?$")
_VERSION = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?:-preview(?:\.\d+)?)?$", re.IGNORECASE)
_ACCEPT_VERSION = re.compile(r"api-version=([^;,\s]+)", re.IGNORECASE)
#: the newest REST API version the fake serves (as Azure DevOps Services did when 7.1 was current)
LATEST = (7, 2)
RECORD_BODY_LIMIT = 8000

Params = dict[str, str]
Handler = Callable[[web.Request, Params, "Call"], Awaitable[web.StreamResponse]]

_REPO = r"git/repositories/(?P<repo>[^/]+)"
_PR = _REPO + r"/pullrequests/(?P<pr>\d+)"
_THREAD = _PR + r"/threads/(?P<thread>\d+)"
_COMMENT = _THREAD + r"/comments/(?P<comment>\d+)"


@dataclass(frozen=True)
class Call:
    """Who is calling, in which project (None when the URL names none)."""

    user: str
    project: str | None
    api_version: str
    body: bytes = b""


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
        headers = {"Retry-After": _number(self.retry_after)} if self.retry_after is not None else {}
        if self.body is not None:
            return web.Response(status=self.status, text=self.body, content_type=self.content_type, headers=headers)
        error = AdoError(self.status, "InjectedFaultException", f"injected fault: HTTP {self.status}")
        return _json(error.body(), status=self.status, headers=headers)


class RestApi:
    def __init__(self, fake: FakeAzureDevOps, *, tokens: Mapping[str, str]) -> None:
        self.fake = fake
        self.org: Organization = fake.org
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
            ("GET", r"connectionData", self.connection_data),
            ("GET", r"identities", self.identities),
            ("GET", r"git/repositories", self.list_repos),
            ("GET", _REPO, self.get_repo),
            ("GET", r"git/pullrequests/(?P<pr>\d+)", self.get_pr),
            ("GET", _PR, self.get_pr),
            ("GET", _PR + r"/reviewers", self.reviewers),
            ("GET", _PR + r"/iterations", self.iterations),
            ("GET", _PR + r"/commits", self.pull_commits),
            ("GET", r"accesscontrollists/(?P<namespace>[0-9a-fA-F-]{36})", self.access_control_lists),
            ("GET", _PR + r"/threads", self.list_threads),
            ("POST", _PR + r"/threads", self.create_thread),
            ("GET", _THREAD, self.get_thread),
            ("GET", _THREAD + r"/comments", self.list_comments),
            ("POST", _THREAD + r"/comments", self.create_comment),
            ("GET", _COMMENT, self.get_comment),
            ("PATCH", _COMMENT, self.update_comment),
            ("DELETE", _COMMENT, self.delete_comment),
            ("GET", _COMMENT + r"/likes", self.list_likes),
            ("POST", _COMMENT + r"/likes", self.like),
            ("DELETE", _COMMENT + r"/likes", self.unlike),
            ("GET", _PR + r"/statuses", self.list_pr_statuses),
            ("POST", _PR + r"/statuses", self.create_pr_status),
            ("GET", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})/statuses", self.list_commit_statuses),
            ("POST", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})/statuses", self.create_commit_status),
            ("GET", _REPO + r"/commits/(?P<sha>[0-9a-fA-F]{4,40})", self.get_commit),
            ("GET", _REPO + r"/items", self.items),
            ("GET", _REPO + r"/diffs/commits", self.diffs),
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
            response = _json(exc.body(), status=exc.status, headers=headers)
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

    # -- identity -------------------------------------------------------------------------------------

    async def connection_data(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        me = self._identity_record(call.user)
        return _json(
            {
                "authenticatedUser": me,
                "authorizedUser": me,
                "instanceId": self.org.id,
                "deploymentId": payloads.stable_id("deployment", self.org.name),
                "deploymentType": "hosted",
                "locationServiceData": {
                    "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                    "defaultAccessMappingMoniker": "PublicAccessMapping",
                    "lastChangeId": 1,
                    "lastChangeId64": 1,
                },
            }
        )

    async def identities(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        query = _lower_query(request)
        wanted = (query.get("filtervalue") or "").casefold()
        found = []
        for unique, display in self.org.members.items():
            local = unique.split("@", 1)[0]
            if wanted and wanted in (unique.casefold(), display.casefold(), local.casefold()):
                found.append(self._identity_record(unique))
        return _json({"count": len(found), "value": found})

    def _identity_record(self, unique_name: str) -> dict[str, Any]:
        ref = self.org.identity(unique_name)
        return {
            "id": ref["id"],
            "descriptor": f"{DESCRIPTOR_PREFIX}{unique_name}",
            "subjectDescriptor": ref["descriptor"],
            "providerDisplayName": ref["displayName"],
            "isActive": True,
            "isContainer": False,
            "members": [],
            "memberOf": [],
            "memberIds": [],
            "properties": {
                "Account": {"$type": "System.String", "$value": unique_name},
                "Mail": {"$type": "System.String", "$value": unique_name if "@" in unique_name else ""},
            },
            "resourceVersion": 2,
            "metaTypeId": 0,
        }

    # -- repositories ---------------------------------------------------------------------------------

    async def list_repos(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        return _list([r.payload() for r in self.org.all_repos(call.project)])

    async def get_repo(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self.org.repo(call.project, p["repo"])
        body = repo.payload()
        body["_links"] = {"self": {"href": body["url"]}, "web": {"href": body["webUrl"]}}
        return _json(body)

    def _repo(self, p: Params, call: Call) -> Repo:
        return self.org.repo(call.project, p["repo"])

    def _pr(self, p: Params, call: Call) -> PullRequest:
        repo = self._repo(p, call) if "repo" in p else None
        return self.org.pull(int(p["pr"]), repo=repo, project=call.project)

    # -- pull requests --------------------------------------------------------------------------------

    async def get_pr(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        return _json(self._pr(p, call).resource())

    async def reviewers(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        return _list(self._pr(p, call).resource()["reviewers"])

    async def iterations(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        return _list([self.org.iteration_json(pr, i) for i in pr.iterations])

    async def pull_commits(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        url = f"{pr.repo.payload()['url']}/commits"
        commits = []
        for info in self.org.pull_commits(pr):
            person = {"name": info.author, "email": info.email, "date": info.date}
            commits.append(
                {
                    "commitId": info.sha,
                    "author": person,
                    "committer": dict(person),
                    "comment": info.message,
                    "url": f"{url}/{info.sha}",
                }
            )
        return _list(commits)

    async def access_control_lists(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        """ACLs of the Git security namespace: the one of ``token`` (with ``recurse``, its children too),
        each with the ACEs of the ``descriptors`` asked for (all when none) and, with ``includeExtendedInfo``,
        the effective bits inherited from parent tokens."""
        if p["namespace"].lower() != GIT_NAMESPACE:
            return _list([])  # the fake keeps no other namespace's permissions
        query = _lower_query(request)
        token = query.get("token", "")
        recurse = query.get("recurse", "").lower() == "true"
        extended = query.get("includeextendedinfo", "").lower() == "true"
        wanted = {
            d.strip().removeprefix(DESCRIPTOR_PREFIX).casefold()
            for d in query.get("descriptors", "").split(",")
            if d.strip()
        }
        lists = []
        for acl_token, entries in sorted(self.org.acl.items()):
            if token and acl_token != token and not (recurse and acl_token.startswith(token + "/")):
                continue
            aces: dict[str, Any] = {}
            for who, (allow, deny) in entries.items():
                if wanted and who not in wanted:
                    continue
                descriptor = DESCRIPTOR_PREFIX + (self.org.member(who) or who)
                ace: dict[str, Any] = {"descriptor": descriptor, "allow": allow, "deny": deny}
                if extended:
                    effective_allow, effective_deny = self.org.effective(who, acl_token)
                    ace["extendedInfo"] = {
                        "effectiveAllow": effective_allow,
                        "effectiveDeny": effective_deny,
                        "inheritedAllow": effective_allow & ~allow,
                        "inheritedDeny": effective_deny & ~deny,
                    }
                aces[descriptor] = ace
            if aces or not wanted:
                lists.append({"inheritPermissions": True, "token": acl_token, "acesDictionary": aces})
        return _list(lists)

    async def list_threads(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        return _list([self.org.thread_json(pr.repo, pr, t) for t in pr.threads.values()])

    async def get_thread(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        return _json(self.org.thread_json(pr.repo, pr, self.org.thread(pr, int(p["thread"]))))

    async def create_thread(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        body = _body(call)
        comments = body.get("comments")
        if not isinstance(comments, list) or not comments or not isinstance(comments[0], dict):
            raise AdoError(400, "InvalidArgumentValueException", "A thread must be created with a comment.")
        first = comments[0]
        thread = self.org.new_thread(
            pr,
            author=call.user,
            content=str(first.get("content") or ""),
            comment_type=_enum(first.get("commentType", 1), COMMENT_TYPES, "commentType"),
        )
        thread.status = _enum(body.get("status", 1), THREAD_STATUSES, "status")
        if isinstance(body.get("properties"), dict):
            thread.properties = body["properties"]
        for extra in comments[1:]:
            if isinstance(extra, dict):
                self.org.add_comment(thread, author=call.user, content=str(extra.get("content") or ""))
        for comment in thread.comments.values():
            self.fake.comment_posted(pr, thread, comment)
        return _json(self.org.thread_json(pr.repo, pr, thread))

    async def list_comments(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        return _list([self.org.comment_json(pr.repo, pr, thread, c) for c in thread.comments.values()])

    async def create_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        body = _body(call)
        parent = body.get("parentCommentId", 1)
        comment = self.org.add_comment(
            thread,
            author=call.user,
            content=str(body.get("content") or ""),
            parent=parent if isinstance(parent, int) else 1,
            comment_type=_enum(body.get("commentType", 1), COMMENT_TYPES, "commentType"),
        )
        self.fake.comment_posted(pr, thread, comment)
        return _json(self.org.comment_json(pr.repo, pr, thread, comment))

    async def get_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        return _json(self.org.comment_json(pr.repo, pr, thread, self.org.comment(thread, int(p["comment"]))))

    async def update_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        thread = self.org.thread(pr, int(p["thread"]))
        comment = self.org.comment(thread, int(p["comment"]))
        self._own(comment.author, call, "edit")
        content = _body(call).get("content")
        if not isinstance(content, str) or not content.strip():
            raise AdoError(400, "InvalidArgumentValueException", "The comment content cannot be empty.")
        comment.content = content
        comment.updated = thread.updated = payloads.now()
        return _json(self.org.comment_json(pr.repo, pr, thread, comment))

    async def delete_comment(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        self._own(comment.author, call, "delete")
        comment.deleted = True
        return web.Response(status=200)

    async def list_likes(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        return _list([self.org.identity(u) for u in comment.likes])

    async def like(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        if call.user not in comment.likes:
            comment.likes.append(call.user)
        return web.Response(status=200)

    async def unlike(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        comment = self.org.comment(self.org.thread(pr, int(p["thread"])), int(p["comment"]))
        if call.user in comment.likes:
            comment.likes.remove(call.user)
        return web.Response(status=204)

    @staticmethod
    def _own(author: str, call: Call, verb: str) -> None:
        if author.casefold() != call.user.casefold():
            raise AdoError(
                403,
                "UnauthorizedRequestException",
                f"TF401027: You need the Git 'Contribute' permission to {verb} another user's comment.",
            )

    # -- statuses -------------------------------------------------------------------------------------

    async def list_pr_statuses(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        url = f"{pr.repo.payload()['url']}/pullRequests/{pr.id}/statuses"
        return _list([self.org.status_json(s, f"{url}/{s.id}") for s in pr.statuses])

    async def create_pr_status(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        status = self.org.new_status(_body(call), call.user, pr.statuses)
        url = f"{pr.repo.payload()['url']}/pullRequests/{pr.id}/statuses/{status.id}"
        return _json(self.org.status_json(status, url))

    async def list_commit_statuses(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        sha = self.org.resolve(repo, p["sha"], "commit")
        statuses = list(reversed(self.org.commit_statuses.get((repo.id, sha), [])))
        query = _lower_query(request)
        if query.get("latestonly", "").lower() == "true":
            statuses = latest_only(list(reversed(statuses)))
        skip, top = int(query.get("skip") or 0), int(query.get("top") or 1000)
        url = f"{repo.payload()['url']}/commits/{sha}/statuses"
        return _list([self.org.status_json(s, url) for s in statuses[skip : skip + top]])

    async def create_commit_status(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        sha = self.org.resolve(repo, p["sha"], "commit")
        statuses = self.org.commit_statuses.setdefault((repo.id, sha), [])
        status = self.org.new_status(_body(call), call.user, statuses)
        return _json(self.org.status_json(status, f"{repo.payload()['url']}/commits/{sha}/statuses"), status=201)

    # -- contents -------------------------------------------------------------------------------------

    async def get_commit(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        info = self.org.commit_info(repo, p["sha"])
        person = {"name": info.author, "email": info.email, "date": info.date}
        url = f"{repo.payload()['url']}/commits/{info.sha}"
        return _json(
            {
                "commitId": info.sha,
                "treeId": info.tree,
                "parents": list(info.parents),
                "author": person,
                "committer": dict(person),
                "comment": info.message,
                "url": url,
                "remoteUrl": f"{repo.payload()['remoteUrl']}/commit/{info.sha}",
                "_links": {
                    "self": {"href": url},
                    "repository": {"href": repo.payload()["url"]},
                    "web": {"href": f"{repo.payload()['remoteUrl']}/commit/{info.sha}"},
                },
            }
        )

    async def items(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        query = _lower_query(request)
        version = query.get("versiondescriptor.version") or query.get("version") or ""
        kind = query.get("versiondescriptor.versiontype") or query.get("versiontype") or "branch"
        if not version:
            version, kind = self.org.default_branch(repo), "branch"
        sha = self.org.resolve(repo, version, kind)
        raw_path = query.get("path") or query.get("scopepath") or "/"
        path = "/" + raw_path.strip("/")
        entries = {"/" + e[2]: (e[0], e[1]) for e in self.org.tree(repo, sha)}
        root_tree = self.org.git(repo.handle.path, "rev-parse", f"{sha}^{{tree}}").strip()
        entries["/"] = ("tree", root_tree)
        if path not in entries:
            raise AdoError(
                404,
                "GitItemNotFoundException",
                f"TF401174: The item '{path}' could not be found in the repository '{repo.name}' at the version "
                f"specified by '<{kind.capitalize()}: {version}>' (resolved to commit '{sha}').",
            )
        base_url = f"{repo.payload()['url']}/items"

        def item(item_path: str, content: bool = False) -> dict[str, Any]:
            kind_, oid = entries[item_path]
            body: dict[str, Any] = {
                "objectId": oid,
                "gitObjectType": kind_,
                "commitId": sha,
                "path": item_path,
                "url": f"{base_url}?path={quote(item_path)}&versionType=Commit&version={sha}",
            }
            if kind_ == "tree":
                body["isFolder"] = True
            elif content:
                data = self.org.store.read_tree(repo.handle, sha).get(item_path.lstrip("/"), b"")
                body["content"] = data.decode(errors="replace")
            return body

        recursion = (query.get("recursionlevel") or "none").lower()
        if recursion != "none":
            if entries[path][0] != "tree":
                return _list([item(path)])
            prefix = "" if path == "/" else path
            children = []
            for child in sorted(entries):
                if child == path or not child.startswith(prefix + "/"):
                    continue
                depth = child[len(prefix) + 1 :].count("/")
                if recursion == "full" or depth == 0:
                    children.append(item(child))
            return _list([item(path), *children])
        fmt = (query.get("$format") or "").lower()
        accept = request.headers.get("Accept", "").lower()
        include = query.get("includecontent", "").lower() == "true"
        wants_raw = fmt in ("text", "octetstream") or (not fmt and not include and "application/json" not in accept)
        if entries[path][0] == "blob" and (wants_raw or query.get("download", "").lower() == "true"):
            data = self.org.store.read_tree(repo.handle, sha).get(path.lstrip("/"), b"")
            content_type = "application/octet-stream" if fmt == "octetstream" else "text/plain"
            return web.Response(body=data, content_type=content_type)
        return _json(item(path, content=include))

    async def diffs(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        query = _lower_query(request)
        base_version = query.get("baseversion") or self.org.default_branch(repo)
        target_version = query.get("targetversion") or self.org.default_branch(repo)
        base = self.org.resolve(repo, base_version, query.get("baseversiontype") or "branch")
        target = self.org.resolve(repo, target_version, query.get("targetversiontype") or "branch")
        common = self.org.merge_base(repo, base, target)
        diff_common = query.get("diffcommoncommit", "true").lower() != "false"
        changes = self.org.changes(repo, common if (diff_common and common) else base, target)
        top = int(query.get("$top") or 100)
        skip = int(query.get("$skip") or 0)
        counts: dict[str, int] = {}
        for change_type, _path in changes:
            key = change_type.capitalize()
            counts[key] = counts.get(key, 0) + 1
        body: dict[str, Any] = {
            "allChangesIncluded": skip + top >= len(changes),
            "changeCounts": counts,
            "changes": [
                {"item": {"path": "/" + path, "gitObjectType": "blob", "commitId": target}, "changeType": kind}
                for kind, path in changes[skip : skip + top]
            ],
            "baseCommit": base,
            "targetCommit": target,
            # target ahead: commits only it has; target behind: commits only base has
            "aheadCount": self.org.count(repo, base, target),
            "behindCount": self.org.count(repo, target, base),
        }
        if common:
            body["commonCommit"] = common
        return _json(body)


# -- helpers ------------------------------------------------------------------------------------------


def _json(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        charset="utf-8",
        headers=dict(headers or {}),
    )


def _list(values: list[Any]) -> web.Response:
    return _json({"count": len(values), "value": values})


def _body(call: Call) -> dict[str, Any]:
    raw = call.body
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise AdoError(400, "InvalidArgumentValueException", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise AdoError(400, "InvalidArgumentValueException", "The request body must be a JSON object.")
    return body


def _enum(value: Any, names: Mapping[int, str], field: str) -> str:
    """ADO takes enums as numbers or names (any case)."""
    if isinstance(value, int) and value in names:
        return names[value]
    if isinstance(value, str):
        for name in names.values():
            if name.lower() == value.lower():
                return name
    raise AdoError(400, "InvalidArgumentValueException", f"Invalid value {value!r} for {field}.")


def _lower_query(request: web.Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.query.items()}


def _accept_version(accept: str) -> str:
    found = _ACCEPT_VERSION.search(accept)
    return found.group(1) if found else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
