"""GitHub as fluxops' Git host, over PyGithub: one module per capability (bot.ports) on one shared connection.

- connection.py: clients, authentication (token or GitHub App), and errors (workers/git_http_errors.py)
- statuses.py: CommitStatuses; pulls.py: PullRequests; files.py: RepositoryFiles; deploy_keys.py: DeployKeys
- host.py: ``GitHubHost``, all of them together, and ``github_host_from_settings``
"""

from __future__ import annotations

from workers.github_host.host import GitHubHost, github_host_from_settings

__all__ = ["GitHubHost", "github_host_from_settings"]
