"""bot.ports.DeployKeys for GitHub: read-only deploy keys on a repository, and GitHub's SSH host keys."""

from __future__ import annotations

from github import GithubException

from bot import errors
from bot.gitevents import RepoRef
from workers.github_host.connection import GitHubConnection, error_text


def _key_identity(public_key: str) -> tuple[str, ...]:
    """(type, base64 blob) of an OpenSSH public key line: what makes two lines the same key (comments differ)."""
    return tuple(public_key.split()[:2])


class GitHubDeployKeys(GitHubConnection):
    """The deploy keys fluxops registers on GitHub repositories."""

    def add_deploy_key(self, repo: RepoRef, title: str, public_key: str) -> int:
        doing = f"adding deploy key '{title}' to {repo.full_name}"
        line = " ".join(_key_identity(public_key))
        with self.call(doing, repo):
            try:
                return int(self.repo(repo).create_key(title, line, read_only=True).id)
            except GithubException as exc:
                if exc.status != 422 or "already in use" not in error_text(exc).lower():
                    raise
        # GitHub takes a key once per host: a resumed job re-adding its own key finds it here.
        for key_id, key in self.deploy_key_ids(repo).items():
            if _key_identity(key) == _key_identity(line):
                return key_id
        raise errors.InvalidRequest(
            f"{doing}: GitHub says the key is already in use, and it is not a deploy key of {repo.full_name}: "
            "it is registered on another repository or on a user account",
            recommendation="remove it there, or give the configuration a new key "
            "(`/flux key rotate NAME -c CLUSTER`); fluxops never shares one key between repositories",
            code="422",
        )

    def remove_deploy_key(self, repo: RepoRef, key_id: int) -> bool:
        doing = f"removing deploy key {key_id} from {repo.full_name}"
        try:
            with self.call(doing, repo, missing=f"deploy key {key_id} on {repo.full_name}"):
                # One DELETE by URL: nothing is read first, so a key already gone costs one 404.
                self.client(repo).requester.requestJsonAndCheck("DELETE", f"/repos/{repo.full_name}/keys/{key_id}")
        except errors.NotFound:
            return False
        return True

    def deploy_key_ids(self, repo: RepoRef) -> dict[int, str]:
        with self.call(f"listing the deploy keys of {repo.full_name}", repo):
            return {int(key.id): " ".join(_key_identity(key.key)) for key in self.repo(repo).get_keys()}

    def ssh_host_keys(self) -> list[str]:
        doing = "reading GitHub's SSH host keys (GET /meta)"
        with self.call(doing, None, missing="/meta endpoint"):
            _, data = self.any_client().requester.requestJsonAndCheck("GET", "/meta")
        keys = data.get("ssh_keys") if isinstance(data, dict) else None
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise errors.InvalidRequest(
                f"{doing}: GitHub at {self.base_url} publishes no SSH host keys",
                recommendation="give Flux the host's known_hosts yourself with `--known-hosts-ref REF`",
            )
        return [str(k) for k in keys]
