"""``/contents/{path}``: a file (base64) or a directory listing at a ref."""

from __future__ import annotations

import base64
import hashlib
import posixpath
import urllib.parse
from typing import Any

from aiohttp import web

from sandbox.github.rest.errors import ApiError, not_found
from sandbox.github.rest.resource import Resource, api_base
from sandbox.gitrepos import RepoHandle


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _b64_lines(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


class Contents(Resource):
    """Files and directories of a repository at a ref."""

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
