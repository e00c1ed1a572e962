"""Pull requests, with their reviews, commits and changed files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.github import payloads
from sandbox.github.rest.repos import Repos
from sandbox.github.rest.resource import Resource, api_base
from sandbox.github.state import PullRequest
from sandbox.gitrepos import RepoHandle

if TYPE_CHECKING:
    from sandbox.github.core import GitHubCore


#: GitHub lists at most this many commits of a pull request
PULL_COMMITS_LIMIT = 250


class Pulls(Resource):
    """A pull request, its reviews, commits and changed files."""

    def __init__(self, fake: GitHubCore, *, repos: Repos) -> None:
        super().__init__(fake)
        self.repos = repos

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
        return [self.repos.commit_json(request, handle, self.git.commit(handle, s)) for s in shas]

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
            self.repos.file_json(request, handle, head, c, merge_base)
            for c in self.git.changes(handle, merge_base, head)
        ]

    async def list_files(self, request: web.Request) -> web.Response:
        handle = self._repo(request)
        pr = self._pull(handle, int(request.match_info["number"]))
        files = await self._thread(self._files, request, handle, pr)
        items, headers = self._page(request, files)
        return web.json_response(items, headers=headers)
