"""``FakeAzureDevOps``: one organization's REST API, its service hooks and the control routes, in one app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bot.models import Secret
from sandbox.azure_devops import payloads
from sandbox.azure_devops.control import Control
from sandbox.azure_devops.directory import bits
from sandbox.azure_devops.hooks import Delivery, ServiceHooks
from sandbox.azure_devops.records import ZERO_SHA, AdoError, Comment, PullRequest, Repo, Thread
from sandbox.azure_devops.rest import Fault, RestApi
from sandbox.azure_devops.state import Organization
from sandbox.gitrepos import RepoStore

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024
DEFAULT_ORG = "fluxops-sandbox"
BOT_USER = "fluxops-bot@fluxops.invalid"
DEFAULT_AUTHOR = "dev@fluxops.invalid"
_PUSH_COMMITS_LIMIT = 100


class FakeAzureDevOps:
    """An Azure DevOps organization served over plain HTTP (REST 7.1), with Web Hooks service hooks.

    ``token`` is the PAT fluxops uses; it belongs to ``bot_user``. ``members`` (unique name -> display
    name) are the people the organization knows; pushers and pull request authors join automatically,
    commenters and reviewers must be members. Service hooks go to ``webhook_url`` (settable later) with
    Basic auth ``webhook_username``/``webhook_password``.
    """

    def __init__(
        self,
        *,
        store: RepoStore,
        token: str,
        org: str = DEFAULT_ORG,
        bot_user: str = BOT_USER,
        members: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        webhook_username: str | None = None,
        webhook_password: str | None = None,
    ) -> None:
        self.org = Organization(name=org, store=store, members=members)
        self.org.add_member(bot_user, "fluxops")
        self.bot_user = bot_user
        self._token = Secret(token)
        self.hooks = ServiceHooks(org=org)
        self.hooks.configure(url=webhook_url, username=webhook_username, password=webhook_password)
        self.rest = RestApi(self, tokens={token: bot_user})
        self.control = Control(self)
        #: called after every commit the fake pushes: (slug "org/project/repo", branch, sha)
        self.on_push: Callable[[str, str, str], None] | None = None
        #: "http://host:port/" once served
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"FakeAzureDevOps(org={self.org.name!r}, base_url={self.base_url!r})"

    # -- serving ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        self.control.add_routes(app)
        self.rest.add_routes(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: any free port); returns and sets ``base_url``."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound}/"
        return self.base_url

    async def stop(self) -> None:
        await self.hooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def org_url(self) -> str:
        """What ADO_ORG_URL must be: ``{base_url}{org}``."""
        return f"{self.base_url}{self.org.name}"

    # -- configuration ------------------------------------------------------------------------------

    def set_webhook(self, url: str | None, *, username: str | None = None, password: str | None = None) -> None:
        self.hooks.configure(url=url, username=username, password=password)

    def add_member(self, unique_name: str, display_name: str | None = None) -> None:
        self.org.add_member(unique_name, display_name)

    def grant(self, unique_name: str, repo: str, *, allow: Any = (), deny: Any = (), project_wide: bool = False) -> str:
        """Give a member Git permissions (names of ``GIT_BITS`` or a number) on ``project/repo``, or with
        ``project_wide`` on every repository of its project; returns the security token. Azure DevOps's
        "reset votes on push" policy is not modelled: votes stay, and their time is in the vote threads."""
        project, _, name = repo.strip("/").partition("/")
        return self.org.grant(unique_name, project, None if project_wide else name, allow=bits(allow), deny=bits(deny))

    def add_token(self, token: str, unique_name: str) -> None:
        """Another PAT, owned by ``unique_name`` (who becomes a member)."""
        self.org.add_member(unique_name)
        self.rest.add_token(token, unique_name)

    def create_repo(self, repo: str, files: Mapping[str, str], *, private: bool = True, branch: str = "main") -> str:
        """Create ``project/repo`` in the store with ``files``; returns the first commit's sha."""
        return self.org.create_repo(repo, files, private=private, branch=branch)[1]

    def repository(self, repo: str) -> dict[str, Any]:
        """The repository ``project/repo`` as the API and events show it (``id`` is its GUID)."""
        return self.org.repo_by_short(repo).payload()

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
        path: str = "",
        method: str = "",
        body: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer the next ``count`` REST calls whose path contains ``path`` with ``status``."""
        self.rest.faults.append(
            Fault(
                status=status,
                remaining=count,
                retry_after=retry_after,
                path=path,
                method=method,
                body=body,
                content_type=content_type,
            )
        )

    # -- reading what happened ----------------------------------------------------------------------

    def recorded(self) -> list[dict[str, Any]]:
        """Every REST call: method, path, query, body, status and the PAT owner (never the PAT)."""
        return list(self.rest.recorded)

    def deliveries(self) -> list[Delivery]:
        return list(self.hooks.deliveries)

    def statuses(self, repo: str, sha: str) -> list[dict[str, Any]]:
        """Commit statuses of ``sha`` in ``project/repo``, oldest first."""
        found = self.org.repo_by_short(repo)
        full = self.org.resolve(found, sha, "commit")
        url = f"{found.payload()['url']}/commits/{full}/statuses"
        return [self.org.status_json(s, url) for s in self.org.commit_statuses.get((found.id, full), [])]

    def pr_statuses(self, repo: str, pr_id: int) -> list[dict[str, Any]]:
        pr = self.org.pull(pr_id, repo=self.org.repo_by_short(repo))
        url = f"{pr.repo.payload()['url']}/pullRequests/{pr.id}/statuses"
        return [self.org.status_json(s, f"{url}/{s.id}") for s in pr.statuses]

    def threads(self, repo: str, pr_id: int) -> list[dict[str, Any]]:
        pr = self.org.pull(pr_id, repo=self.org.repo_by_short(repo))
        return [self.org.thread_json(pr.repo, pr, t) for t in pr.threads.values()]

    def pull(self, repo: str, pr_id: int) -> dict[str, Any]:
        return self.org.pull(pr_id, repo=self.org.repo_by_short(repo)).resource()

    # -- acting as people ---------------------------------------------------------------------------

    async def push(
        self,
        repo: str,
        branch: str,
        files: Mapping[str, str | None],
        *,
        message: str = "Update",
        author: str = DEFAULT_AUTHOR,
    ) -> dict[str, Any]:
        """Commit ``files`` on ``branch`` of ``project/repo`` and deliver ``git.push`` (and
        ``git.pullrequest.updated`` for every active PR from that branch)."""
        found = self.org.repo_by_short(repo)
        if not files:
            raise AdoError(400, "InvalidArgumentValueException", "a push needs at least one file")
        self.org.add_member(author)
        before = self.org.head(found, branch) or ZERO_SHA
        sha = self.org.commit(found, branch, files, message, author)
        notifications = await self._pushed(found, branch, before, sha, author)
        return {"sha": sha, "before": before, "notification": notifications[0], "notifications": notifications}

    async def open_pull(
        self,
        repo: str,
        *,
        source: str,
        target: str = "main",
        title: str = "",
        author: str = DEFAULT_AUTHOR,
        files: Mapping[str, str | None] | None = None,
        description: str = "",
        fork: str | None = None,
    ) -> dict[str, Any]:
        """Open a pull request from ``source`` (of ``fork``, another ``project/repo``, if given) into
        ``target``, pushing ``files`` on the source first; delivers ``git.pullrequest.created``."""
        found = self.org.repo_by_short(repo)
        self.org.add_member(author)
        fork_repo = self._fork(found, fork) if fork else None
        notifications: list[int] = []
        if files:
            pushed = await self.push(
                (fork_repo or found).short, source, files, message=title or "Update", author=author
            )
            notifications += pushed["notifications"]
        pr = self.org.open_pull(
            found, source=source, target=target, title=title, author=author, description=description, fork=fork_repo
        )
        notifications.append(await self._pr_event(payloads.PR_CREATED, pr))
        return {"id": pr.id, "sha": pr.source_commit, "notification": notifications[-1], "notifications": notifications}

    async def push_pull(
        self,
        pr_id: int,
        files: Mapping[str, str | None],
        *,
        message: str = "Update",
        author: str | None = None,
    ) -> dict[str, Any]:
        """Push a commit on the pull request's source branch (``git.push`` + ``git.pullrequest.updated``)."""
        pr = self.org.pull(pr_id)
        return await self.push(pr.source_repo.short, pr.source, files, message=message, author=author or pr.author)

    async def comment(
        self, repo: str, pr_id: int, *, author: str, content: str, thread_id: int | None = None
    ) -> dict[str, Any]:
        """A member comments on the pull request (a new thread unless ``thread_id``)."""
        pr = self.org.pull(pr_id, repo=self.org.repo_by_short(repo))
        who = self.org.require_member(author, "commenting")
        if thread_id is None:
            thread = self.org.new_thread(pr, author=who, content=content)
            comment = thread.comments[1]
        else:
            thread = self.org.thread(pr, thread_id)
            comment = self.org.add_comment(thread, author=who, content=content)
        delivery = await self.hooks.deliver(self._comment_payload(pr, thread, comment))
        return {"thread_id": thread.id, "comment_id": comment.id, "notification": delivery.notification_id}

    async def vote(self, repo: str, pr_id: int, *, reviewer: str, vote: int) -> dict[str, Any]:
        """A member votes (10 approve, 5 approve with suggestions, 0 reset, -5 wait, -10 reject)."""
        pr = self.org.pull(pr_id, repo=self.org.repo_by_short(repo))
        self.org.vote(pr, reviewer, vote)
        return {"notification": await self._pr_event(payloads.PR_UPDATED, pr)}

    async def complete(self, repo: str, pr_id: int, *, by: str | None = None) -> dict[str, Any]:
        """``by`` (default: the author) completes it with a merge commit; delivers ``git.pullrequest.merged``,
        ``git.pullrequest.updated`` (status completed, ``closedBy``) and ``git.push`` on the target branch."""
        pr = self.org.pull(pr_id, repo=self.org.repo_by_short(repo))
        self._require_active(pr)
        closer = self.org.require_member(by, "completing a pull request") if by else pr.author
        before = self.org.resolve(pr.repo, pr.target)
        pr.target_commit = before
        merge = self.org.merge(pr, closer)
        pr.status, pr.closed, pr.merge_commit, pr.closed_by = "completed", payloads.now(), merge, closer
        notifications = [
            await self._pr_event(payloads.PR_MERGED, pr),
            await self._pr_event(payloads.PR_UPDATED, pr),
        ]
        notifications += await self._pushed(pr.repo, pr.target, before, merge, closer)
        return {"merge_commit": merge, "notification": notifications[0], "notifications": notifications}

    async def abandon(self, repo: str, pr_id: int) -> dict[str, Any]:
        pr = self.org.pull(pr_id, repo=self.org.repo_by_short(repo))
        self._require_active(pr)
        pr.status, pr.closed = "abandoned", payloads.now()
        return {"notification": await self._pr_event(payloads.PR_UPDATED, pr)}

    async def redeliver(self, notification_id: int) -> Delivery:
        """Send a recorded delivery again: same body, same notificationId."""
        return await self.hooks.redeliver(notification_id)

    # -- events -------------------------------------------------------------------------------------

    def comment_posted(self, pr: PullRequest, thread: Thread, comment: Comment) -> None:
        """A comment made through the REST API fires the comment event too (delivered in the background)."""
        self.hooks.deliver_later(self._comment_payload(pr, thread, comment))

    async def _pushed(self, repo: Repo, branch: str, before: str, after: str, pusher: str) -> list[int]:
        self.org.push_count += 1
        shas = [after]
        if before != ZERO_SHA:
            out = self.org.git(repo.handle.path, "rev-list", f"--max-count={_PUSH_COMMITS_LIMIT}", after, f"^{before}")
            shas = out.split() or [after]
        commits = []
        for sha in shas:
            info = self.org.commit_info(repo, sha)
            who, date = self.org.pushed.get(sha, (pusher, info.date))
            commits.append(payloads.commit(sha=sha, message=info.message, author=who, date=date, repo=repo.payload()))
        subscription, notification = self.hooks.next_ids(payloads.PUSH)
        payload = payloads.git_push(
            repo=repo.payload(),
            branch=branch,
            before=before,
            after=after,
            pusher=pusher,
            commits=commits,
            subscription_id=subscription,
            notification_id=notification,
            push_id=self.org.push_count,
        )
        payload["resource"]["pushedBy"] = self.org.identity(pusher)
        await self.hooks.deliver(payload)
        notifications = [notification]
        self._notify_push(repo, branch, after)
        for pr in self.org.pulls.values():
            if pr.status == "active" and pr.repo.id == repo.id and pr.target == branch:
                pr.target_commit = after
        for pr in self.org.pulls_tracking(repo, branch):
            pr.source_commit = after
            if pr.fork is not None:
                self.org.fetch_fork(pr)
            self.org.add_iteration(pr, pusher)
            notifications.append(await self._pr_event(payloads.PR_UPDATED, pr))
        return notifications

    def _notify_push(self, repo: Repo, branch: str, sha: str) -> None:
        if self.on_push is None:
            return
        try:
            self.on_push(repo.slug, branch, sha)
        except Exception:  # a broken listener must not break the push it listens to
            log.exception("on_push callback failed for %s@%s", repo.slug, branch)

    async def _pr_event(self, event_type: str, pr: PullRequest) -> int:
        subscription, notification = self.hooks.next_ids(event_type)
        payload = payloads.pull_request(
            event_type=event_type,
            repo=pr.repo.payload(),
            pr_id=pr.id,
            source_branch=pr.source,
            target_branch=pr.target,
            source_commit=pr.source_commit,
            target_commit=pr.target_commit,
            author=pr.author,
            subscription_id=subscription,
            notification_id=notification,
            status=pr.status,
            title=pr.title,
            reviewers=tuple(pr.votes.items()),
            merge_commit=pr.merge_commit,
            fork_repo=pr.fork.payload() if pr.fork else None,
        )
        payload["resource"] = pr.resource()
        await self.hooks.deliver(payload)
        return notification

    def _comment_payload(self, pr: PullRequest, thread: Thread, comment: Comment) -> dict[str, Any]:
        subscription, notification = self.hooks.next_ids(payloads.PR_COMMENT)
        payload = payloads.pr_comment(
            repo=pr.repo.payload(),
            pr_id=pr.id,
            thread_id=thread.id,
            comment_id=comment.id,
            author=comment.author,
            content=comment.content,
            subscription_id=subscription,
            notification_id=notification,
            source_branch=pr.source,
            target_branch=pr.target,
            source_commit=pr.source_commit,
            pr_author=pr.author,
        )
        payload["resource"] = {
            "comment": self.org.comment_json(pr.repo, pr, thread, comment),
            "pullRequest": pr.resource(),
        }
        return payload

    def _fork(self, upstream: Repo, fork: str) -> Repo:
        """The fork ``project/repo``, created from the upstream default branch (its history) when missing."""
        try:
            return self.org.repo_by_short(fork)
        except AdoError as exc:
            if exc.status != 404:
                raise
        head = self.org.resolve(upstream, self.org.default_branch(upstream))
        files = {
            path: data.decode(errors="replace")
            for path, data in self.org.store.read_tree(upstream.handle, head).items()
        }
        branch = self.org.default_branch(upstream)
        created = self.org.create_repo(fork, files, private=True, branch=branch)[0]
        # a fork shares upstream's history (a new root commit would only match upstream's when both were made
        # in the same second, so its pull requests could not merge)
        self.org.git(
            created.handle.path,
            "fetch",
            "--quiet",
            "--no-tags",
            str(upstream.handle.path),
            f"+{head}:refs/heads/{branch}",
        )
        return created

    @staticmethod
    def _require_active(pr: PullRequest) -> None:
        if pr.status != "active":
            raise AdoError(
                409,
                "GitPullRequestNotActiveException",
                f"TF401181: The pull request {pr.id} is {pr.status}, not active.",
            )
