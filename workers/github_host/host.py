"""``GitHubHost``: every capability GitHub offers fluxops, on one connection, and how settings make one."""

from __future__ import annotations

from bot import errors
from bot.models import Secret
from bot.settings import Settings
from workers.github_host.deploy_keys import GitHubDeployKeys
from workers.github_host.files import GitHubFiles
from workers.github_host.pulls import GitHubPullRequests
from workers.github_host.statuses import GitHubStatuses


class GitHubHost(GitHubStatuses, GitHubPullRequests, GitHubFiles, GitHubDeployKeys):
    """GitHub as fluxops' Git host: commit statuses and check runs, pull requests, repository files, deploy keys."""


def github_host_from_settings(settings: Settings) -> GitHubHost | None:
    """The GitHub adapter the settings ask for; None when neither GITHUB_TOKEN nor GITHUB_APP_ID is set.

    An app id without its private key is a configuration error (the app's setup is half done).
    """
    if settings.github_app_id:
        if settings.github_app_private_key is None:
            raise errors.ConfigurationError(
                "GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY is not",
                recommendation="set GITHUB_APP_PRIVATE_KEY to the app's private key (PEM), or unset GITHUB_APP_ID",
            )
        return GitHubHost(
            base_url=settings.github_api_url,
            app_id=settings.github_app_id,
            app_private_key=Secret(settings.github_app_private_key.get_secret_value()),
        )
    if settings.github_token is not None:
        return GitHubHost(base_url=settings.github_api_url, token=Secret(settings.github_token.get_secret_value()))
    return None
