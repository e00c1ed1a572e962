"""The webhook deliveries the fake's actions send: ``push``, ``pull_request`` and the payload pieces."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sandbox.github import payloads
from sandbox.github.core import GitHubCore, SandboxError
from sandbox.github.git import GitFailure
from sandbox.github.rest import GIT_WEB
from sandbox.github.state import PullRequest
from sandbox.gitrepos import RepoHandle

log = logging.getLogger(__name__)


class HookEvents(GitHubCore):
    """Builds and delivers webhook events for what happens in a repository; commits on the fake's behalf."""

    def _hook_repo(self, handle: RepoHandle) -> dict[str, Any]:
        api = self.api_url or "https://api.github.com"
        return self.repository_json(handle, api=api, web=GIT_WEB)

    def _hook_fork(self, handle: RepoHandle, pr: PullRequest) -> dict[str, Any] | None:
        if not pr.fork_owner:
            return None
        return self.fork_json(handle, pr.fork_owner, api=self.api_url or "https://api.github.com", web=GIT_WEB)

    async def _deliver(self, event: str, payload: dict[str, Any], handle: RepoHandle) -> str:
        delivery = await self.webhooks.send(event, payload, repo=handle.slug)
        return delivery.id

    def _commit_entry(self, handle: RepoHandle, sha: str, author: str, *, distinct: bool = True) -> dict[str, Any]:
        info = self.git.commit(handle, sha)
        parent = info.parents[0] if info.parents else "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        added: list[str] = []
        removed: list[str] = []
        modified: list[str] = []
        for change in self.git.changes(handle, parent, sha):
            if change.status == "added":
                added.append(change.filename)
            elif change.status == "removed":
                removed.append(change.filename)
            elif change.status == "renamed":
                added.append(change.filename)
                removed.append(change.previous_filename or change.filename)
            else:
                modified.append(change.filename)
        return payloads.commit(
            sha=sha,
            message=info.message,
            author=author,
            timestamp=info.author_date,
            repo=self._hook_repo(handle),
            added=added,
            removed=removed,
            modified=modified,
            tree_id=info.tree,
            distinct=distinct,
        )

    async def _push_event(
        self, handle: RepoHandle, branch: str, before: str, after: str, commits: list[dict[str, Any]], pusher: str
    ) -> str:
        payload = payloads.push(
            repo=self._hook_repo(handle),
            ref=f"refs/heads/{branch}",
            before=before,
            after=after,
            pusher=pusher,
            commits=commits,
            installation_id=self.installation_id,
        )
        delivery = await self._deliver("push", payload, handle)
        if self.on_push is not None:
            try:
                self.on_push(handle.slug, branch, after)
            except Exception:  # the callback is the sandbox's business; the push itself happened
                log.exception("on_push callback failed for %s@%s", handle.slug, branch)
        return delivery

    def _pr_payload(self, action: str, handle: RepoHandle, pr: PullRequest, **extra: Any) -> dict[str, Any]:
        return payloads.pull_request(
            action=action,
            repo=self._hook_repo(handle),
            number=pr.number,
            head_sha=self.current_head(handle, pr),
            head_ref=pr.head_ref,
            base_ref=pr.base_ref,
            base_sha=self.git.branch_head(handle, pr.base_ref) or "",
            author=pr.author,
            title=pr.title,
            state=pr.state,
            merged=pr.merged,
            head_repo=self._hook_fork(handle, pr),
            installation_id=self.installation_id,
            body=pr.body,
            created_at=pr.created_at,
            merge_commit_sha=pr.merge_commit_sha,
            **extra,
        )

    async def _commit(
        self, handle: RepoHandle, branch: str, files: Mapping[str, str | None], message: str, author: str
    ) -> str:
        if not files:
            raise SandboxError(400, "files must name at least one file")
        try:
            sha = await asyncio.to_thread(self.repos.commit, handle.slug, dict(files), message, branch=branch)
        except ValueError as exc:
            raise SandboxError(400, str(exc)) from None
        except GitFailure as exc:
            raise SandboxError(409, str(exc)) from None
        # git records the sandbox's one author; GitHub would match the commit's e-mail to this user
        self.state.commit_users[sha] = author
        return sha

    async def _synchronize(self, handle: RepoHandle, pr: PullRequest, before: str, after: str, sender: str) -> str:
        pr.head_sha = after
        pr.updated_at = payloads.now_iso()
        payload = self._pr_payload("synchronize", handle, pr, before=before, sender=sender)
        return await self._deliver("pull_request", payload, handle)
