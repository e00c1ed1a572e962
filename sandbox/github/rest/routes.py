"""The route table of the fake GitHub REST API: every path, its method and the endpoint serving it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.github.rest.apps import Apps
from sandbox.github.rest.checks import CheckRuns
from sandbox.github.rest.contents import Contents
from sandbox.github.rest.deploy_keys import DeployKeys
from sandbox.github.rest.issues import Issues
from sandbox.github.rest.pulls import Pulls
from sandbox.github.rest.repos import Repos
from sandbox.github.rest.resource import Handler
from sandbox.github.rest.statuses import Statuses

if TYPE_CHECKING:
    from sandbox.github.core import GitHubCore


class RestApi:
    """GitHub's REST API, the part fluxops (through PyGithub) uses, one group of endpoints per resource."""

    def __init__(self, fake: GitHubCore) -> None:
        self.fake = fake
        self.apps = Apps(fake)
        self.repos = Repos(fake)
        self.statuses = Statuses(fake)
        self.checks = CheckRuns(fake)
        self.pulls = Pulls(fake, repos=self.repos)
        self.issues = Issues(fake)
        self.contents = Contents(fake)
        self.keys = DeployKeys(fake)

    def add_routes(self, app: web.Application) -> None:
        """Register every endpoint on ``app``."""
        r = "/repos/{owner}/{repo}"
        apps, repos, statuses, checks = self.apps, self.repos, self.statuses, self.checks
        pulls, issues, contents, keys = self.pulls, self.issues, self.contents, self.keys
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/user", apps.get_user),
            ("GET", "/rate_limit", apps.rate_limit),
            ("GET", "/meta", apps.meta),
            ("GET", "/app", apps.get_app),
            ("GET", "/app/installations/{installation_id}", apps.get_installation),
            ("POST", "/app/installations/{installation_id}/access_tokens", apps.access_token),
            ("GET", r + "/installation", apps.repo_installation),
            ("GET", r, repos.get_repo),
            ("GET", r + "/commits/{ref:.+}/statuses", statuses.list_statuses),
            ("GET", r + "/commits/{ref:.+}/status", statuses.combined_status),
            ("GET", r + "/commits/{ref:.+}/check-runs", checks.list_check_runs),
            ("GET", r + "/commits/{ref:.+}", repos.get_commit),
            ("GET", r + "/compare/{basehead:.+}", repos.compare),
            ("POST", r + "/statuses/{sha}", statuses.create_status),
            ("GET", r + "/statuses/{ref:.+}", statuses.list_statuses),  # the older path PyGithub lists with
            ("POST", r + "/check-runs", checks.create_check_run),
            ("GET", r + "/check-runs/{id:\\d+}", checks.get_check_run),
            ("PATCH", r + "/check-runs/{id:\\d+}", checks.update_check_run),
            ("GET", r + "/collaborators/{user}/permission", repos.permission),
            ("GET", r + "/pulls/{number:\\d+}", pulls.get_pull),
            ("GET", r + "/pulls/{number:\\d+}/reviews", pulls.list_reviews),
            ("GET", r + "/pulls/{number:\\d+}/files", pulls.list_files),
            ("GET", r + "/pulls/{number:\\d+}/commits", pulls.list_pull_commits),
            ("GET", r + "/issues/comments/{id:\\d+}", issues.get_comment),
            ("PATCH", r + "/issues/comments/{id:\\d+}", issues.edit_comment),
            ("GET", r + "/issues/comments/{id:\\d+}/reactions", issues.list_reactions),
            ("POST", r + "/issues/comments/{id:\\d+}/reactions", issues.create_reaction),
            ("GET", r + "/issues/{number:\\d+}", issues.get_issue),
            ("GET", r + "/issues/{number:\\d+}/comments", issues.list_comments),
            ("POST", r + "/issues/{number:\\d+}/comments", issues.create_comment),
            ("GET", r + "/contents", contents.contents),
            ("GET", r + "/contents/{path:.*}", contents.contents),
            ("GET", r + "/keys", keys.list_keys),
            ("POST", r + "/keys", keys.create_key),
            ("GET", r + "/keys/{id:\\d+}", keys.get_key),
            ("DELETE", r + "/keys/{id:\\d+}", keys.delete_key),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
