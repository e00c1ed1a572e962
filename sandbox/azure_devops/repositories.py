"""The organization's repositories (real bare repos in a ``RepoStore``, host dev.azure.com) and the git
work on them: resolving versions, commits, diffs, trees, merges.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from sandbox.azure_devops import payloads
from sandbox.azure_devops.directory import OrgDirectory, git_token
from sandbox.azure_devops.records import HOST, AdoError, CommitInfo, PullRequest, Repo


class OrgRepositories(OrgDirectory):
    """Finds and creates the organization's repositories, and does its git work."""

    # -- repositories -------------------------------------------------------------------------------

    def grant(self, unique_name: str, project: str, repo: str | None = None, *, allow: int = 0, deny: int = 0) -> str:
        """Set ``unique_name``'s explicit ACE on the project's repositories, or on one repository (by name);
        returns the token. Nobody has anything until granted: the sandbox seeds who may contribute."""
        found = self.repo(project, repo) if repo else next((r for r in self.all_repos(project)), None)
        if found is None:
            raise AdoError(404, "ProjectDoesNotExistWithNameException", f"TF200016: no project {project!r}")
        token = git_token(found.project_id, found.id if repo else None)
        self.acl.setdefault(token, {})[unique_name.casefold()] = (allow, deny)
        return token

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
