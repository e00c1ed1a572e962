"""RepoStore: real bare repositories, URL normalisation, refs, semver ranges and the tree cache."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from sandbox.gitrepos import (
    RepoStore,
    SemverError,
    canonical_repo,
    parse_constraint,
    redact_url,
    satisfies,
)

SLUG = "Azure/gitops-flux2-kustomize-helm-mt"
GH = ("github.com", "azure/gitops-flux2-kustomize-helm-mt")
ADO = ("dev.azure.com", "contoso/fleet ops/gitops")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Azure/gitops-flux2-kustomize-helm-mt", GH),
        ("https://github.com/Azure/gitops-flux2-kustomize-helm-mt.git", GH),
        ("https://GitHub.com/azure/GITOPS-flux2-kustomize-helm-mt/", GH),
        ("http://github.com/Azure/gitops-flux2-kustomize-helm-mt", GH),
        ("https://github.com:443/Azure/gitops-flux2-kustomize-helm-mt", GH),
        ("https://user:secret@github.com/Azure/gitops-flux2-kustomize-helm-mt.git", GH),
        ("ssh://git@github.com/Azure/gitops-flux2-kustomize-helm-mt", GH),
        ("ssh://git@github.com/Azure/gitops-flux2-kustomize-helm-mt.git/", GH),
        ("ssh://git@github.com:22/Azure/gitops-flux2-kustomize-helm-mt.git", GH),
        ("git@github.com:Azure/gitops-flux2-kustomize-helm-mt.git", GH),
        ("git@github.com:Azure/gitops-flux2-kustomize-helm-mt", GH),
        ("  https://github.com/Azure/gitops-flux2-kustomize-helm-mt  ", GH),
        ("https://gitlab.example.com:8443/group/sub/repo.git", ("gitlab.example.com:8443", "group/sub/repo")),
        ("https://dev.azure.com/contoso/Fleet%20Ops/_git/GitOps", ADO),
        ("https://contoso@dev.azure.com/contoso/Fleet%20Ops/_git/GitOps", ADO),
        ("https://contoso.visualstudio.com/Fleet%20Ops/_git/GitOps", ADO),
        ("ssh://git@ssh.dev.azure.com/v3/contoso/Fleet%20Ops/GitOps", ADO),
        ("git@ssh.dev.azure.com:v3/contoso/Fleet%20Ops/GitOps", ADO),
        ("", None),
        ("github.com/Azure/repo", None),
        ("https://github.com/Azure", None),
        ("ftp://github.com/Azure/repo", None),
        ("https://github.com/Azure/re po", None),
        ("https://dev.azure.com/contoso/project/repo", None),
        ("ssh://git@ssh.dev.azure.com/contoso/project/repo", None),
    ],
)
def test_canonical_repo(url: str, expected: tuple[str, str] | None) -> None:
    assert canonical_repo(url) == expected


def test_redact_url_removes_only_the_secret() -> None:
    assert redact_url("https://bot:ghp_secret@github.com/org/repo") == "https://bot@github.com/org/repo"
    assert redact_url("ssh://git@github.com/org/repo") == "ssh://git@github.com/org/repo"


@pytest.fixture
def store(tmp_path: Path) -> RepoStore:
    return RepoStore(tmp_path / "repos")


def test_create_commit_and_read(store: RepoStore) -> None:
    first = store.create_repo(SLUG, {"a/one.yaml": "x: 1\n", "README.md": "hi\n"}, private=True)
    handle = store.resolve_url("git@github.com:azure/gitops-flux2-kustomize-helm-mt.git")
    assert handle is not None
    assert (handle.slug, handle.host, handle.private, handle.transport) == (SLUG, "github.com", True, "ssh")
    assert handle.path.is_dir()
    assert handle.path.name.endswith(".git")
    assert dict(store.read_tree(handle, first)) == {"a/one.yaml": b"x: 1\n", "README.md": b"hi\n"}

    second = store.commit(SLUG, {"a/one.yaml": None, "b/two words.yaml": "y: 2\n"}, "move")
    assert store.head(handle, "main") == second != first
    assert dict(store.read_tree(handle, second)) == {"README.md": b"hi\n", "b/two words.yaml": b"y: 2\n"}
    # The old commit is still readable: trees are immutable.
    assert "a/one.yaml" in store.read_tree(handle, first)
    log = subprocess.run(
        ["git", "--git-dir", str(handle.path), "log", "--format=%s|%an", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log == ["move|fluxops sandbox", "Initial commit|fluxops sandbox"]


def test_new_branch_starts_from_default_branch(store: RepoStore) -> None:
    base = store.create_repo("org/repo", {"f": "1"}, private=False)
    feature = store.commit("org/repo", {"g": "2"}, "feature work", branch="feature/x")
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    assert store.head(handle, "main") == base
    assert store.head(handle, "feature/x") == feature
    assert set(store.read_tree(handle, feature)) == {"f", "g"}


def test_refs_branch_tag_commit(store: RepoStore) -> None:
    first = store.create_repo("org/repo", {"f": "1"}, private=False)
    second = store.commit("org/repo", {"f": "2"}, "two")
    store.tag("org/repo", "v1.0.0", first)
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    assert store.rev_parse(handle, "branch", "main") == second
    assert store.rev_parse(handle, "branch", "nope") is None
    assert store.rev_parse(handle, "tag", "v1.0.0") == first
    assert store.rev_parse(handle, "tag", "v9") is None
    assert store.rev_parse(handle, "commit", first) == first
    assert store.rev_parse(handle, "commit", first[:10]) == first
    assert store.rev_parse(handle, "commit", "0" * 40) is None
    assert store.rev_parse(handle, "commit", "--all") is None


def test_push_from_outside_the_store_is_seen(store: RepoStore) -> None:
    first = store.create_repo("org/repo", {"f": "1"}, private=False)
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    assert store.head(handle, "main") == first
    store.commit("org/repo", {"f": "2"}, "two", branch="other")
    other = store.head(handle, "other")
    assert other is not None
    # As a `git push` would: move main without going through the store.
    subprocess.run(["git", "--git-dir", str(handle.path), "update-ref", "refs/heads/main", other], check=True)
    assert store.head(handle, "main") == other


def test_azure_devops_repo_resolves_from_every_spelling(store: RepoStore) -> None:
    store.create_repo("contoso/Fleet Ops/GitOps", {"f": "1"}, private=True, host="dev.azure.com")
    urls = [
        "https://dev.azure.com/contoso/Fleet%20Ops/_git/GitOps",
        "https://contoso@dev.azure.com/contoso/Fleet%20Ops/_git/GitOps",
        "ssh://git@ssh.dev.azure.com/v3/contoso/Fleet%20Ops/GitOps",
        "git@ssh.dev.azure.com:v3/contoso/Fleet%20Ops/GitOps",
    ]
    handles = [store.resolve_url(u) for u in urls]
    assert all(h is not None and h.host == "dev.azure.com" for h in handles)
    assert [h.transport for h in handles if h] == ["https", "https", "ssh", "ssh"]
    assert store.resolve_url("https://github.com/contoso/GitOps") is None
    assert store.knows_host("ssh.dev.azure.com")
    assert not store.knows_host("gitlab.com")


def test_bad_slugs_and_duplicates_are_refused(store: RepoStore) -> None:
    store.create_repo("org/repo", {"f": "1"}, private=False)
    with pytest.raises(ValueError, match="already exists"):
        store.create_repo("ORG/Repo", {"f": "1"}, private=False)
    for slug in ("org", "org/../../etc", "org/re*po", "org/ repo"):
        with pytest.raises(ValueError, match="invalid repository slug"):
            store.create_repo(slug, {"f": "1"}, private=False)
    with pytest.raises(ValueError, match="invalid file path"):
        store.commit("org/repo", {"../escape": "x"}, "nope")


def test_set_private(store: RepoStore) -> None:
    store.create_repo("org/repo", {"f": "1"}, private=False)
    store.set_private("org/repo", True)
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    assert handle.private


@pytest.mark.parametrize(
    ("constraint", "matches", "rejects"),
    [
        (">=1.0.0 <2.0.0", ["1.0.0", "v1.9.9"], ["0.9.0", "2.0.0", "1.5.0-rc.1"]),
        (">=1.0.0, <2.0.0", ["1.2.3"], ["2.0.0"]),
        ("1.x", ["1.0.0", "1.99.0"], ["2.0.0", "0.9.9"]),
        ("1.2.*", ["1.2.0", "1.2.9"], ["1.3.0"]),
        ("*", ["0.0.1", "9.0.0"], ["9.0.0-beta"]),
        ("^1.2", ["1.2.0", "1.9.0"], ["1.1.9", "2.0.0"]),
        ("^1.2.3", ["1.2.3", "1.9.0"], ["1.2.2", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("~1.2", ["1.2.0", "1.2.5"], ["1.3.0"]),
        ("~1", ["1.0.0", "1.9.0"], ["2.0.0"]),
        ("1.2.3", ["1.2.3"], ["1.2.4"]),
        ("=1.2", ["1.2.0", "1.2.7"], ["1.3.0"]),
        (">1.2", ["1.3.0"], ["1.2.9"]),
        ("<=1.2", ["1.2.9"], ["1.3.0"]),
        ("!=1.2.3", ["1.2.4"], ["1.2.3"]),
        ("1.0.0 - 1.4", ["1.0.0", "1.4.9"], ["1.5.0"]),
        ("<1.0.0 || >=3.0.0", ["0.5.0", "3.1.0"], ["2.0.0"]),
        (">=1.0.0-rc.1 <1.0.0", ["1.0.0-rc.1", "1.0.0-rc.2"], ["1.0.0-alpha"]),
    ],
)
def test_semver_ranges(constraint: str, matches: list[str], rejects: list[str]) -> None:
    parsed = parse_constraint(constraint)
    assert [v for v in matches if satisfies(v, parsed)] == matches
    assert [v for v in rejects if satisfies(v, parsed)] == []


@pytest.mark.parametrize("bad", ["", "abc", ">=", "1.2.3.4", "^x.y.z.w"])
def test_semver_bad_constraints(bad: str) -> None:
    with pytest.raises(SemverError, match="improper constraint"):
        parse_constraint(bad)


def test_semver_ref_picks_highest_matching_tag(store: RepoStore) -> None:
    shas = {}
    store.create_repo("org/repo", {"v": "0"}, private=False)
    for version in ("v1.0.0", "v1.2.0", "v1.10.0", "v2.0.0", "v1.11.0-rc.1", "not-a-version"):
        shas[version] = store.commit("org/repo", {"v": version}, version)
        store.tag("org/repo", version, shas[version])
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    ref = store.resolve_ref(handle, "semver", ">=1.0.0 <2.0.0")
    assert ref is not None
    assert (ref.name, ref.sha) == ("v1.10.0", shas["v1.10.0"])
    assert store.rev_parse(handle, "semver", "^2") == shas["v2.0.0"]
    assert store.rev_parse(handle, "semver", ">=3.0.0") is None


def test_tree_cache_reads_each_commit_once(store: RepoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    sha = store.create_repo("org/repo", {f"f{i}.yaml": f"i: {i}\n" for i in range(50)}, private=False)
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    calls: list[str] = []
    real = store._archive

    def counting(path: Path, commit: str) -> Mapping[str, bytes]:
        calls.append(commit)
        return real(path, commit)

    monkeypatch.setattr(store, "_archive", counting)
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.read_tree(handle, sha))) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [sha]
    assert all(r is results[0] for r in results)
    assert len(results[0]) == 50
    with pytest.raises(TypeError):
        results[0]["f0.yaml"] = b"mutated"  # type: ignore[index]


def test_concurrent_commits_all_land(store: RepoStore) -> None:
    store.create_repo("org/repo", {"f": "0"}, private=False)
    threads = [
        threading.Thread(target=store.commit, args=("org/repo", {f"file-{i}": str(i)}, f"commit {i}"))
        for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handle = store.resolve_url("https://github.com/org/repo")
    assert handle is not None
    head = store.head(handle, "main")
    assert head is not None
    assert set(store.read_tree(handle, head)) == {"f", *(f"file-{i}" for i in range(20))}
