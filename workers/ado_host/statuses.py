"""bot.ports.CommitStatuses for Azure DevOps: commit statuses (check runs are GitHub's: none here)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.git_host import STATUS_DESCRIPTION_LIMIT, CheckRun, CommitStatus, StatusState
from bot.gitevents import RepoRef
from workers.ado_host.connection import AzureDevOpsConnection

_STATES = {
    StatusState.PENDING: "pending",
    StatusState.SUCCESS: "succeeded",
    StatusState.FAILURE: "failed",
    StatusState.ERROR: "error",
}


class AzureDevOpsStatuses(AzureDevOpsConnection):
    """What a push reports back on its commit, on Azure DevOps."""

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        self.call(
            "POST",
            self.repo_url(repo, f"commits/{quote(sha)}/statuses"),
            f"setting status {status.context!r} on commit {sha[:12]} of {repo.label}",
            json=_status_body(status),
            idempotent=True,  # the latest status per context wins: sending it twice changes nothing
        )

    def set_pull_request_status(self, repo: RepoRef, number: int, status: CommitStatus) -> None:
        """A status on the pull request (what its overview and branch policies show), by the same context."""
        self.call(
            "POST",
            self.repo_url(repo, f"pullRequests/{number}/statuses"),
            f"setting status {status.context!r} on pull request {number} of {repo.label}",
            json=_status_body(status),
            idempotent=True,
        )

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        return None  # check runs are GitHub's; Azure DevOps shows the statuses (bot/usecases/push_statuses.py)


def _status_body(status: CommitStatus) -> dict[str, Any]:
    """Azure DevOps' status: ``fluxops/preflight`` is genre ``fluxops``, name ``preflight``."""
    genre, _, name = status.context.partition("/")
    if not name:
        genre, name = "fluxops", status.context
    description = status.description
    if len(description) > STATUS_DESCRIPTION_LIMIT:
        description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
    body: dict[str, Any] = {
        "state": _STATES[status.state],
        "description": description,
        "context": {"genre": genre, "name": name},
    }
    if status.target_url:
        body["targetUrl"] = status.target_url
    return body
