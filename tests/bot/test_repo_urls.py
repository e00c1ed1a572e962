"""The URL rules the bot and the sandbox share: the SSH endpoint a URL dials and what counts as an SSH URL."""

from __future__ import annotations

import pytest

from bot.repo_urls import is_ssh_url, ssh_endpoint


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("git@github.com:org/repo.git", ("github.com", None)),
        ("ssh://git@github.com/org/repo", ("github.com", None)),
        ("ssh://git@GitHub.com:2222/org/repo.git", ("github.com", 2222)),
        ("ssh://git@github.com:22/org/repo", ("github.com", 22)),
        (" git@ssh.dev.azure.com:v3/org/project/repo ", ("ssh.dev.azure.com", None)),
    ],
)
def test_ssh_endpoint_is_the_host_and_port_as_dialled(url: str, endpoint: tuple[str, int | None]) -> None:
    assert ssh_endpoint(url) == endpoint


@pytest.mark.parametrize(
    ("url", "ssh"),
    [
        ("ssh://git@github.com/org/repo", True),
        ("git@github.com:org/repo", True),
        ("https://github.com/org/repo", False),
        ("http://github.com/org/repo", False),
        ("SSH://git@github.com/org/repo", False),  # ARM reads the prefix as written
    ],
)
def test_is_ssh_url_reads_the_prefix(url: str, ssh: bool) -> None:
    assert is_ssh_url(url) is ssh
