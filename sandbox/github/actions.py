"""What a person does on the fake GitHub (call on the fake's event loop): push, open, comment on, review,
merge and close pull requests; each sends the webhooks GitHub would and returns an :class:`Outcome`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sandbox.github import payloads
from sandbox.github.core import Outcome, SandboxError
from sandbox.github.git import MergeConflict
from sandbox.github.hook_events import HookEvents
from sandbox.github.state import PERMISSIONS, Delivery, PullRequest, Review, key
from sandbox.gitrepos import RepoHandle

DEFAULT_AUTHOR = "sandbox-user"
ZERO_SHA = payloads.ZERO_SHA


class SandboxActions(HookEvents):
    """The sandbox's actions on repositories and pull requests, as people would take them on GitHub."""

    async def push(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str | None],
        *,
        message: str = "Update files",
        author: str = DEFAULT_AUTHOR,
    ) -> Outcome:
        """Commit ``files`` (None deletes) on ``branch`` and deliver ``push`` (and ``synchronize`` to
        open pull requests whose head is that branch)."""
        handle = self._handle(repo)
        async with self._write:
            before = self.git.branch_head(handle, branch) or ZERO_SHA
            sha = await self._commit(handle, branch, files, message, author)
            entry = await asyncio.to_thread(self._commit_entry, handle, sha, author)
            deliveries = [await self._push_event(handle, branch, before, sha, [entry], author)]
            for pr in list(self.state.pulls.values()):
                if key(pr.repo) == key(handle.slug) and pr.state == "open" and pr.git_branch == branch:
                    deliveries.append(await self._synchronize(handle, pr, before, sha, author))
        return Outcome(deliveries[0], tuple(deliveries), sha=sha, before=before)

    async def open_pull(
        self,
        repo: str,
        head: str,
        *,
        base: str | None = None,
        title: str = "",
        author: str = DEFAULT_AUTHOR,
        files: Mapping[str, str | None] | None = None,
        fork: bool = False,
        body: str | None = None,
        message: str | None = None,
    ) -> Outcome:
        """Open a pull request from ``head`` into ``base`` (default branch), committing ``files`` on the
        head first when given. ``fork``: the head lives in ``author``'s fork (its commits are kept in the
        base repository under ``pull/<n>/head``, as GitHub keeps them)."""
        handle = self._handle(repo)
        base = base or self.default_branch(handle)
        async with self._write:
            if self.git.branch_head(handle, base) is None:
                raise SandboxError(422, f"base branch {base} does not exist")
            for other in self.state.pulls.values():
                if (
                    key(other.repo) == key(handle.slug)
                    and other.state == "open"
                    and other.head_ref == head
                    and other.base_ref == base
                    and other.fork_owner == (author if fork else None)
                ):
                    raise SandboxError(422, f"A pull request already exists for {author if fork else ''}:{head}.")
            number = self.state.next_number(handle.slug)
            git_branch = f"pull/{number}/head" if fork else head
            deliveries: list[str] = []
            if fork:
                start = self.git.branch_head(handle, head) or self.git.branch_head(handle, base)
                assert start is not None
                await asyncio.to_thread(self.git.create_branch, handle, git_branch, start)
            elif self.git.branch_head(handle, head) is None:
                if not files:
                    raise SandboxError(422, f"head branch {head} does not exist (give files to create it)")
                start = self.git.branch_head(handle, base)
                assert start is not None
                await asyncio.to_thread(self.git.create_branch, handle, git_branch, start)
            if files:
                before = self.git.branch_head(handle, git_branch) or ZERO_SHA
                sha = await self._commit(handle, git_branch, files, message or title or "Change files", author)
                if not fork:
                    entry = await asyncio.to_thread(self._commit_entry, handle, sha, author)
                    deliveries.append(await self._push_event(handle, git_branch, before, sha, [entry], author))
            head_sha = self.git.branch_head(handle, git_branch)
            assert head_sha is not None
            base_sha = self.git.branch_head(handle, base)
            if head_sha == base_sha:
                raise SandboxError(422, f"No commits between {base} and {head}")
            now = payloads.now_iso()
            pr = PullRequest(
                repo=handle.slug,
                number=number,
                head_ref=head,
                git_branch=git_branch,
                base_ref=base,
                author=author,
                title=title or head,
                body=body,
                created_at=now,
                updated_at=now,
                head_sha=head_sha,
                fork_owner=author if fork else None,
            )
            self.state.add_pull(pr)
            opened = await self._deliver("pull_request", self._pr_payload("opened", handle, pr), handle)
            deliveries.append(opened)
        return Outcome(opened, tuple(deliveries), sha=head_sha, number=number)

    def _open_pull(self, handle: RepoHandle, number: int) -> PullRequest:
        pr = self.state.pull(handle.slug, number)
        if pr is None:
            raise SandboxError(404, f"no pull request #{number} in {handle.slug}")
        return pr

    async def push_to_pull(
        self,
        repo: str,
        number: int,
        files: Mapping[str, str | None],
        *,
        message: str = "Update files",
        author: str | None = None,
    ) -> Outcome:
        """Commit on the pull request's head: ``push`` (not for a fork) then ``pull_request`` synchronize."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        if pr.state != "open":
            raise SandboxError(422, f"pull request #{number} is closed")
        if not pr.fork_owner:
            outcome = await self.push(repo, pr.git_branch, files, message=message, author=author or pr.author)
            sync = outcome.deliveries[-1]
            return Outcome(sync, outcome.deliveries, sha=outcome.sha, before=outcome.before, number=number)
        async with self._write:
            before = self.current_head(handle, pr)
            sha = await self._commit(handle, pr.git_branch, files, message, author or pr.author)
            sync = await self._synchronize(handle, pr, before, sha, author or pr.author)
        return Outcome(sync, (sync,), sha=sha, before=before, number=number)

    async def comment(
        self, repo: str, number: int, body: str, *, author: str = DEFAULT_AUTHOR, created_at: str | None = None
    ) -> Outcome:
        """A person comments on the pull request: ``issue_comment`` created. ``created_at`` backdates the
        comment (a delivery that reaches fluxops long after the comment was written)."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        comment = self.add_comment(handle.slug, number, author, body)
        if created_at is not None:
            comment.created_at = comment.updated_at = created_at
        payload = payloads.issue_comment(
            repo=self._hook_repo(handle),
            number=number,
            comment_id=comment.id,
            author=author,
            body=body,
            installation_id=self.installation_id,
            issue_author=pr.author,
            title=pr.title,
            author_association=self.association(handle.slug, author),
            created_at=comment.created_at,
        )
        delivery = await self._deliver("issue_comment", payload, handle)
        return Outcome(delivery, (delivery,), number=number, id=comment.id)

    async def edit_comment(self, repo: str, comment_id: int, body: str, *, editor: str) -> Outcome:
        """Someone (``editor``: anyone with write access can edit others' comments) changes a comment's
        text: ``issue_comment`` edited, with the comment's author unchanged, as GitHub sends it."""
        handle = self._handle(repo)
        comment = self.state.comments.get(comment_id)
        if comment is None or key(comment.repo) != key(handle.slug):
            raise SandboxError(404, f"no comment {comment_id} on {repo}")
        pr = self._open_pull(handle, comment.number)
        previous, comment.body, comment.updated_at = comment.body, body, payloads.now_iso()
        payload = payloads.issue_comment(
            repo=self._hook_repo(handle),
            number=comment.number,
            comment_id=comment.id,
            author=comment.author,
            body=body,
            action="edited",
            installation_id=self.installation_id,
            issue_author=pr.author,
            title=pr.title,
            author_association=self.association(handle.slug, comment.author),
            previous_body=previous,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
        )
        payload["sender"] = payloads.user_of(self._hook_repo(handle), editor)
        delivery = await self._deliver("issue_comment", payload, handle)
        return Outcome(delivery, (delivery,), number=comment.number, id=comment.id)

    async def replay(self, delivery_id: str) -> Delivery:
        """What someone who captured a delivery can do: send its exact bytes and signature again under a
        new X-GitHub-Delivery (the delivery id is not covered by the signature)."""
        delivery = await self.webhooks.replay(delivery_id)
        if delivery is None:
            raise SandboxError(404, f"no delivery {delivery_id}")
        return delivery

    async def review(self, repo: str, number: int, *, reviewer: str, state: str, body: str = "") -> Outcome:
        """A review is submitted (APPROVED | CHANGES_REQUESTED | COMMENTED): ``pull_request_review``."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        upper = state.upper()
        if upper not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED"):
            raise SandboxError(400, "state must be APPROVED, CHANGES_REQUESTED or COMMENTED")
        if upper != "COMMENTED" and reviewer.casefold() == pr.author.casefold():
            verb = "approve" if upper == "APPROVED" else "request changes on"
            raise SandboxError(422, f"Can not {verb} your own pull request")
        head_sha = self.current_head(handle, pr)
        review = Review(self.state.next_id(), handle.slug, number, reviewer, upper, body, head_sha, payloads.now_iso())
        self.state.reviews.append(review)
        payload = payloads.pull_request_review(
            repo=self._hook_repo(handle),
            number=number,
            reviewer=reviewer,
            state=upper,
            head_sha=head_sha,
            head_ref=pr.head_ref,
            base_ref=pr.base_ref,
            author=pr.author,
            review_id=review.id,
            installation_id=self.installation_id,
            base_sha=self.git.branch_head(handle, pr.base_ref) or "",
            title=pr.title,
            body=body or None,
            head_repo=self._hook_fork(handle, pr),
        )
        delivery = await self._deliver("pull_request_review", payload, handle)
        return Outcome(delivery, (delivery,), number=number, id=review.id)

    async def merge(self, repo: str, number: int, *, author: str | None = None) -> Outcome:
        """Merge the pull request with a merge commit on its base: ``pull_request`` closed (merged) and
        the base branch's ``push``."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        merger = author or handle.slug.split("/", 1)[0]
        async with self._write:
            if pr.state != "open":
                raise SandboxError(422, f"pull request #{number} is not open")
            head_sha = self.current_head(handle, pr)
            before = self.git.branch_head(handle, pr.base_ref) or ZERO_SHA
            head_owner = pr.fork_owner or handle.slug.split("/", 1)[0]
            message = f"Merge pull request #{number} from {head_owner}/{pr.head_ref}\n\n{pr.title}"
            try:
                sha = await asyncio.to_thread(self.git.merge, handle, pr.base_ref, head_sha, message, merger)
            except MergeConflict as exc:
                raise SandboxError(405, f"Pull Request is not mergeable: {exc}") from None
            now = payloads.now_iso()
            pr.head_sha = head_sha
            pr.state, pr.merged, pr.merged_by = "closed", True, merger
            pr.merged_at = pr.closed_at = pr.updated_at = now
            pr.merge_commit_sha = sha
            self.state.commit_users[sha] = merger
            closed = await self._deliver("pull_request", self._pr_payload("closed", handle, pr, sender=merger), handle)
            shas = (await asyncio.to_thread(self.git.compare, handle, before, sha)).commits
            entries = [
                await asyncio.to_thread(
                    self._commit_entry, handle, s, merger if s == sha else pr.author, distinct=s == sha
                )
                for s in shas
            ]
            pushed = await self._push_event(handle, pr.base_ref, before, sha, entries, merger)
        return Outcome(closed, (closed, pushed), sha=sha, before=before, number=number)

    async def close(self, repo: str, number: int, *, author: str | None = None) -> Outcome:
        """Close the pull request without merging: ``pull_request`` closed."""
        handle = self._handle(repo)
        pr = self._open_pull(handle, number)
        if pr.state != "open":
            raise SandboxError(422, f"pull request #{number} is not open")
        pr.head_sha = self.current_head(handle, pr)
        pr.state = "closed"
        pr.closed_at = pr.updated_at = payloads.now_iso()
        payload = self._pr_payload("closed", handle, pr, sender=author or pr.author)
        delivery = await self._deliver("pull_request", payload, handle)
        return Outcome(delivery, (delivery,), number=number)

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """Make ``login`` a collaborator with ``permission`` (``none`` removes them)."""
        handle = self._handle(repo)
        if permission not in PERMISSIONS:
            raise SandboxError(400, f"permission must be one of {', '.join(PERMISSIONS)}")
        self.state.set_permission(handle.slug, login, permission)

    async def ping(self, repo: str) -> Outcome:
        """The ``ping`` GitHub sends when a webhook is created."""
        handle = self._handle(repo)
        payload = payloads.ping(repo=self._hook_repo(handle), hook_id=self.webhooks.hook_id, url=self.webhook_url or "")
        delivery = await self._deliver("ping", payload, handle)
        return Outcome(delivery, (delivery,))

    async def redeliver(self, delivery_id: str) -> Delivery:
        """Send a delivery again: same GUID, same bytes, same signatures."""
        delivery = await self.webhooks.redeliver(delivery_id)
        if delivery is None:
            raise SandboxError(404, f"no delivery {delivery_id}")
        return delivery
