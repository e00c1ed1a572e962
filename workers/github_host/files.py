"""bot.ports.RepositoryFiles for GitHub: the repository as GitHub knows it, its YAML files, commit ancestry."""

from __future__ import annotations

import base64

from github import GithubException
from github.ContentFile import ContentFile
from github.Repository import Repository

from bot.gitevents import GITHUB, RepoRef
from workers.github_host.connection import GitHubConnection, error_text
from workers.yaml_tree import TreeEntry, read_yaml_tree


class GitHubFiles(GitHubConnection):
    """A GitHub repository's identity, files and history."""

    def repository(self, repo: RepoRef) -> RepoRef:
        doing = f"reading repository {repo.full_name}"
        with self.call(doing, repo):
            found = self.repo(repo)
            return RepoRef(
                provider=GITHUB,
                full_name=found.full_name,
                url=found.clone_url,
                id=str(found.id),
                default_branch=found.default_branch or repo.default_branch,
                installation_id=repo.installation_id,
            )

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        doing = f"reading {path.strip().strip('/') or '/'} at {ref} in {repo.full_name}"
        with self.call(doing, repo, missing=f"branch, tag or commit {ref} in {repo.full_name}"):
            github_repo = self.repo(repo)

            def listing(where: str) -> list[TreeEntry[ContentFile]] | None:
                try:
                    found = github_repo.get_contents(where, ref=ref)
                except GithubException as exc:
                    # A missing path is "nothing there"; a missing ref is an error (GitHub: "No commit found").
                    if exc.status == 404 and "no commit found" not in error_text(exc).lower():
                        return None
                    raise
                entries = found if isinstance(found, list) else [found]
                return [
                    TreeEntry(e.path, e.type == "dir", e, unlisted=True) for e in entries if e.type in ("dir", "file")
                ]

            return read_yaml_tree(path, listing=listing, read=lambda entry: _text(github_repo, entry.handle))

    def is_ancestor(self, repo: RepoRef, ancestor: str, descendant: str) -> bool:
        if ancestor == descendant:
            return True
        doing = f"comparing {ancestor[:7]} with {descendant[:7]} in {repo.full_name}"
        with self.call(doing, repo, missing=f"commit {ancestor[:7]} or {descendant[:7]} in {repo.full_name}"):
            try:
                comparison = self.repo(repo).compare(ancestor, descendant, comparison_commits_per_page=1)
                return comparison.status in ("ahead", "identical")
            except GithubException as exc:
                # Unrelated histories: GitHub answers 404 "No common ancestor"; neither contains the other.
                if exc.status == 404 and "no common ancestor" in error_text(exc).lower():
                    return False
                raise


def _text(github_repo: Repository, entry: ContentFile) -> str:
    if entry.encoding == "base64" and entry.content is not None:
        data = entry.decoded_content
    else:
        # Files over 1 MB come without content: read the blob instead.
        data = base64.b64decode(github_repo.get_git_blob(entry.sha).content)
    return data.decode("utf-8", errors="replace")
