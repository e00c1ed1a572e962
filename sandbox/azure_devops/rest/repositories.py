"""Repositories and their contents: list, get, commits, ``items`` (files and folders) and ``diffs``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from sandbox.azure_devops.records import AdoError
from sandbox.azure_devops.rest.calls import (
    Call,
    Endpoints,
    Params,
    json_response,
    list_response,
    lower_query,
)


class Repositories(Endpoints):
    """A project's repositories, their commits, files and diffs."""

    async def list_repos(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        return list_response([r.payload() for r in self.org.all_repos(call.project)])

    async def get_repo(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self.org.repo(call.project, p["repo"])
        body = repo.payload()
        body["_links"] = {"self": {"href": body["url"]}, "web": {"href": body["webUrl"]}}
        return json_response(body)

    async def get_commit(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        info = self.org.commit_info(repo, p["sha"])
        person = {"name": info.author, "email": info.email, "date": info.date}
        url = f"{repo.payload()['url']}/commits/{info.sha}"
        return json_response(
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
        query = lower_query(request)
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
                return list_response([item(path)])
            prefix = "" if path == "/" else path
            children = []
            for child in sorted(entries):
                if child == path or not child.startswith(prefix + "/"):
                    continue
                depth = child[len(prefix) + 1 :].count("/")
                if recursion == "full" or depth == 0:
                    children.append(item(child))
            return list_response([item(path), *children])
        fmt = (query.get("$format") or "").lower()
        accept = request.headers.get("Accept", "").lower()
        include = query.get("includecontent", "").lower() == "true"
        wants_raw = fmt in ("text", "octetstream") or (not fmt and not include and "application/json" not in accept)
        if entries[path][0] == "blob" and (wants_raw or query.get("download", "").lower() == "true"):
            data = self.org.store.read_tree(repo.handle, sha).get(path.lstrip("/"), b"")
            content_type = "application/octet-stream" if fmt == "octetstream" else "text/plain"
            return web.Response(body=data, content_type=content_type)
        return json_response(item(path, content=include))

    async def diffs(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        query = lower_query(request)
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
        return json_response(body)
