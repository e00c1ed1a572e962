"""The organization the fake serves: repositories (real bare repos in a ``RepoStore``), members, pull
requests with their threads, votes and statuses, and commit statuses. In memory; no HTTP here.

Every method runs on the fake's event loop; git work is quick local subprocesses.

:class:`Organization` adds pull requests, threads and statuses to the layers below it:
:mod:`~sandbox.azure_devops.repositories` (repositories and git) and :mod:`~sandbox.azure_devops.directory`
(members and Git permissions). The records themselves are in :mod:`~sandbox.azure_devops.records`.
"""

from __future__ import annotations

from typing import Any

from sandbox.azure_devops import payloads
from sandbox.azure_devops.records import (
    STATUS_STATES,
    VOTES,
    AdoError,
    Comment,
    CommitInfo,
    Iteration,
    PullRequest,
    Repo,
    Status,
    Thread,
)
from sandbox.azure_devops.repositories import OrgRepositories


class Organization(OrgRepositories):
    """One Azure DevOps organization over a ``RepoStore`` (repositories live under host dev.azure.com)."""

    # -- pull requests ------------------------------------------------------------------------------

    def open_pull(
        self,
        repo: Repo,
        *,
        source: str,
        target: str,
        title: str,
        author: str,
        description: str = "",
        fork: Repo | None = None,
    ) -> PullRequest:
        source_repo = fork or repo
        source_commit = self.resolve(source_repo, source)
        target_commit = self.resolve(repo, target)
        for pr in self.pulls.values():
            same = pr.repo.id == repo.id and pr.source_repo.id == source_repo.id
            if same and pr.status == "active" and (pr.source, pr.target) == (source, target):
                raise AdoError(
                    409,
                    "GitPullRequestExistsException",
                    f"TF401179: An active pull request for the source and target branch already exists ({pr.id}).",
                )
        pr = PullRequest(
            id=self._next_pr,
            repo=repo,
            source=source,
            target=target,
            title=title or f"Merge {source} into {target}",
            description=description,
            author=author,
            created=payloads.now(),
            source_commit=source_commit,
            target_commit=target_commit,
            fork=fork,
        )
        self._next_pr += 1
        self.pulls[pr.id] = pr
        self.add_iteration(pr, author, "create")
        if fork is not None:
            self.fetch_fork(pr)
        return pr

    def pull(self, pr_id: int, repo: Repo | None = None, project: str | None = None) -> PullRequest:
        pr = self.pulls.get(pr_id)
        wrong_repo = repo is not None and pr is not None and pr.repo.id != repo.id
        wrong_project = (
            project is not None
            and pr is not None
            and project.lower()
            not in (
                pr.repo.project.lower(),
                pr.repo.project_id,
            )
        )
        if pr is None or wrong_repo or wrong_project:
            raise AdoError(
                404,
                "GitPullRequestNotFoundException",
                f"TF401180: The requested pull request was not found. Pull request {pr_id}",
            )
        return pr

    def pulls_tracking(self, repo: Repo, branch: str) -> list[PullRequest]:
        """Active pull requests whose source is ``branch`` of ``repo``."""
        return [
            pr
            for pr in self.pulls.values()
            if pr.status == "active" and pr.source_repo.id == repo.id and pr.source == branch
        ]

    def vote(self, pr: PullRequest, reviewer: str, vote: int) -> None:
        """A reviewer votes; as on Azure DevOps, a system thread records it (``VoteUpdate``, with who and when):
        the only place the API keeps when a vote was cast. Votes survive pushes (no reset-votes policy)."""
        if vote not in VOTES:
            raise AdoError(400, "InvalidArgumentValueException", f"vote must be one of {VOTES}, not {vote}")
        who = self.require_member(reviewer, "voting")
        pr.votes[who] = vote
        thread = self.new_thread(
            pr, author=who, content=f"{self.members.get(who, who)} voted {vote}", comment_type="system"
        )
        # as Azure DevOps writes them: the properties name the voter by a key into the thread's identities
        thread.properties = {
            "CodeReviewThreadType": {"$type": "System.String", "$value": "VoteUpdate"},
            "CodeReviewVoteResult": {"$type": "System.String", "$value": str(vote)},
            "CodeReviewVotedByInitiatorIdentity": {"$type": "System.String", "$value": "1"},
            "CodeReviewVotedByIdentity": {"$type": "System.String", "$value": "1"},
        }
        thread.identities = {"1": self.identity(who)}

    def add_iteration(self, pr: PullRequest, pushed_by: str, reason: str = "push") -> Iteration:
        iteration = Iteration(
            id=len(pr.iterations) + 1,
            created=payloads.now(),
            source_commit=pr.source_commit,
            target_commit=pr.target_commit,
            pushed_by=pushed_by,
            reason=reason,
        )
        pr.iterations.append(iteration)
        return iteration

    def iteration_json(self, pr: PullRequest, iteration: Iteration) -> dict[str, Any]:
        url = f"{pr.repo.payload()['url']}/commits"
        return {
            "id": iteration.id,
            "description": pr.title,
            "author": self.identity(pr.author),
            "createdDate": iteration.created,
            "updatedDate": iteration.created,
            "sourceRefCommit": {"commitId": iteration.source_commit, "url": f"{url}/{iteration.source_commit}"},
            "targetRefCommit": {"commitId": iteration.target_commit, "url": f"{url}/{iteration.target_commit}"},
            "commonRefCommit": {"commitId": iteration.target_commit, "url": f"{url}/{iteration.target_commit}"},
            "hasMoreCommits": False,
            "reason": iteration.reason,
            "push": {"pushId": iteration.id, "date": iteration.created, "pushedBy": self.identity(iteration.pushed_by)},
        }

    def pull_commits(self, pr: PullRequest) -> list[CommitInfo]:
        """The pull request's own commits, newest first (what ``.../pullRequests/{id}/commits`` lists)."""
        repo = pr.repo
        base = pr.target_commit
        if pr.merge_commit:
            base = self.commit_info(repo, pr.merge_commit).parents[0]
        out = self.git(repo.handle.path, "rev-list", "--max-count=100", pr.source_commit, f"^{base}")
        return [self.commit_info(repo, sha) for sha in out.split()]

    # -- threads and comments ---------------------------------------------------------------------

    def new_thread(self, pr: PullRequest, *, author: str, content: str, comment_type: str = "text") -> Thread:
        now = payloads.now()
        thread = Thread(id=self._next_thread, published=now, updated=now)
        self._next_thread += 1
        pr.threads[thread.id] = thread
        self.add_comment(thread, author=author, content=content, parent=0, comment_type=comment_type)
        return thread

    def add_comment(
        self, thread: Thread, *, author: str, content: str, parent: int = 1, comment_type: str = "text"
    ) -> Comment:
        if not content.strip():
            raise AdoError(400, "InvalidArgumentValueException", "The comment content cannot be empty.")
        now = payloads.now()
        comment_id = max(thread.comments, default=0) + 1
        if comment_id == 1:
            parent = 0
        elif parent not in thread.comments:
            parent = 1
        comment = Comment(
            id=comment_id,
            parent=parent,
            author=author,
            content=content,
            published=now,
            updated=now,
            comment_type=comment_type,
        )
        thread.comments[comment_id] = comment
        thread.updated = now
        return comment

    @staticmethod
    def thread(pr: PullRequest, thread_id: int) -> Thread:
        thread = pr.threads.get(thread_id)
        if thread is None:
            raise AdoError(
                404, "CodeReviewThreadNotFoundException", f"The requested thread {thread_id} could not be found."
            )
        return thread

    @staticmethod
    def comment(thread: Thread, comment_id: int) -> Comment:
        comment = thread.comments.get(comment_id)
        if comment is None:
            raise AdoError(
                404, "CodeReviewCommentNotFoundException", f"The requested comment {comment_id} could not be found."
            )
        return comment

    def comment_json(self, repo: Repo, pr: PullRequest, thread: Thread, comment: Comment) -> dict[str, Any]:
        body = payloads.comment_resource(
            repo=repo.payload(),
            pr_id=pr.id,
            thread_id=thread.id,
            comment_id=comment.id,
            author=comment.author,
            content=comment.content,
            parent_comment_id=comment.parent,
            published=comment.published,
            updated=comment.updated,
            users_liked=tuple(comment.likes),
        )
        body["commentType"] = comment.comment_type
        body["author"] = self.identity(comment.author)
        body["usersLiked"] = [self.identity(u) for u in comment.likes]
        if comment.deleted:
            body["isDeleted"] = True
        return body

    def thread_json(self, repo: Repo, pr: PullRequest, thread: Thread) -> dict[str, Any]:
        url = f"{repo.payload()['url']}/pullRequests/{pr.id}/threads/{thread.id}"
        return {
            "id": thread.id,
            "publishedDate": thread.published,
            "lastUpdatedDate": thread.updated,
            "comments": [self.comment_json(repo, pr, thread, c) for c in thread.comments.values()],
            "status": thread.status,
            "threadContext": None,
            "properties": thread.properties,
            "identities": thread.identities or None,
            "isDeleted": False,
            "_links": {
                "self": {"href": url},
                "repository": {"href": repo.payload()["url"]},
            },
        }

    # -- statuses -----------------------------------------------------------------------------------

    def new_status(self, body: Any, creator: str, statuses: list[Status]) -> Status:
        if not isinstance(body, dict):
            raise AdoError(400, "InvalidArgumentValueException", "The status body must be a JSON object.")
        state = str(body.get("state") or "")
        match = next((s for s in STATUS_STATES if s.lower() == state.lower()), None)
        context = body.get("context")
        if match is None:
            raise AdoError(400, "InvalidArgumentValueException", f"Invalid status state {state!r}.")
        if not isinstance(context, dict) or not str(context.get("name") or "").strip():
            raise AdoError(400, "InvalidArgumentValueException", "The status context name must be specified.")
        status = Status(
            id=len(statuses) + 1,
            state=match,
            description=str(body.get("description") or ""),
            genre=str(context.get("genre") or ""),
            name=str(context["name"]),
            target_url=str(body.get("targetUrl") or ""),
            created=payloads.now(),
            creator=creator,
            iteration_id=body.get("iterationId") if isinstance(body.get("iterationId"), int) else None,
        )
        statuses.append(status)
        return status

    def status_json(self, status: Status, url: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": status.id,
            "state": status.state,
            "description": status.description,
            "context": {"name": status.name, "genre": status.genre},
            "creationDate": status.created,
            "updatedDate": status.created,
            "createdBy": self.identity(status.creator),
            "url": url,
        }
        if status.target_url:
            body["targetUrl"] = status.target_url
        if status.iteration_id is not None:
            body["iterationId"] = status.iteration_id
        return body
