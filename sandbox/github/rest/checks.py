"""Check runs: created and updated by an app installation only, as on GitHub."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.github import payloads
from sandbox.github.rest.errors import ApiError, not_found, validation
from sandbox.github.rest.resource import Resource, api_base
from sandbox.github.state import CheckRun, key
from sandbox.gitrepos import RepoHandle

CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")


class CheckRuns(Resource):
    """Check runs of a commit, with GitHub's rules on status, conclusion and output."""

    def check_run_json(self, request: web.Request, run: CheckRun) -> dict[str, Any]:
        api = f"{api_base(request)}/repos/{run.repo}"
        app = self.app_json(request) if self.fake.auth.app is not None else None
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
