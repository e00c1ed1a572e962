"""Real bare git repositories on disk, standing in for GitHub and Azure DevOps repositories.

Everything goes through the ``git`` CLI with argument lists and a hermetic environment (no global
or system config). Commits are immutable, so file trees are cached by (repository, sha); refs are
cached per repository and invalidated by every write made through this store (and by a change of
the refs' files on disk, for a push made some other way).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import subprocess
import tarfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NamedTuple

from bot.repo_urls import Transport, canonical_repo, parse_repo_url, redact_url, repo_key

__all__ = ["Transport", "canonical_repo", "parse_repo_url", "redact_url", "repo_key"]

RefKind = Literal["branch", "tag", "semver", "commit"]

_AUTHOR = ("fluxops sandbox", "sandbox@fluxops.invalid")
_SEGMENT = re.compile(r"^[\w.-](?:[\w .-]*[\w.-])?$")  # spaces inside: Azure DevOps project names
_SHA = re.compile(r"^[0-9a-fA-F]{4,40}$")
_TREE_CACHE_SIZE = 256


class GitError(RuntimeError):
    """A git command failed; the message carries git's own stderr."""


# ---------------------------------------------------------------------------------------------
# Semantic versions and ranges (the subset Flux's semver ref understands in practice)
# ---------------------------------------------------------------------------------------------

_VERSION = re.compile(
    r"^[vV]?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL = re.compile(
    r"^[vV]?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_TERM = re.compile(r"^(?P<op>>=|<=|!=|=>|=<|~>|>|<|=|~|\^)?\s*(?P<ver>\S+)$")

_PreKey = tuple[tuple[int, int | str], ...]
_VersionKey = tuple[int, int, int, int, _PreKey]
_Comparator = tuple[str, _VersionKey]


class SemverError(ValueError):
    """A semver constraint could not be parsed (message as Flux reports it)."""


def version_key(tag: str) -> _VersionKey | None:
    """A sortable key for a version tag ("v1.2.3", "1.2", "1.0.0-rc.1"), or None if not a version.

    Releases sort above their pre-releases; pre-release identifiers compare as semver says.
    """
    m = _VERSION.match(tag.strip())
    if m is None:
        return None
    return _key(int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), m["pre"])


def _key(major: int, minor: int, patch: int, pre: str | None) -> _VersionKey:
    if not pre:
        return (major, minor, patch, 1, ())
    ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (major, minor, patch, 0, ids)


def parse_constraint(text: str) -> list[list[_Comparator]]:
    """Parse a range such as ">=1.0.0 <2.0.0", "1.x", "^1.2", "~1.2.3", "1.2 - 1.4" or "a || b".

    Returns alternatives (OR) of comparator lists (AND). Raises SemverError when malformed.
    """
    alternatives: list[list[_Comparator]] = []
    for alt in text.split("||"):
        alt = re.sub(r"\s+-\s+", " - ", alt.replace(",", " ")).strip()
        # Glue an operator to its version: ">= 1.2" is ">=1.2".
        alt = re.sub(r"(>=|<=|!=|=>|=<|~>|[<>=~^])\s+", r"\1", alt)
        if not alt:
            raise SemverError(f"improper constraint: {text}")
        words = alt.split()
        comparators: list[_Comparator] = []
        i = 0
        while i < len(words):
            if i + 2 < len(words) and words[i + 1] == "-":
                comparators += _hyphen(words[i], words[i + 2], text)
                i += 3
            else:
                comparators += _term(words[i], text)
                i += 1
        alternatives.append(comparators)
    return alternatives


def satisfies(tag: str, constraint: list[list[_Comparator]]) -> bool:
    """True when the version ``tag`` lies in ``constraint`` (from :func:`parse_constraint`).

    Pre-releases only match a constraint that itself names a pre-release, as in Flux.
    """
    key = version_key(tag)
    if key is None:
        return False
    for comparators in constraint:
        if key[3] == 0 and not any(c[1][3] == 0 and c[1][:3] == key[:3] for c in comparators):
            continue
        if all(_compare(key, op, bound) for op, bound in comparators):
            return True
    return False


def _compare(key: _VersionKey, op: str, bound: _VersionKey) -> bool:
    return {
        ">=": key >= bound,
        ">": key > bound,
        "<=": key <= bound,
        "<": key < bound,
        "==": key == bound,
        "!=": key != bound,
    }[op]


def _partial(text: str, original: str) -> tuple[list[int], str | None]:
    """The numeric parts given (wildcards end the list) and the pre-release of a partial version."""
    m = _PARTIAL.match(text)
    if m is None:
        raise SemverError(f"improper constraint: {original}")
    nums: list[int] = []
    for part in (m["major"], m["minor"], m["patch"]):
        if part is None or part in "xX*":
            break
        nums.append(int(part))
    return nums, m["pre"]


def _floor(nums: list[int], pre: str | None) -> _VersionKey:
    padded = [*nums, 0, 0, 0][:3]
    return _key(padded[0], padded[1], padded[2], pre if len(nums) == 3 else None)


def _next(nums: list[int]) -> _VersionKey:
    """The first version above everything ``nums`` covers: [1] -> 2.0.0, [1, 2] -> 1.3.0."""
    bumped = [*nums[:-1], nums[-1] + 1]
    return _floor(bumped, None)


def _term(word: str, original: str) -> list[_Comparator]:
    m = _TERM.match(word)
    if m is None:
        raise SemverError(f"improper constraint: {original}")
    op = {"=>": ">=", "=<": "<=", "~>": "~", "": "="}.get(m["op"] or "", m["op"] or "=")
    nums, pre = _partial(m["ver"], original)
    if not nums:  # "*", "x": anything; "<*" is nothing
        return [("<", _key(0, 0, 0, None))] if op in ("<", ">") else []
    low = _floor(nums, pre)
    full = len(nums) == 3
    if op == "=":
        return [("==", low)] if full else [(">=", low), ("<", _next(nums))]
    if op == "!=":
        # "!=1.2" would need an OR inside an AND; excluding 1.2.0 alone is close enough here.
        return [("!=", low)]
    if op == ">=":
        return [(">=", low)]
    if op == ">":
        return [(">", low)] if full else [(">=", _next(nums))]
    if op == "<":
        return [("<", low)]
    if op == "<=":
        return [("<=", low)] if full else [("<", _next(nums))]
    if op == "~":
        return [(">=", low), ("<", _next(nums[:2] if len(nums) > 1 else nums))]
    # Caret: keep the left-most non-zero part fixed.
    if nums[0] > 0 or len(nums) == 1:
        return [(">=", low), ("<", _next(nums[:1]))]
    if len(nums) == 2 or nums[1] > 0:
        return [(">=", low), ("<", _next(nums[:2]))]
    return [(">=", low), ("<", _next(nums[:3]))]


def _hyphen(lo: str, hi: str, original: str) -> list[_Comparator]:
    lo_nums, lo_pre = _partial(lo, original)
    hi_nums, hi_pre = _partial(hi, original)
    result: list[_Comparator] = [(">=", _floor(lo_nums, lo_pre))] if lo_nums else []
    if hi_nums:
        result.append(("<=", _floor(hi_nums, hi_pre)) if len(hi_nums) == 3 else ("<", _next(hi_nums)))
    return result


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoHandle:
    """A repository as one URL reaches it."""

    slug: str  # as created, e.g. "Azure/gitops-flux2-kustomize-helm-mt"
    host: str  # canonical host, e.g. "github.com", "dev.azure.com"
    private: bool
    path: Path  # the bare repository on disk
    transport: Transport
    url: str  # the URL it was resolved from, credentials removed


@dataclass(frozen=True)
class ResolvedRef:
    """What a GitRepository ref resolved to: the branch or tag name (None for a commit) and sha."""

    name: str | None
    sha: str


@dataclass
class _Repo:
    slug: str
    host: str
    private: bool
    path: Path
    default_branch: str
    writes: int = 0  # bumped by every write through the store: part of the refs cache key


class Listed(NamedTuple):
    """A repository of the store as a person would name it: host, slug, default branch, private or not."""

    host: str
    slug: str
    default_branch: str
    private: bool


class RepoStore:
    """Bare git repositories under ``root``, one per (host, slug).

    Methods are synchronous and thread-safe; the simulated Flux agent calls them through
    ``asyncio.to_thread``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._repos: dict[tuple[str, str], _Repo] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()  # writes are rare; one at a time keeps refs linear
        self._refs: dict[Path, tuple[object, dict[str, str]]] = {}
        self._trees: OrderedDict[tuple[Path, str], Mapping[str, bytes]] = OrderedDict()
        self._known_commits: set[tuple[Path, str]] = set()
        self._fill_locks: dict[tuple[Path, str], threading.Lock] = {}
        #: git reads made: "checkouts" (file trees of a commit) and "ref_reads" (all refs of a repository)
        self.counters = {"checkouts": 0, "ref_reads": 0}
        self._env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")},
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": _AUTHOR[0],
            "GIT_AUTHOR_EMAIL": _AUTHOR[1],
            "GIT_COMMITTER_NAME": _AUTHOR[0],
            "GIT_COMMITTER_EMAIL": _AUTHOR[1],
        }

    def listing(self) -> list[Listed]:
        """Every repository the store serves, sorted by host and slug (what the sandbox banner lists)."""
        with self._write_lock:  # repositories are added under it
            repos = list(self._repos.values())
        found = [Listed(r.host, r.slug, r.default_branch, r.private) for r in repos]
        return sorted(found, key=lambda r: (r.host, r.slug.casefold()))

    # -- writing ------------------------------------------------------------------------------

    def create_repo(
        self,
        slug: str,
        files: Mapping[str, str],
        *,
        private: bool,
        branch: str = "main",
        host: str = "github.com",
    ) -> str:
        """Create a bare repository holding ``files`` in one commit on ``branch``; return its sha."""
        key = repo_key(host, slug)
        parts = key[1].split("/")
        if len(parts) < 2 or any(p in ("", ".", "..") or not _SEGMENT.match(p) for p in parts):
            raise ValueError(f"invalid repository slug {slug!r}")
        path = self.root.joinpath(key[0].replace(":", "_"), *parts[:-1], parts[-1] + ".git")
        repo = _Repo(slug=slug.strip("/"), host=key[0], private=private, path=path, default_branch=branch)
        with self._write_lock:
            if key in self._repos:
                raise ValueError(f"repository {host}/{slug} already exists")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._git(None, "-c", "init.defaultBranch=main", "init", "-q", "--bare", str(path))
            self._git(path, "symbolic-ref", "HEAD", f"refs/heads/{branch}")
            sha = self._write_commit(repo, dict(files), "Initial commit", branch)
            self._repos[key] = repo  # visible only once it has its first commit
        return sha

    def commit(
        self,
        slug: str,
        files: Mapping[str, str | None],
        message: str,
        *,
        branch: str = "main",
        host: str = "github.com",
    ) -> str:
        """Commit ``files`` on top of ``branch`` and return the sha; None deletes a file.

        A branch that does not exist yet starts from the default branch, as on GitHub.
        """
        return self._write_commit(self._repo(host, slug), files, message, branch)

    def tag(self, slug: str, name: str, sha: str, *, host: str = "github.com") -> None:
        """Create the lightweight tag ``name`` at ``sha``."""
        repo = self._repo(host, slug)
        self._check_ref_name(f"refs/tags/{name}")
        with self._write_lock:
            self._git(repo.path, "update-ref", f"refs/tags/{name}", sha, "0" * 40)
            self._bump(repo)

    def set_private(self, slug: str, private: bool, *, host: str = "github.com") -> None:
        """Change the visibility of a repository."""
        self._repo(host, slug).private = private

    def _write_commit(self, repo: _Repo, files: Mapping[str, str | None], message: str, branch: str) -> str:
        with self._write_lock:
            return self._fast_import(repo, files, message, branch)

    def _fast_import(self, repo: _Repo, files: Mapping[str, str | None], message: str, branch: str) -> str:
        ref = f"refs/heads/{branch}"
        self._check_ref_name(ref)
        refs = self._snapshot(repo)
        parent = refs.get(ref) or refs.get(f"refs/heads/{repo.default_branch}")
        # fast-import writes blobs, trees and the commit in one process, with no work tree.
        lines = [f"commit {ref}", f"committer {_AUTHOR[0]} <{_AUTHOR[1]}> {int(time.time())} +0000"]
        out = io.BytesIO()
        msg = message.encode()
        out.write("\n".join(lines).encode() + b"\n" + b"data %d\n" % len(msg) + msg + b"\n")
        if parent:
            out.write(f"from {parent}\n".encode())
        for name, content in files.items():
            path = self._clean_path(name)
            if content is None:
                out.write(f"D {path}\n".encode())
            else:
                data = content.encode()
                out.write(f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(data) + data + b"\n")
        out.write(b"\n")
        self._git(repo.path, "fast-import", "--quiet", "--done", stdin=out.getvalue() + b"done\n")
        self._bump(repo)
        sha = self._snapshot(repo).get(ref)
        if sha is None:
            raise GitError(f"commit on {repo.slug}@{branch} left no ref")
        return sha

    # -- reading ------------------------------------------------------------------------------

    def resolve_url(self, url: str) -> RepoHandle | None:
        """The repository ``url`` names (any spelling :func:`canonical_repo` accepts), or None."""
        parsed = parse_repo_url(url)
        if parsed is None:
            return None
        repo = self._repos.get((parsed[1], parsed[2]))
        if repo is None:
            return None
        return RepoHandle(
            slug=repo.slug,
            host=repo.host,
            private=repo.private,
            path=repo.path,
            transport=parsed[0],
            url=redact_url(url),
        )

    def knows_host(self, host: str) -> bool:
        """True when some repository lives on ``host`` (a URL naming another host cannot resolve)."""
        host = repo_key(host, "")[0]
        return any(key[0] == host for key in list(self._repos))

    def resolve_ref(self, handle: RepoHandle, ref_kind: RefKind, value: str) -> ResolvedRef | None:
        """Resolve a branch, tag, semver range or commit to a commit; None when nothing matches.

        Raises SemverError for a malformed semver range.
        """
        refs = self._snapshot(self._repo_at(handle))
        if ref_kind == "branch":
            sha = refs.get(f"refs/heads/{value}")
            return ResolvedRef(value, sha) if sha else None
        if ref_kind == "tag":
            sha = refs.get(f"refs/tags/{value}")
            return ResolvedRef(value, sha) if sha else None
        if ref_kind == "semver":
            constraint = parse_constraint(value)
            tags = [(version_key(r[10:]), r[10:], s) for r, s in refs.items() if r.startswith("refs/tags/")]
            best = max(
                ((k, t, s) for k, t, s in tags if k is not None and satisfies(t, constraint)),
                default=None,
            )
            return ResolvedRef(best[1], best[2]) if best else None
        sha = self._commit_exists(handle.path, value)
        return ResolvedRef(None, sha) if sha else None

    def rev_parse(self, handle: RepoHandle, ref_kind: RefKind, value: str) -> str | None:
        """The commit sha a branch, tag, semver range or commit resolves to, or None."""
        ref = self.resolve_ref(handle, ref_kind, value)
        return ref.sha if ref else None

    def head(self, handle: RepoHandle, branch: str) -> str | None:
        """The tip of ``branch``, or None when there is no such branch."""
        return self._snapshot(self._repo_at(handle)).get(f"refs/heads/{branch}")

    def read_tree(self, handle: RepoHandle, sha: str) -> Mapping[str, bytes]:
        """Every file at commit ``sha`` (path -> content), read-only and cached: commits never change."""
        key = (handle.path, sha)
        with self._lock:
            cached = self._trees.get(key)
            if cached is not None:
                self._trees.move_to_end(key)
                return cached
            fill_lock = self._fill_locks.setdefault(key, threading.Lock())
        # One reader per commit fills the cache; a thousand clusters asking at once wait for it.
        with fill_lock:
            with self._lock:
                cached = self._trees.get(key)
            if cached is None:
                cached = self._archive(handle.path, sha)
                with self._lock:
                    self._trees[key] = cached
                    while len(self._trees) > _TREE_CACHE_SIZE:
                        self._trees.popitem(last=False)
            with self._lock:
                self._fill_locks.pop(key, None)
        return cached

    def _archive(self, path: Path, sha: str) -> Mapping[str, bytes]:
        with self._lock:
            self.counters["checkouts"] += 1
        data = self._git(path, "archive", "--format=tar", sha)
        files: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar:
                if member.isfile():
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        files[member.name] = extracted.read()
        return MappingProxyType(files)

    def _commit_exists(self, path: Path, value: str) -> str | None:
        if not _SHA.match(value):
            return None
        with self._lock:
            if len(value) == 40 and (path, value.lower()) in self._known_commits:
                return value.lower()
        try:
            sha = self._git(path, "rev-parse", "--verify", "--quiet", f"{value}^{{commit}}").decode().strip()
        except GitError:
            return None
        with self._lock:
            self._known_commits.add((path, sha))
        return sha

    def _snapshot(self, repo: _Repo) -> dict[str, str]:
        """All refs of ``repo`` (name -> peeled commit sha), re-read only when they may have moved."""
        stamp = (repo.writes, self._refs_stamp(repo.path))
        with self._lock:
            cached = self._refs.get(repo.path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        with self._lock:
            self.counters["ref_reads"] += 1
        out = self._git(
            repo.path,
            "for-each-ref",
            "--format=%(refname) %(objectname) %(*objectname)",
            "refs/heads",
            "refs/tags",
        )
        refs: dict[str, str] = {}
        for line in out.decode().splitlines():
            name, obj, peeled = [*line.split(" "), "", ""][:3]
            refs[name] = peeled or obj
        with self._lock:
            self._refs[repo.path] = (stamp, refs)
        return refs

    @staticmethod
    def _refs_stamp(path: Path) -> tuple[int, ...]:
        # A push from outside the store renames files under refs/ or rewrites packed-refs.
        stamps: list[int] = []
        for item in (path / "packed-refs", path / "refs" / "heads", path / "refs" / "tags"):
            try:
                stamps.append(item.stat().st_mtime_ns)
            except FileNotFoundError:
                stamps.append(0)
        return tuple(stamps)

    # -- helpers ------------------------------------------------------------------------------

    def _repo(self, host: str, slug: str) -> _Repo:
        repo = self._repos.get(repo_key(host, slug))
        if repo is None:
            raise KeyError(f"no repository {host}/{slug}")
        return repo

    def _repo_at(self, handle: RepoHandle) -> _Repo:
        return self._repo(handle.host, handle.slug)

    def _bump(self, repo: _Repo) -> None:
        with self._lock:
            repo.writes += 1

    def _check_ref_name(self, ref: str) -> None:
        try:
            self._git(None, "check-ref-format", ref)
        except GitError:
            raise ValueError(f"invalid ref name {ref!r}") from None

    @staticmethod
    def _clean_path(name: str) -> str:
        path = posixpath.normpath(name.strip("/"))
        # fast-import takes an unquoted path to the end of the line: no leading quote, no newline.
        if path in ("", ".", "..") or path.startswith(("../", '"')) or "\n" in path:
            raise ValueError(f"invalid file path {name!r}")
        return path

    def _git(self, repo: Path | None, *args: str, stdin: bytes | None = None) -> bytes:
        cmd = ["git", *(["--git-dir", str(repo)] if repo is not None else []), *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, env=self._env, check=False)
        if proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout
