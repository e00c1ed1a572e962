"""Azure DevOps repositories in a source URL: how to recognise them, and why they take no deploy keys."""

from __future__ import annotations

import re

from bot.repo_urls import canonical_repo
from bot.usage import UsageError, code

#: Azure DevOps hosts, also in URLs ``canonical_repo`` cannot read (a path that is not org/project/_git/repo)
_ADO_HOST = re.compile(
    r"(?i)^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?"
    r"(?:ssh\.dev\.azure\.com|dev\.azure\.com|[^@/:]+\.visualstudio\.com)(?:[:/]|$)"
)
_ADO_SEGMENT = re.compile(r"^[A-Za-z0-9._~%-]+$")


def is_azure_devops(url: str) -> bool:
    """Whether ``url`` names an Azure DevOps repository, in any of its spellings."""
    found = canonical_repo(url)
    return found[0] == "dev.azure.com" if found is not None else _ADO_HOST.match(url) is not None


def ado_https_url(url: str) -> str:
    """The HTTPS spelling of an Azure DevOps repository URL, or a template when it cannot be made."""
    found = canonical_repo(url)
    parts = found[1].split("/") if found is not None else []
    if len(parts) == 3 and all(_ADO_SEGMENT.match(part) for part in parts):
        return "https://dev.azure.com/{}/{}/_git/{}".format(*parts)
    return "https://dev.azure.com/ORG/PROJECT/_git/REPO"


def no_deploy_keys_on_ado(url: str) -> UsageError:
    """The refusal of ``--deploy-key generate`` for an Azure DevOps URL, with the two ways that do work."""
    https = ado_https_url(url)
    return UsageError(
        "`--deploy-key generate` cannot work with Azure DevOps: it has no per-repository deploy keys and no API "
        "to add SSH keys.",
        hint=f"Use HTTPS with a credential fluxops holds: {code(f'-u {https} --https-user USER --https-key-ref REF')} "
        "(after you change the credential, `/flux key rotate --https-key-ref REF` hands it to the configurations); "
        f"or the cluster's workload identity: {code(f'-u {https} --provider azure')}.",
    )
