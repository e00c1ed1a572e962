"""Which files a Flux Kustomization applies: what kustomize-controller builds from its ``path``.

A directory with a ``kustomization.yaml`` is built from it: its ``resources`` (and ``components``, ``bases``)
are followed, files and directories alike, relative to it; a directory without one is taken whole, every
YAML file below it (what Flux generates when there is none). A ``namespace:`` in a kustomization.yaml sets
the namespace of everything it builds; the outermost one wins, as kustomize applies it last.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from bot.preflight.tree import Broken, Tree, items, line_of, repo_dir, scalar

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml")
#: the lists of a kustomization.yaml that name files or directories to build
_LISTS = ("resources", "components", "bases")


@dataclass(frozen=True)
class Reference:
    """One entry of a kustomization.yaml's ``resources``: where it is written and the path it names."""

    file: str
    line: int
    written: str
    target: str


@dataclass
class Scope:
    """The files a kustomization path builds (each with the namespace a kustomization.yaml sets, or None)
    and every local path its kustomization.yaml files name."""

    files: dict[str, str | None] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)


def kustomization_file(tree: Tree, directory: str) -> str | None:
    """The kustomization.yaml of ``directory``, None when it has none."""
    for name in KUSTOMIZATION_FILES:
        path = f"{directory}/{name}" if directory else name
        if path in tree.files:
            return path
    return None


def scope_of(tree: Tree, path: str) -> Scope:
    """What the kustomization ``path`` (``./apps/staging``) builds in ``tree``."""
    scope = Scope()
    seen: set[str] = set()
    # directories still to build, with the namespace an outer kustomization.yaml sets: a stack, not recursion
    # (a pull request may chain thousands of kustomization.yaml files), popped in the order entries are written
    pending: list[tuple[str, str | None]] = [(repo_dir(path), None)]
    while pending:
        directory, namespace = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        pending.extend(reversed(_build(tree, directory, namespace, scope)))
    return scope


def _is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@")) or "?ref=" in entry


def _build(tree: Tree, directory: str, namespace: str | None, scope: Scope) -> list[tuple[str, str | None]]:
    """Add what ``directory`` builds itself to ``scope``; the directories its kustomization.yaml names."""
    found = kustomization_file(tree, directory)
    if found is None:
        for file in tree.under(directory):
            scope.files.setdefault(file, namespace)
        return []
    scope.files.setdefault(found, namespace)
    parsed = tree.parse(found)
    if isinstance(parsed, Broken) or not parsed:
        return []
    root = parsed[0].node
    namespace = namespace or scalar(root, "namespace")
    directories: list[tuple[str, str | None]] = []
    for key in _LISTS:
        for entry in items(root, key):
            written = scalar(entry)
            if not written or _is_remote(written):
                continue
            target = (
                posixpath.normpath(posixpath.join(directory, written)) if directory else posixpath.normpath(written)
            )
            if target == ".":
                target = ""
            if target.startswith(".."):
                continue  # outside the repository: kustomize refuses it, and it is not this PR's to check
            scope.references.append(Reference(found, line_of(entry), written, target))
            if target in tree.files:
                scope.files.setdefault(target, namespace)
            elif target in tree.directories:
                directories.append((target, namespace))
    return directories
