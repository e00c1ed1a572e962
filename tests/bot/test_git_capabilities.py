"""A use-case asks a Git host for one capability and gets it, or a clear refusal (bot/git_capabilities.py)."""

from __future__ import annotations

import pytest

from bot import errors
from bot.git_capabilities import commit_statuses, deploy_keys, pull_requests, repository_files
from bot.gitevents import AZURE_DEVOPS
from tests.bot.usecases.fakes import FakeDeployKeys, FakeGitHost, FakePullRequests


def test_a_host_gives_the_capabilities_it_has() -> None:
    host = FakeGitHost()
    assert pull_requests(host) is host
    assert repository_files(host) is host
    assert deploy_keys(host, "adding a key") is host


def test_a_capability_the_host_lacks_is_a_configuration_error() -> None:
    with pytest.raises(errors.ConfigurationError, match="cannot post commit statuses on GitHub"):
        commit_statuses(FakeGitHost())
    with pytest.raises(errors.ConfigurationError, match="cannot read pull requests"):
        pull_requests(FakeDeployKeys())


def test_no_deploy_keys_says_what_to_use_instead() -> None:
    host = FakePullRequests()
    host.provider = AZURE_DEVOPS
    with pytest.raises(errors.InvalidRequest) as refused:
        deploy_keys(host, "adding deploy key 'k' to org/project/repo")
    assert refused.value.message.startswith(
        "adding deploy key 'k' to org/project/repo: Azure DevOps has no per-repository deploy keys"
    )
    assert "--https-user USER --https-key-ref REF" in refused.value.recommendation
