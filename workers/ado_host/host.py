"""``AzureDevOpsHost``: every capability Azure DevOps offers fluxops, on one connection, and how settings make one.

Azure DevOps has no per-repository deploy keys, so the host is no bot.ports.DeployKeys: bot.git_capabilities
refuses them, saying to use HTTPS with a rotated credential or workload identity.
"""

from __future__ import annotations

from bot.models import Secret
from bot.settings import Settings
from workers.ado_host.files import AzureDevOpsFiles
from workers.ado_host.pulls import AzureDevOpsPullRequests
from workers.ado_host.statuses import AzureDevOpsStatuses


class AzureDevOpsHost(AzureDevOpsStatuses, AzureDevOpsPullRequests, AzureDevOpsFiles):
    """One Azure DevOps organization as fluxops' Git host: commit statuses, pull requests, repository files."""


def ado_host_from_settings(settings: Settings) -> AzureDevOpsHost | None:
    """The Azure DevOps host of the worker, or None when ADO_ORG_URL or ADO_TOKEN is not set."""
    if not settings.ado_org_url or settings.ado_token is None:
        return None
    return AzureDevOpsHost(org_url=settings.ado_org_url, token=Secret(settings.ado_token.get_secret_value()))
