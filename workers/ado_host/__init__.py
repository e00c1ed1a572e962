"""Azure DevOps as fluxops' Git host, over its REST API 7.1: one module per capability (bot.ports) on one
shared connection.

- connection.py: the session, URLs and errors (workers/git_http_errors.py)
- statuses.py: CommitStatuses; pulls.py: PullRequests; files.py: RepositoryFiles (no deploy keys exist)
- host.py: ``AzureDevOpsHost``, all of them together, and ``ado_host_from_settings``
"""

from __future__ import annotations

from workers.ado_host.host import AzureDevOpsHost, ado_host_from_settings

__all__ = ["AzureDevOpsHost", "ado_host_from_settings"]
