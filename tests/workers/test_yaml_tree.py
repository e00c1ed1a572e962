"""The one walk that reads a file or a directory's YAML files from a Git host (workers/yaml_tree.py)."""

from __future__ import annotations

from collections.abc import Sequence

from workers.yaml_tree import TreeEntry, read_yaml_tree, repo_path

FILES = {
    "clusters/prod.yaml": "name: prod\n",
    "clusters/eu/stage.YML": "name: stage\n",
    "clusters/notes.txt": "not yaml\n",
    "README.md": "fleet\n",
}


def one_level(where: str) -> Sequence[TreeEntry[str]] | None:
    """A host listing one directory level at a time, GitHub-style (the file itself for a file)."""
    if where in FILES:
        return [TreeEntry(where, False, where)]
    prefix = f"{where}/" if where else ""
    below = {p[len(prefix) :].split("/")[0] for p in FILES if p.startswith(prefix)}
    if not below:
        return None
    return [TreeEntry(prefix + n, prefix + n not in FILES, prefix + n, unlisted=prefix + n not in FILES) for n in below]


def whole_tree(where: str) -> Sequence[TreeEntry[str]] | None:
    """A host listing the whole tree at once, with leading slashes, Azure DevOps-style."""
    if where in FILES:
        return [TreeEntry("/" + where, False, where)]
    found = [TreeEntry("/" + p, False, p) for p in FILES if p.startswith(where + "/")]
    return [TreeEntry("/" + where, True, where), *found] if found else None


def read(entry: TreeEntry[str]) -> str | None:
    return FILES.get(entry.handle)


def test_both_listing_styles_read_the_same_files_spelled_the_same() -> None:
    for listing in (one_level, whole_tree):
        assert read_yaml_tree(" /clusters/ ", listing=listing, read=read) == {
            "clusters/eu/stage.YML": "name: stage\n",
            "clusters/prod.yaml": "name: prod\n",
        }
        assert read_yaml_tree("README.md", listing=listing, read=read) == {"README.md": "fleet\n"}
        assert read_yaml_tree("nowhere", listing=listing, read=read) == {}


def test_repo_path() -> None:
    assert repo_path(" /a/b/ ") == "a/b"
    assert repo_path("/") == ""
