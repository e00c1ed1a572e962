"""Pull requests: the resource, its reviewers, iterations and commits."""

from __future__ import annotations

from aiohttp import web

from sandbox.azure_devops.rest.calls import (
    Call,
    Endpoints,
    Params,
    json_response,
    list_response,
)


class PullRequests(Endpoints):
    """A pull request and what it is made of."""

    async def get_pr(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        return json_response(self._pr(p, call).resource())

    async def reviewers(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        return list_response(self._pr(p, call).resource()["reviewers"])

    async def iterations(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        return list_response([self.org.iteration_json(pr, i) for i in pr.iterations])

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
        return list_response(commits)
