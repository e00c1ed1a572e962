"""Asking a Git host for one capability (bot.ports: CommitStatuses, PullRequests, RepositoryFiles, DeployKeys).

A host implements only what its service supports. A use-case asks for the capability it needs here and
gets it typed as that capability, or an error saying that this host cannot do it (Azure DevOps has no
deploy keys: the error says what to use instead).
"""

from __future__ import annotations

from bot import errors
from bot.gitevents import AZURE_DEVOPS, GITHUB
from bot.ports import CommitStatuses, DeployKeys, GitHost, PullRequests, RepositoryFiles

#: how people know each provider
HOST_NAMES = {GITHUB: "GitHub", AZURE_DEVOPS: "Azure DevOps"}


def host_name(provider: str) -> str:
    """The provider as people know it: "GitHub", "Azure DevOps" (its id for any other)."""
    return HOST_NAMES.get(provider, provider)


def _lacking(host: GitHost, what: str) -> errors.ConfigurationError:
    return errors.ConfigurationError(
        f"fluxops cannot {what} on {host_name(host.provider)}: its adapter does not offer it",
        recommendation="this is a fluxops bug if it persists; report it with the message above",
    )


def commit_statuses(host: GitHost) -> CommitStatuses:
    """The host's commit statuses and check runs; ConfigurationError when it has none."""
    if isinstance(host, CommitStatuses):
        return host
    raise _lacking(host, "post commit statuses")


def pull_requests(host: GitHost) -> PullRequests:
    """The host's pull requests, comments and reviews; ConfigurationError when it has none."""
    if isinstance(host, PullRequests):
        return host
    raise _lacking(host, "read pull requests or comment on them")


def repository_files(host: GitHost) -> RepositoryFiles:
    """The host's repositories (files, commit ancestry); ConfigurationError when it offers none."""
    if isinstance(host, RepositoryFiles):
        return host
    raise _lacking(host, "read repositories")


def no_deploy_keys(doing: str, provider: str = AZURE_DEVOPS) -> errors.InvalidRequest:
    """What fluxops says when asked for a deploy key on a host without them, and what to use instead."""
    return errors.InvalidRequest(
        f"{doing}: {host_name(provider)} has no per-repository deploy keys, and no API to add SSH keys "
        "(an SSH key there belongs to a person and gives all their access)",
        recommendation="use HTTPS with a credential fluxops holds (`--https-user USER --https-key-ref REF`, "
        "rotated with `/flux key rotate --https-key-ref REF`), or `--provider azure` (workload identity)",
    )


def deploy_keys(host: GitHost, doing: str) -> DeployKeys:
    """The host's deploy keys; InvalidRequest saying what to use instead when it has none (Azure DevOps)."""
    if isinstance(host, DeployKeys):
        return host
    raise no_deploy_keys(doing, host.provider)
