"""Statuses: a pull request's and a commit's (with ``latestOnly``)."""

from __future__ import annotations

from aiohttp import web

from sandbox.azure_devops.records import latest_only
from sandbox.azure_devops.rest.calls import (
    Call,
    Endpoints,
    Params,
    json_response,
    list_response,
    lower_query,
    read_body,
)


class Statuses(Endpoints):
    """Pull request and commit statuses, as CI systems and fluxops post them."""

    async def list_pr_statuses(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        url = f"{pr.repo.payload()['url']}/pullRequests/{pr.id}/statuses"
        return list_response([self.org.status_json(s, f"{url}/{s.id}") for s in pr.statuses])

    async def create_pr_status(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        pr = self._pr(p, call)
        status = self.org.new_status(read_body(call), call.user, pr.statuses)
        url = f"{pr.repo.payload()['url']}/pullRequests/{pr.id}/statuses/{status.id}"
        return json_response(self.org.status_json(status, url))

    async def list_commit_statuses(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        sha = self.org.resolve(repo, p["sha"], "commit")
        statuses = list(reversed(self.org.commit_statuses.get((repo.id, sha), [])))
        query = lower_query(request)
        if query.get("latestonly", "").lower() == "true":
            statuses = latest_only(list(reversed(statuses)))
        skip, top = int(query.get("skip") or 0), int(query.get("top") or 1000)
        url = f"{repo.payload()['url']}/commits/{sha}/statuses"
        return list_response([self.org.status_json(s, url) for s in statuses[skip : skip + top]])

    async def create_commit_status(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        repo = self._repo(p, call)
        sha = self.org.resolve(repo, p["sha"], "commit")
        statuses = self.org.commit_statuses.setdefault((repo.id, sha), [])
        status = self.org.new_status(read_body(call), call.user, statuses)
        return json_response(
            self.org.status_json(status, f"{repo.payload()['url']}/commits/{sha}/statuses"), status=201
        )
