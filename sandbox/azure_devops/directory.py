"""The organization itself: its identity, members, and permissions in the Git security namespace.

:class:`OrgDirectory` also sets up the state the layers above keep (:mod:`~sandbox.azure_devops.repositories`
for repositories and git, :mod:`~sandbox.azure_devops.state` for pull requests, threads and statuses).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sandbox.azure_devops import payloads
from sandbox.azure_devops.records import AdoError, PullRequest, Repo, Status
from sandbox.gitrepos import RepoStore

_GIT_AUTHOR = ("fluxops sandbox", "sandbox@fluxops.invalid")
#: the Git Repositories security namespace and its permission bits (Azure DevOps' own numbers)
GIT_NAMESPACE = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
GIT_BITS = {
    "Administer": 1,
    "GenericRead": 2,
    "GenericContribute": 4,
    "ForcePush": 8,
    "CreateBranch": 16,
    "CreateTag": 32,
    "ManageNote": 64,
    "PolicyExempt": 128,
    "PullRequestContribute": 16384,
}
#: how an identity is named in ACLs (``descriptor`` of the identities API)
DESCRIPTOR_PREFIX = "Microsoft.IdentityModel.Claims.ClaimsIdentity;"


def git_token(project_id: str, repo_id: str | None = None) -> str:
    """The security token of a project's repositories (``repoV2/{projectId}``) or of one of them."""
    return f"repoV2/{project_id}" + (f"/{repo_id}" if repo_id else "")


def bits(names: Any) -> int:
    """Permission names (or a number) to the namespace's bits."""
    if isinstance(names, int):
        return names
    total = 0
    for name in names or ():
        if name not in GIT_BITS:
            raise AdoError(400, "InvalidArgumentValueException", f"unknown Git permission {name!r}")
        total |= GIT_BITS[name]
    return total


class OrgDirectory:
    """One Azure DevOps organization over a ``RepoStore``: who belongs to it and what they may do."""

    def __init__(self, *, name: str, store: RepoStore, members: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.store = store
        self.id = payloads.stable_id("organization", name)
        #: unique name (sign-in address) -> display name: the people the organization knows
        self.members: dict[str, str] = dict(members or {})
        self.repos: dict[str, Repo] = {}  # by repository id
        self.pulls: dict[int, PullRequest] = {}
        self.commit_statuses: dict[tuple[str, str], list[Status]] = {}
        #: who pushed a commit and when (git itself records the sandbox's one author)
        self.pushed: dict[str, tuple[str, str]] = {}
        #: Git security namespace ACLs: token -> member unique name (folded) -> (allow, deny) bits
        self.acl: dict[str, dict[str, tuple[int, int]]] = {}
        self._next_pr = 1
        self._next_thread = 1
        self._next_status = 1
        self.push_count = 0
        self._env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")},
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": _GIT_AUTHOR[0],
            "GIT_AUTHOR_EMAIL": _GIT_AUTHOR[1],
            "GIT_COMMITTER_NAME": _GIT_AUTHOR[0],
            "GIT_COMMITTER_EMAIL": _GIT_AUTHOR[1],
        }

    # -- members ------------------------------------------------------------------------------------

    def add_member(self, unique_name: str, display_name: str | None = None) -> None:
        if not unique_name.strip():
            raise AdoError(400, "InvalidArgumentValueException", "a member needs a unique name")
        self.members.setdefault(unique_name, display_name or unique_name.split("@", 1)[0])
        if display_name:
            self.members[unique_name] = display_name

    def member(self, unique_name: str) -> str | None:
        """The member's unique name as registered (case-insensitive lookup), or None."""
        wanted = unique_name.casefold()
        return next((m for m in self.members if m.casefold() == wanted), None)

    def identity(self, unique_name: str) -> dict[str, Any]:
        return payloads.identity(unique_name=unique_name, display_name=self.members.get(unique_name), org=self.name)

    def require_member(self, unique_name: str, doing: str) -> str:
        found = self.member(unique_name)
        if found is None:
            raise AdoError(
                403,
                "UnauthorizedRequestException",
                f"TF400813: The user '{unique_name}' is not authorized to access this resource ({doing}).",
            )
        return found

    # -- Git permissions (security namespace 2e9eb7ed-...) ------------------------------------------

    def effective(self, unique_name: str, token: str) -> tuple[int, int]:
        """(effectiveAllow, effectiveDeny) of a member on ``token``: explicit bits there, plus what its
        parent tokens give that the explicit ones do not override (ADO's inheritance)."""
        parts = token.split("/")
        allow = deny = 0
        for depth in range(2, len(parts) + 1):
            here_allow, here_deny = self.acl.get("/".join(parts[:depth]), {}).get(unique_name.casefold(), (0, 0))
            allow = here_allow | (allow & ~here_deny)
            deny = here_deny | (deny & ~here_allow)
        return allow, deny
