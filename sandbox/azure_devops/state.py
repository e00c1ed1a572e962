"""The organization the fake serves: repositories (real bare repos in a ``RepoStore``), members, pull
requests with their threads, votes and statuses, and commit statuses. In memory; no HTTP here.

Every method runs on the fake's event loop; git work is quick local subprocesses.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sandbox.azure_devops import payloads
from sandbox.gitrepos import RepoHandle, RepoStore

HOST = "dev.azure.com"
ZERO_SHA = "0" * 40
VOTES = (10, 5, 0, -5, -10)
THREAD_STATUSES = {0: "unknown", 1: "active", 2: "fixed", 3: "wontFix", 4: "closed", 5: "byDesign", 6: "pending"}
COMMENT_TYPES = {0: "unknown", 1: "text", 2: "codeChange", 3: "system"}
STATUS_STATES = ("notSet", "pending", "succeeded", "failed", "error", "notApplicable")
_GIT_AUTHOR = ("fluxops sandbox", "sandbox@fluxops.invalid")
#: the Git Repositories security namespace and its permission bits (Azure DevOps' own numbers)
GIT_NAMESPACE = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
GIT_BITS = {
    "Administer": 1,
    "GenericRead": 2,
    "GenericContribute": 4,
    "ForcePush": 8,
    "CreateBranch": 16,
    "CreateTag": 32,
    "ManageNote": 64,
    "PolicyExempt": 128,
    "PullRequestContribute": 16384,
}
#: how an identity is named in ACLs (``descriptor`` of the identities API)
DESCRIPTOR_PREFIX = "Microsoft.IdentityModel.Claims.ClaimsIdentity;"


def git_token(project_id: str, repo_id: str | None = None) -> str:
    """The security token of a project's repositories (``repoV2/{projectId}``) or of one of them."""
    return f"repoV2/{project_id}" + (f"/{repo_id}" if repo_id else "")


def bits(names: Any) -> int:
    """Permission names (or a number) to the namespace's bits."""
    if isinstance(names, int):
        return names
    total = 0
    for name in names or ():
        if name not in GIT_BITS:
            raise AdoError(400, "InvalidArgumentValueException", f"unknown Git permission {name!r}")
        total |= GIT_BITS[name]
    return total


class AdoError(Exception):
    """An error Azure DevOps would answer with: status, ``typeKey`` and message (ADO's wrapped exception)."""

    def __init__(self, status: int, type_key: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type_key = type_key
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "$id": "1",
            "innerException": None,
            "message": self.message,
            "typeName": f"Microsoft.TeamFoundation.SourceControl.WebServer.{self.type_key}, "
            "Microsoft.TeamFoundation.SourceControl.WebServer",
            "typeKey": self.type_key,
            "errorCode": 0,
            "eventId": 3000,
        }


@dataclass
class Repo:
    org: str
    project: str
    name: str
    slug: str  # "org/project/name" as the store knows it
    handle: RepoHandle
    id: str
    project_id: str

    @property
    def short(self) -> str:
        """``project/name``, how the control routes name it."""
        return f"{self.project}/{self.name}"

    def payload(self) -> dict[str, Any]:
        return payloads.repository(
            org=self.org, project=self.project, name=self.name, repo_id=self.id, project_id=self.project_id
        )


@dataclass
class Comment:
    id: int
    parent: int
    author: str
    content: str
    published: str
    updated: str
    comment_type: str = "text"
    likes: list[str] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Thread:
    id: int
    published: str
    updated: str
    status: str = "active"
    comments: dict[int, Comment] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    #: the identities the properties name, by the keys they use ("1", "2", ...), as system threads carry them
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Status:
    id: int
    state: str
    description: str
    genre: str
    name: str
    target_url: str
    created: str
    creator: str
    iteration_id: int | None = None


@dataclass
class Iteration:
    """One push to a pull request's source (the first: its creation), as ``.../iterations`` lists them."""

    id: int
    created: str
    source_commit: str
    target_commit: str
    pushed_by: str
    reason: str = "push"


@dataclass
class PullRequest:
    id: int
    repo: Repo
    source: str
    target: str
    title: str
    description: str
    author: str
    created: str
    source_commit: str
    target_commit: str
    fork: Repo | None = None
    status: str = "active"
    closed: str = ""
    merge_commit: str | None = None
    closed_by: str = ""
    votes: dict[str, int] = field(default_factory=dict)
    iterations: list[Iteration] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)

    @property
    def source_repo(self) -> Repo:
        return self.fork or self.repo

    def resource(self) -> dict[str, Any]:
        return payloads.pull_request_resource(
            repo=self.repo.payload(),
            pr_id=self.id,
            source_branch=self.source,
            target_branch=self.target,
            source_commit=self.source_commit,
            target_commit=self.target_commit,
            author=self.author,
            status=self.status,
            title=self.title,
            description=self.description,
            reviewers=tuple(self.votes.items()),
            merge_commit=self.merge_commit,
            fork_repo=self.fork.payload() if self.fork else None,
            creation_date=self.created,
            closed_date=self.closed,
            closed_by=self.closed_by,
        )


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str
    message: str


class Organization:
    """One Azure DevOps organization over a ``RepoStore`` (repositories live under host dev.azure.com)."""

    def __init__(self, *, name: str, store: RepoStore, members: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.store = store
        self.id = payloads.stable_id("organization", name)
        #: unique name (sign-in address) -> display name: the people the organization knows
        self.members: dict[str, str] = dict(members or {})
        self.repos: dict[str, Repo] = {}  # by repository id
        self.pulls: dict[int, PullRequest] = {}
        self.commit_statuses: dict[tuple[str, str], list[Status]] = {}
        #: who pushed a commit and when (git itself records the sandbox's one author)
        self.pushed: dict[str, tuple[str, str]] = {}
        #: Git security namespace ACLs: token -> member unique name (folded) -> (allow, deny) bits
        self.acl: dict[str, dict[str, tuple[int, int]]] = {}
        self._next_pr = 1
        self._next_thread = 1
        self._next_status = 1
        self.push_count = 0
        self._env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")},
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": _GIT_AUTHOR[0],
            "GIT_AUTHOR_EMAIL": _GIT_AUTHOR[1],
            "GIT_COMMITTER_NAME": _GIT_AUTHOR[0],
            "GIT_COMMITTER_EMAIL": _GIT_AUTHOR[1],
        }

    # -- members ------------------------------------------------------------------------------------

    def add_member(self, unique_name: str, display_name: str | None = None) -> None:
        if not unique_name.strip():
            raise AdoError(400, "InvalidArgumentValueException", "a member needs a unique name")
        self.members.setdefault(unique_name, display_name or unique_name.split("@", 1)[0])
        if display_name:
            self.members[unique_name] = display_name

    def member(self, unique_name: str) -> str | None:
        """The member's unique name as registered (case-insensitive lookup), or None."""
        wanted = unique_name.casefold()
        return next((m for m in self.members if m.casefold() == wanted), None)

    def identity(self, unique_name: str) -> dict[str, Any]:
        return payloads.identity(unique_name=unique_name, display_name=self.members.get(unique_name), org=self.name)

    def require_member(self, unique_name: str, doing: str) -> str:
        found = self.member(unique_name)
        if found is None:
            raise AdoError(
                403,
                "UnauthorizedRequestException",
                f"TF400813: The user '{unique_name}' is not authorized to access this resource ({doing}).",
            )
        return found

    # -- Git permissions (security namespace 2e9eb7ed-...) ------------------------------------------

    def grant(self, unique_name: str, project: str, repo: str | None = None, *, allow: int = 0, deny: int = 0) -> str:
        """Set ``unique_name``'s explicit ACE on the project's repositories, or on one repository (by name);
        returns the token. Nobody has anything until granted: the sandbox seeds who may contribute."""
        found = self.repo(project, repo) if repo else next((r for r in self.all_repos(project)), None)
        if found is None:
            raise AdoError(404, "ProjectDoesNotExistWithNameException", f"TF200016: no project {project!r}")
        token = git_token(found.project_id, found.id if repo else None)
        self.acl.setdefault(token, {})[unique_name.casefold()] = (allow, deny)
        return token

    def effective(self, unique_name: str, token: str) -> tuple[int, int]:
        """(effectiveAllow, effectiveDeny) of a member on ``token``: explicit bits there, plus what its
        parent tokens give that the explicit ones do not override (ADO's inheritance)."""
        parts = token.split("/")
        allow = deny = 0
        for depth in range(2, len(parts) + 1):
            here_allow, here_deny = self.acl.get("/".join(parts[:depth]), {}).get(unique_name.casefold(), (0, 0))
            allow = here_allow | (allow & ~here_deny)
            deny = here_deny | (deny & ~here_allow)
        return allow, deny

    # -- repositories -------------------------------------------------------------------------------

    def repo(self, project: str | None, repo: str) -> Repo:
        """A repository by id or by name (name needs the project, by name or id); 404 as ADO words it."""
        found = self.repos.get(repo.lower())
        if found is None and project is not None:
            project_name = self._project_name(project)
            if project_name is not None:
                found = self._resolve(project_name, repo)
        if found is None:
            self._scan()
            found = self.repos.get(repo.lower())
        if found is None or (project is not None and project.lower() not in (found.project.lower(), found.project_id)):
            raise AdoError(
                404,
                "GitRepositoryNotFoundException",
                f"TF401019: The Git repository with name or identifier {repo} does not exist "
                "or you do not have permissions for the operation you are attempting.",
            )
        return found

    def repo_by_short(self, short: str) -> Repo:
        """``project/repo`` (the control routes' spelling)."""
        project, _, name = short.strip("/").partition("/")
        if not project or not name or "/" in name:
            raise AdoError(400, "InvalidArgumentValueException", f"repo must be 'project/repo', not {short!r}")
        return self.repo(project, name)

    def create_repo(
        self, short: str, files: Mapping[str, str], *, private: bool = True, branch: str = "main"
    ) -> tuple[Repo, str]:
        project, _, name = short.strip("/").partition("/")
        sha = self.store.create_repo(f"{self.name}/{project}/{name}", files, private=private, branch=branch, host=HOST)
        return self.repo(project, name), sha

    def _resolve(self, project: str, name: str) -> Repo | None:
        handle = self.store.resolve_url(f"https://{HOST}/{quote(self.name)}/{quote(project)}/_git/{quote(name)}")
        if handle is None:
            return None
        org, project_name, repo_name = handle.slug.split("/")
        repo_id = payloads.stable_id("repository", org, project_name, repo_name)
        known = self.repos.get(repo_id)
        if known is not None:
            return known
        repo = Repo(
            org=self.name,
            project=project_name,
            name=repo_name,
            slug=handle.slug,
            handle=handle,
            id=repo_id,
            project_id=payloads.stable_id("project", org, project_name),
        )
        self.repos[repo_id] = repo
        return repo

    def _project_name(self, project: str) -> str | None:
        for repo in self.repos.values():
            if project.lower() in (repo.project.lower(), repo.project_id):
                return repo.project
        if _is_guid(project):
            self._scan()
            return next((r.project for r in self.repos.values() if r.project_id == project.lower()), None)
        return project

    def _scan(self) -> None:
        """Register every repository of the organization in the store (found by its place on disk)."""
        root = self.store.root / HOST / self.name.lower()
        if not root.is_dir():
            return
        for path in sorted(root.glob("*/*.git")):
            self._resolve(path.parent.name, path.name.removesuffix(".git"))

    def all_repos(self, project: str | None = None) -> list[Repo]:
        self._scan()
        repos = sorted(self.repos.values(), key=lambda r: (r.project.lower(), r.name.lower()))
        if project is None:
            return repos
        return [r for r in repos if project.lower() in (r.project.lower(), r.project_id)]

    # -- git ----------------------------------------------------------------------------------------

    def head(self, repo: Repo, branch: str) -> str | None:
        return self.store.head(repo.handle, branch)

    def default_branch(self, repo: Repo) -> str:
        ref = self.git(repo.handle.path, "symbolic-ref", "--quiet", "HEAD").strip()
        return ref.removeprefix("refs/heads/") or "main"

    def commit(self, repo: Repo, branch: str, files: Mapping[str, str | None], message: str, author: str) -> str:
        sha = self.store.commit(repo.slug, files, message, branch=branch, host=HOST)
        self.pushed[sha] = (author, payloads.now())
        return sha

    def resolve(self, repo: Repo, version: str, kind: str = "branch") -> str:
        """A version descriptor (branch, tag or commit) to a commit sha, or ADO's TF401175."""
        kind = kind.lower() or "branch"
        sha: str | None
        if kind == "branch":
            sha = self.head(repo, version.removeprefix("refs/heads/"))
        elif kind == "tag":
            sha = self.store.rev_parse(repo.handle, "tag", version.removeprefix("refs/tags/"))
        elif kind == "commit":
            sha = self.store.rev_parse(repo.handle, "commit", version)
        else:
            raise AdoError(400, "InvalidArgumentValueException", f"unknown version type {kind!r}")
        if sha is None:
            raise AdoError(
                404,
                "GitUnresolvableToCommitException",
                f"TF401175: The version descriptor <{kind.capitalize()}: {version}> could not be resolved "
                "to a version commit.",
            )
        return sha

    def commit_info(self, repo: Repo, sha: str) -> CommitInfo:
        full = self.resolve(repo, sha, "commit")
        out = self.git(repo.handle.path, "show", "-s", "--format=%H%n%T%n%P%n%an%n%ae%n%aI%n%B", full)
        lines = out.split("\n")
        pusher = self.pushed.get(full)
        author, email, date = lines[3], lines[4], lines[5]
        if pusher is not None:
            author = pusher[0].split("@", 1)[0]
            email = pusher[0] if "@" in pusher[0] else f"{pusher[0]}@fluxops.invalid"
        return CommitInfo(
            sha=lines[0],
            tree=lines[1],
            parents=tuple(lines[2].split()),
            author=author,
            email=email,
            date=date,
            message="\n".join(lines[6:]).strip(),
        )

    def merge_base(self, repo: Repo, a: str, b: str) -> str | None:
        try:
            return self.git(repo.handle.path, "merge-base", a, b).strip() or None
        except AdoError:
            return None

    def count(self, repo: Repo, exclude: str, include: str) -> int:
        return int(self.git(repo.handle.path, "rev-list", "--count", include, f"^{exclude}").strip() or 0)

    def changes(self, repo: Repo, base: str, target: str) -> list[tuple[str, str]]:
        """(changeType, path) from ``base`` to ``target``."""
        out = self.git(repo.handle.path, "diff", "--name-status", "--no-renames", base, target)
        kinds = {"A": "add", "M": "edit", "D": "delete", "T": "edit"}
        result = []
        for line in out.splitlines():
            status, _, path = line.partition("\t")
            result.append((kinds.get(status[:1], "edit"), path))
        return result

    def tree(self, repo: Repo, sha: str) -> list[tuple[str, str, str]]:
        """(type, object id, path) of every blob and tree at ``sha``."""
        out = self.git(repo.handle.path, "ls-tree", "-r", "-t", "--full-tree", sha)
        entries = []
        for line in out.splitlines():
            meta, _, path = line.partition("\t")
            _mode, kind, oid = meta.split()
            entries.append((kind, oid, path))
        return entries

    def merge(self, pr: PullRequest, by: str) -> str:
        """Merge the PR's source into its target with a real merge commit; the new target head."""
        repo = pr.repo
        target = self.resolve(repo, pr.target)
        source = pr.source_commit
        if pr.fork is not None:
            self.fetch_fork(pr)
        try:
            tree = self.git(repo.handle.path, "merge-tree", "--write-tree", target, source).split("\n", 1)[0].strip()
        except AdoError as exc:
            raise AdoError(
                409, "GitPullRequestMergeConflictException", f"the pull request has merge conflicts: {exc.message}"
            ) from None
        message = f"Merged PR {pr.id}: {pr.title}"
        sha = self.git(repo.handle.path, "commit-tree", tree, "-p", target, "-p", source, "-m", message).strip()
        self.git(repo.handle.path, "update-ref", f"refs/heads/{pr.target}", sha, target)
        _touch_refs(repo.handle.path)
        self.pushed[sha] = (by, payloads.now())
        return sha

    def fetch_fork(self, pr: PullRequest) -> None:
        """Bring a fork PR's source commits into the target repository (``refs/pull/{id}/source``)."""
        assert pr.fork is not None
        self.git(
            pr.repo.handle.path,
            "fetch",
            "--quiet",
            "--no-tags",
            str(pr.fork.handle.path),
            f"+refs/heads/{pr.source}:refs/pull/{pr.id}/source",
        )

    def git(self, path: Path, *args: str) -> str:
        proc = subprocess.run(["git", "--git-dir", str(path), *args], capture_output=True, env=self._env, check=False)
        if proc.returncode != 0:
            raise AdoError(500, "GitException", f"git {args[0]}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

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


def latest_only(statuses: list[Status]) -> list[Status]:
    """The newest status of each (genre, name), newest first."""
    seen: set[tuple[str, str]] = set()
    latest = []
    for status in reversed(statuses):
        key = (status.genre.lower(), status.name.lower())
        if key not in seen:
            seen.add(key)
            latest.append(status)
    return latest


def _is_guid(text: str) -> bool:
    parts = text.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12]


def _touch_refs(path: Path) -> None:
    # The store notices a ref moved outside it by the mtime of refs/heads: make sure it changes.
    heads = path / "refs" / "heads"
    try:
        st = heads.stat()
        os.utime(heads, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000))
    except FileNotFoundError:
        pass
