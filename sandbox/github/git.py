"""What the fake GitHub asks git about a sandbox repository: commits, comparisons, diffs, merges.

Reads go straight to the bare repository of a ``RepoStore`` with the ``git`` CLI (argument lists, no
global config); the only write here is a pull request's merge commit, made with plumbing
(``merge-tree --write-tree``, ``commit-tree``, ``update-ref`` with the old value) under the store's
rule for pushes made some other way: its refs cache notices the change on disk. Everything is
synchronous; the server calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sandbox.gitrepos import RepoHandle, RepoStore

HOST = "github.com"
_SHA = re.compile(r"^[0-9a-fA-F]{4,40}$")
_ENV = {
    **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")},
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}
_SEP = "\x1f"
ZERO_SHA = "0" * 40


class GitFailure(RuntimeError):
    """git refused; the message is git's stderr."""


class MergeConflict(GitFailure):
    """The pull request's head does not merge cleanly into its base."""


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: str  # ISO 8601, UTC, "Z"
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # GitHub's words: added | removed | modified | renamed
    additions: int
    deletions: int
    previous_filename: str | None = None


@dataclass(frozen=True)
class Comparison:
    base: str
    head: str
    merge_base: str | None  # None: no common history
    ahead_by: int
    behind_by: int
    commits: tuple[str, ...]  # base..head, oldest first

    @property
    def status(self) -> str:
        if self.ahead_by and self.behind_by:
            return "diverged"
        if self.ahead_by:
            return "ahead"
        if self.behind_by:
            return "behind"
        return "identical"


class RepoGit:
    """git questions about the sandbox repositories of one ``RepoStore`` on GitHub's host."""

    def __init__(self, store: RepoStore, *, host: str = HOST) -> None:
        self.store = store
        self.host = host

    def handle(self, slug: str) -> RepoHandle | None:
        """The repository ``owner/name`` (any case), or None."""
        return self.store.resolve_url(f"https://{self.host}/{slug}.git")

    def default_branch(self, handle: RepoHandle) -> str:
        ref = self._git(handle.path, "symbolic-ref", "-q", "HEAD").strip()
        return ref.removeprefix("refs/heads/") or "main"

    def branch_head(self, handle: RepoHandle, branch: str) -> str | None:
        return self.store.head(handle, branch)

    def resolve(self, handle: RepoHandle, ref: str) -> str | None:
        """A branch, tag, ``refs/...`` name or (abbreviated) sha to a full commit sha, or None."""
        ref = ref.strip()
        if not ref:
            return None
        for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
            if ref.startswith(prefix):
                return self.store.rev_parse(handle, kind, ref[len(prefix) :])  # type: ignore[arg-type]
        sha = self.store.rev_parse(handle, "branch", ref) or self.store.rev_parse(handle, "tag", ref)
        if sha is None and _SHA.match(ref):
            sha = self.store.rev_parse(handle, "commit", ref)
        return sha

    def commit(self, handle: RepoHandle, sha: str) -> CommitInfo:
        fmt = _SEP.join(["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"])
        out = self._git(handle.path, "show", "-s", f"--format={fmt}", sha, "--")
        f = out.split(_SEP)
        return CommitInfo(
            sha=f[0],
            tree=f[1],
            parents=tuple(f[2].split()),
            author_name=f[3],
            author_email=f[4],
            author_date=_utc(f[5]),
            committer_name=f[6],
            committer_email=f[7],
            committer_date=_utc(f[8]),
            message=f[9].rstrip("\n"),
        )

    def compare(self, handle: RepoHandle, base: str, head: str) -> Comparison:
        merge_base = self.merge_base(handle, base, head)
        if merge_base is None:
            return Comparison(base, head, None, 0, 0, ())
        counts = self._git(handle.path, "rev-list", "--left-right", "--count", f"{base}...{head}").split()
        commits = self._git(handle.path, "rev-list", "--reverse", "--topo-order", f"{base}..{head}").split()
        return Comparison(base, head, merge_base, int(counts[1]), int(counts[0]), tuple(commits))

    def merge_base(self, handle: RepoHandle, a: str, b: str) -> str | None:
        try:
            return self._git(handle.path, "merge-base", a, b).strip() or None
        except GitFailure:
            return None

    def changes(self, handle: RepoHandle, base: str, head: str) -> list[FileChange]:
        """Files changed from ``base`` to ``head`` (a commit diff, renames detected)."""
        numstat: dict[str, tuple[int, int]] = {}
        for line in self._git(handle.path, "diff", "--numstat", "--no-renames", base, head, "--").splitlines():
            plus, minus, path = line.split("\t", 2)
            numstat[path] = (int(plus) if plus.isdigit() else 0, int(minus) if minus.isdigit() else 0)
        words = {"A": "added", "D": "removed", "M": "modified", "T": "modified", "R": "renamed", "C": "added"}
        result: list[FileChange] = []
        out = self._git(handle.path, "diff", "--name-status", "-M", base, head, "--")
        for line in out.splitlines():
            parts = line.split("\t")
            code = parts[0][:1]
            if code == "R" and len(parts) == 3:
                old, new = parts[1], parts[2]
                add = numstat.get(new, (0, 0))[0]
                delete = numstat.get(old, (0, 0))[1]
                result.append(FileChange(new, "renamed", add, delete, previous_filename=old))
            else:
                name = parts[-1]
                add, delete = numstat.get(name, (0, 0))
                result.append(FileChange(name, words.get(code, "modified"), add, delete))
        return result

    def patch(self, handle: RepoHandle, base: str, head: str, filename: str) -> str:
        out = self._git(handle.path, "diff", "--no-color", "-U3", base, head, "--", filename)
        # GitHub's "patch" field is the hunks only, without the diff header lines.
        lines = out.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
        return "\n".join(lines[start:])

    def blob_sha(self, handle: RepoHandle, sha: str, path: str) -> str | None:
        try:
            return self._git(handle.path, "rev-parse", "--verify", "--quiet", f"{sha}:{path}").strip() or None
        except GitFailure:
            return None

    def merge(self, handle: RepoHandle, base_branch: str, head_sha: str, message: str, author: str) -> str:
        """A merge commit of ``head_sha`` into ``base_branch`` (always two parents, as GitHub's merge button).

        Raises MergeConflict when the trees do not merge cleanly.
        """
        base_sha = self.store.head(handle, base_branch)
        if base_sha is None:
            raise GitFailure(f"no branch {base_branch}")
        proc = self._run(handle.path, "merge-tree", "--write-tree", "--no-messages", base_sha, head_sha)
        if proc.returncode == 1:
            raise MergeConflict(f"merge conflict between {base_branch} and {head_sha[:7]}")
        if proc.returncode != 0:
            raise GitFailure(proc.stderr.decode(errors="replace").strip())
        tree = proc.stdout.decode().split()[0]
        email = f"{author}@users.noreply.github.com"
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": "GitHub",
            "GIT_COMMITTER_EMAIL": "noreply@github.com",
        }
        sha = self._git(
            handle.path, "commit-tree", tree, "-p", base_sha, "-p", head_sha, "-m", message, env=env
        ).strip()
        self._update_ref(handle, base_branch, sha, base_sha)
        return sha

    def create_branch(self, handle: RepoHandle, branch: str, sha: str) -> None:
        """Create ``branch`` at ``sha`` (GitHub's "create a reference"); GitFailure when it exists."""
        self._update_ref(handle, branch, sha, ZERO_SHA)

    def _update_ref(self, handle: RepoHandle, branch: str, new: str, old: str) -> None:
        self._git(handle.path, "update-ref", f"refs/heads/{branch}", new, old)
        # The store re-reads refs when refs/heads (or packed-refs) changes on disk; a ref in a new
        # nested directory (pull/2/head) would not touch refs/heads itself, and a coarse clock may
        # leave its mtime unchanged: move the mtime forward ourselves.
        heads = handle.path / "refs" / "heads"
        stamp = max(time.time_ns(), heads.stat().st_mtime_ns + 1_000)
        os.utime(heads, ns=(stamp, stamp))
        if self.store.head(handle, branch) != new:
            raise GitFailure(f"the repository store did not see {branch} move to {new[:7]}")

    def _git(self, path: Path, *args: str, env: dict[str, str] | None = None) -> str:
        proc = self._run(path, *args, env=env)
        if proc.returncode != 0:
            raise GitFailure(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

    @staticmethod
    def _run(path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "--git-dir", str(path), *args],
            capture_output=True,
            env={**_ENV, **(env or {})},
            check=False,
        )


def _utc(iso: str) -> str:
    """git's ``2024-05-01T12:00:00+00:00`` as GitHub writes it (``...Z``, UTC)."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return iso
