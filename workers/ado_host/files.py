"""bot.ports.RepositoryFiles for Azure DevOps: the repository by its id, its YAML files, commit ancestry."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from bot.gitevents import AZURE_DEVOPS, RepoRef
from workers.ado_host.connection import AzureDevOpsConnection
from workers.yaml_tree import TreeEntry, read_yaml_tree

_FULL_SHA = re.compile(r"^[0-9a-fA-F]{40}$")


class AzureDevOpsFiles(AzureDevOpsConnection):
    """An Azure DevOps repository's identity, files and history."""

    def repository(self, repo: RepoRef) -> RepoRef:
        """The repository by its id (GUID), read at the organization level: neither the project nor the URL
        an event named is trusted for it."""
        url = self.repository_url(repo)
        body = self.call("GET", url, f"reading repository {repo.id or repo.full_name} of {self.org_url}")
        assert body is not None
        project = body.get("project") or {}
        name, project_name = str(body.get("name") or ""), str(project.get("name") or "")
        default = str(body.get("defaultBranch") or "").removeprefix("refs/heads/")
        return RepoRef(
            provider=AZURE_DEVOPS,
            full_name=f"{self.org}/{project_name}/{name}" if name and project_name else "",
            url=_without_user(str(body.get("remoteUrl") or "")),
            id=str(body.get("id") or ""),
            default_branch=default or repo.default_branch,
        )

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        doing = f"reading {path or '/'} at {ref} of {repo.label}"
        version = _version(ref)

        def listing(where: str) -> list[TreeEntry[str]] | None:
            # the whole tree below ``where`` at once: its folders need no listing of their own
            listed = self.call(
                "GET",
                self.repo_url(repo, "items"),
                doing,
                params={"scopePath": "/" + where, "recursionLevel": "Full", **version},
                missing_ok=True,
            )
            if listed is None:
                return None
            items = [i for i in listed.get("value", []) if isinstance(i, dict)]
            return [
                TreeEntry(str(i["path"]), bool(i.get("isFolder")), str(i["path"]))
                for i in items
                if i.get("isFolder") or i.get("gitObjectType", "blob") == "blob"
            ]

        def read(entry: TreeEntry[str]) -> str | None:
            item = self.call(
                "GET",
                self.repo_url(repo, "items"),
                f"reading {entry.handle} at {ref} of {repo.label}",
                params={"path": entry.handle, "includeContent": "true", **version},
                missing_ok=True,
            )
            content = item.get("content") if item is not None else None
            return content if isinstance(content, str) else None

        return read_yaml_tree(path, listing=listing, read=read)

    def is_ancestor(self, repo: RepoRef, ancestor: str, descendant: str) -> bool:
        if ancestor.lower() == descendant.lower():
            return True
        doing = f"comparing commits {ancestor[:12]} and {descendant[:12]} of {repo.label}"
        params = {
            "baseVersion": ancestor,
            "baseVersionType": "commit",
            "targetVersion": descendant,
            "targetVersionType": "commit",
            "$top": "1",
        }
        body = self.call("GET", self.repo_url(repo, "diffs/commits"), doing, params=params, missing_ok=True)
        if body is None:
            return False  # a commit the repository does not have contains nothing and is in nothing
        base = str(body.get("baseCommit") or ancestor).lower()
        # The merge base of an ancestor and its descendant is the ancestor itself.
        return str(body.get("commonCommit") or "").lower() == base or body.get("behindCount") == 0


def _version(ref: str) -> dict[str, str]:
    kind = "commit" if _FULL_SHA.match(ref) else "branch"
    return {"versionDescriptor.version": ref, "versionDescriptor.versionType": kind}


def _without_user(url: str) -> str:
    """``remoteUrl`` without the user name Azure DevOps puts in it (``https://org@dev.azure.com/...``)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
