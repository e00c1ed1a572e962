"""Paths a kustomization uses that the pull request deletes or empties: Flux fails the kustomization then
(its ``path`` is gone), or, with ``prune``, deletes everything it had applied (the path has no objects)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.preflight.findings import Finding
from bot.preflight.scope import KUSTOMIZATION_FILES, scope_of
from bot.preflight.tree import Broken, Tree, repo_dir

CHECK = "path"


def _exists(tree: Tree, path: str) -> bool:
    return path in tree.files or path in tree.directories


def _objects(tree: Tree, files: Sequence[str]) -> int:
    """How many Kubernetes objects the files hold (kustomization.yaml files themselves not counted)."""
    kept = [f for f in files if f.rsplit("/", 1)[-1] not in KUSTOMIZATION_FILES]
    return sum(1 for m in tree.manifests(kept) if m.kind)


def missing_paths(base: Tree, head: Tree, kustomizations: Sequence[tuple[str, str]]) -> list[Finding]:
    """For each ``(name, path)`` kustomization: its path deleted or emptied at ``head`` when it was not at
    ``base``, and every ``resources`` entry of its kustomization.yaml files that names nothing at ``head``."""
    found: set[Finding] = set()
    for name, path in kustomizations:
        directory = repo_dir(path)
        shown = f"./{directory}" if directory else "./"
        if not _exists(head, directory):
            deleted = _exists(base, directory)
            what = "which this pull request deletes" if deleted else "which does not exist"
            found.add(Finding(directory, 0, f"kustomization '{name}' builds {shown}, {what}", CHECK))
            continue
        scope = scope_of(head, path)
        missing = [ref for ref in scope.references if not _exists(head, ref.target)]
        # a path left without objects because a file in it is broken or an entry names nothing is said so once
        broken = any(isinstance(head.parse(f), Broken) for f in scope.files)
        emptied = _objects(head, sorted(scope.files)) == 0 and _objects(base, sorted(scope_of(base, path).files)) > 0
        if emptied and not missing and not broken:
            found.add(
                Finding(
                    directory,
                    0,
                    f"kustomization '{name}' builds {shown}, which this pull request empties: no Kubernetes "
                    "objects are left there (with prune on, Flux deletes everything it applied from it)",
                    CHECK,
                )
            )
        for ref in missing:
            what = "which this pull request deletes" if _exists(base, ref.target) else "which does not exist"
            found.add(
                Finding(
                    ref.file, ref.line, f"resources entry '{ref.written}' names {ref.target or './'}, {what}", CHECK
                )
            )
    return sorted(found)
