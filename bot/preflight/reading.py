"""Reading only the files a preflight needs, within caps: a pull request chooses what is in its tree.

The files are read directory by directory through the Git host (``RepositoryFiles.read_files``): the paths of
the configurations' kustomizations, then, round by round, every path their kustomization.yaml files name that
is not read yet (``../base/podinfo``). A tree past a cap stops the read with ``TooLarge`` (said on the pull
request as an error), never a worker busy for minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot import errors
from bot.preflight.scope import scope_of
from bot.preflight.tree import Tree, repo_dir

MAX_FILES = 2_000
MAX_FILE_BYTES = 1536 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024
#: directories (or files) read one by one for one tree
MAX_READS = 200


class TooLarge(errors.InvalidRequest):
    """The files the preflight needs are past a cap; the message says which."""


@dataclass
class Budget:
    """What one preflight has read so far, against the caps."""

    files: int = 0
    bytes: int = 0
    reads: int = 0

    def take(self, found: Mapping[str, str]) -> None:
        self.reads += 1
        if self.reads > MAX_READS:
            raise TooLarge(f"its kustomizations name more than {MAX_READS} paths")
        for path, text in found.items():
            size = len(text.encode("utf-8", errors="replace"))
            if size > MAX_FILE_BYTES:
                raise TooLarge(f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB")
            self.files += 1
            self.bytes += size
        if self.files > MAX_FILES:
            raise TooLarge(f"its kustomizations build more than {MAX_FILES:,} YAML files")
        if self.bytes > MAX_TOTAL_BYTES:
            raise TooLarge(f"its kustomizations build more than {MAX_TOTAL_BYTES >> 20} MiB of YAML")


def _covered(path: str, read: Iterable[str]) -> bool:
    return any(r == "" or path == r or path.startswith(r + "/") for r in read)


@dataclass
class ScopeReader:
    """Reads the tree of one ref lazily: ``read(path)`` is the host's ``read_files`` at that ref."""

    read: Callable[[str], dict[str, str]]
    budget: Budget = field(default_factory=Budget)
    asked: list[str] = field(default_factory=list)

    def tree(self, paths: Iterable[str], also: Iterable[str] = ()) -> Tree:
        """The files the kustomization ``paths`` build, and every path they name; ``also`` read as well
        (the base is read where the head was, so a deleted path is known to be deleted)."""
        roots = sorted({repo_dir(p) for p in paths})
        files: dict[str, str] = {}
        pending = sorted(set(roots) | set(also))
        while pending:
            for path in pending:
                if _covered(path, self.asked):
                    continue
                self.asked.append(path)
                found = self.read(path)
                self.budget.take(found)
                files.update(found)
            tree = Tree(files)
            named = {ref.target for root in roots for ref in scope_of(tree, root).references}
            pending = sorted(t for t in named if not _covered(t, self.asked))
        return Tree(dict(sorted(files.items())))
