"""bot.ports.CommitStatuses for GitHub: commit statuses, and check runs when fluxops is a GitHub App."""

from __future__ import annotations

from typing import Any

from github.GithubObject import NotSet

from bot.git_host import STATUS_DESCRIPTION_LIMIT, CheckRun, CommitStatus
from bot.gitevents import RepoRef
from workers.github_host.connection import TEXT_LIMIT, GitHubConnection, clip


class GitHubStatuses(GitHubConnection):
    """What a push reports back on its commit, on GitHub."""

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        doing = f"setting commit status '{status.context}' on {repo.full_name}@{sha[:7]}"
        with self.call(doing, repo, missing=f"commit {sha[:7]} in {repo.full_name}"):
            self.repo(repo).get_commit(sha).create_status(
                state=status.state.value,
                target_url=status.target_url or NotSet,
                description=clip(status.description, STATUS_DESCRIPTION_LIMIT),
                context=status.context,
            )

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        if not self.is_app:
            return None  # check runs are for GitHub Apps only; a token gets 403
        output: dict[str, Any] = {"title": clip(run.title, 1000), "summary": clip(run.summary, TEXT_LIMIT)}
        if run.text:
            output["text"] = clip(run.text, TEXT_LIMIT)
        conclusion = run.conclusion if run.status == "completed" and run.conclusion else NotSet
        if run_id:
            doing = f"updating check run '{run.name}' on {repo.full_name}@{sha[:7]}"
            with self.call(doing, repo, missing=f"check run {run_id} in {repo.full_name}"):
                self.repo(repo).get_check_run(int(run_id)).edit(
                    name=run.name, status=run.status, conclusion=conclusion, output=output
                )
            return run_id
        doing = f"creating check run '{run.name}' on {repo.full_name}@{sha[:7]}"
        with self.call(doing, repo, missing=f"commit {sha[:7]} in {repo.full_name}"):
            created = self.repo(repo).create_check_run(
                name=run.name, head_sha=sha, status=run.status, conclusion=conclusion, output=output
            )
            return str(created.id)
