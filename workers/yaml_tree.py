"""Reading a file, or every YAML file under a directory, from a Git host: one walk, one path spelling.

``RepositoryFiles.read_files`` answers with repository paths spelled one way whatever the host: no
surrounding blanks or slashes (``clusters/prod.yaml``), sorted. Each host adapter only lists a directory
(GitHub one level at a time, Azure DevOps the whole tree at once) and reads one file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

YAML_SUFFIXES = (".yaml", ".yml")

H = TypeVar("H")


def repo_path(path: str) -> str:
    """A repository path as fluxops spells it: no surrounding blanks or slashes ("" is the root)."""
    return path.strip().strip("/")


@dataclass(frozen=True)
class TreeEntry(Generic[H]):
    """One file or directory a host listed; ``handle`` is what the host needs to read or list it again."""

    path: str
    is_dir: bool
    handle: H
    #: a directory whose content is not in the listing yet (GitHub lists one level; Azure DevOps all)
    unlisted: bool = False


def read_yaml_tree(
    path: str,
    *,
    listing: Callable[[str], Sequence[TreeEntry[H]] | None],
    read: Callable[[TreeEntry[H]], str | None],
) -> dict[str, str]:
    """The file at ``path`` (whatever its name), or every ``*.yaml``/``*.yml`` below the directory ``path``,
    keyed by repository path; {} when nothing is there.

    ``listing(path)`` gives the entries at ``path`` (the file itself when it is one), None when nothing is
    there; ``read(entry)`` gives a file's text (None: it vanished meanwhile).
    """
    top = repo_path(path)
    entries = listing(top)
    if not entries:
        return {}
    if len(entries) == 1 and not entries[0].is_dir and repo_path(entries[0].path) == top:
        text = read(entries[0])
        return {} if text is None else {repo_path(entries[0].path): text}
    found: dict[str, str] = {}
    pending = deque(entries)
    while pending:
        entry = pending.popleft()
        if entry.is_dir:
            if entry.unlisted:
                pending.extend(listing(repo_path(entry.path)) or ())
        elif entry.path.lower().endswith(YAML_SUFFIXES):
            text = read(entry)
            if text is not None:
                found[repo_path(entry.path)] = text
    return dict(sorted(found.items()))
