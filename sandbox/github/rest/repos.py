"""Repositories, commits and comparisons: ``/repos/{owner}/{repo}``, ``/commits/{ref}``, ``/compare``,
``/collaborators/{user}/permission``.

Clone URLs keep the repositories' ``github.com`` addresses that Flux configurations name.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from aiohttp import web

from sandbox.github import payloads
from sandbox.github.git import CommitInfo, FileChange
from sandbox.github.rest.errors import ApiError, not_found
from sandbox.github.rest.resource import Resource, api_base
from sandbox.github.state import PERMISSIONS, repo_id
from sandbox.gitrepos import RepoHandle

GIT_WEB = "https://github.com"


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


class Repos(Resource):
    """A repository, its commits (with files and patches), comparisons between two refs, collaborators."""

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
