"""``AzureDevOpsHost``: the ``bot.ports.GitHost`` of Azure DevOps, over its REST API 7.1 with ``requests``.

Why not Microsoft's ``azure-devops`` package: it installs, but it discovers every route with an
``OPTIONS`` call and caches the answers under the user's home directory, it rides on the deprecated
``msrest``, it is untyped, and its errors drop the HTTP status and the ``Retry-After`` header that the
job layer needs to back off. A handful of documented routes over one ``requests.Session`` is simpler.

What is used, all under ``ADO_ORG_URL`` (``https://dev.azure.com/{org}``) with ``api-version=7.1``:

- ``_apis/git/repositories/{id}``: the repository by its id (what a webhook named is checked against it)
- ``{project}/_apis/git/repositories/{repo}/pullrequests/{id}`` (+ ``/threads``, ``/comments``, ``/likes``,
  ``/iterations``: the pushes, ``/commits``: who wrote them)
- ``{project}/_apis/git/repositories/{repo}/commits/{sha}/statuses``
- ``{project}/_apis/git/repositories/{repo}/items`` and ``/diffs/commits``
- ``_apis/connectionData`` (who the PAT is) and ``_apis/identities`` (on ``vssps.dev.azure.com``
  for the cloud service): who a person is, and the groups they are in
- ``_apis/accesscontrollists/2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87``: the Git Repositories security namespace

``permission`` reads a person's (and their groups') ACEs on the repository's token ``repoV2/{project}/{repo}``,
else on the project's ``repoV2/{project}``, with the effective bits Azure DevOps computes: Administer is
ADMIN, Contribute WRITE, Read READ, an explicit deny wins. A member of the organization without Contribute
is not a writer. Votes carry no time in the reviewer list: ``pull_request`` takes it from the vote's
``VoteUpdate`` system thread, and a vote covers the source commit of the newest push before it; a vote
with no such thread covers no commit (and never counts as an approval of the head).

The personal access token (scopes: Code (Read & status), Pull Request Threads (Read & write), Identity
(Read), Security (Read)) is held in a ``Secret`` and goes out only as the Basic credential of a request;
it is never logged or put in an error.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from bot import errors
from bot.git_host import (
    STATUS_DESCRIPTION_LIMIT,
    CheckRun,
    CommentInfo,
    CommentRef,
    CommitStatus,
    Permission,
    PullRequestInfo,
    Review,
    StatusState,
    Verdict,
)
from bot.gitevents import AZURE_DEVOPS, RepoRef
from bot.models import Secret
from bot.settings import Settings

log = logging.getLogger(__name__)

API_VERSION = "7.1"
#: what a PAT needs for everything this adapter does
SCOPES = "Code (Read & status), Pull Request Threads (Read & write), Identity (Read) and Security (Read)"
_STATES = {
    StatusState.PENDING: "pending",
    StatusState.SUCCESS: "succeeded",
    StatusState.FAILURE: "failed",
    StatusState.ERROR: "error",
}
_PR_STATES = {"active": "open", "completed": "merged", "abandoned": "closed"}
_FULL_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
#: item and commit lookups that mean "nothing there", as opposed to "no such repository"
_MISSING_CONTENT = ("GitItemNotFoundException", "GitUnresolvableToCommitException", "GitCommitDoesNotExistException")
_YAML = (".yaml", ".yml")
#: the Git Repositories security namespace and the bits fluxops reads from it
GIT_NAMESPACE = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
GIT_ADMINISTER, GIT_READ, GIT_CONTRIBUTE = 1, 2, 4


class _PatAuth(requests.auth.AuthBase):
    """Basic auth with an empty user and the PAT as password; prints nothing of the token."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        raw = base64.b64encode(f":{self._token.reveal()}".encode()).decode()
        request.headers["Authorization"] = f"Basic {raw}"
        return request

    def __repr__(self) -> str:
        return "_PatAuth(**********)"


class AzureDevOpsHost:
    """One Azure DevOps organization, as fluxops' Git host.

    ``retries`` bounds how often an idempotent call is tried again after a 429, a 5xx or a connection
    error, sleeping ``backoff`` seconds doubled each time (or the server's Retry-After when it is at most
    ``max_wait``); what is still failing then leaves as a retryable error for the job layer.
    """

    provider = AZURE_DEVOPS

    def __init__(
        self,
        *,
        org_url: str,
        token: Secret | str,
        timeout: float = 20.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_wait: float = 10.0,
        identities_url: str | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        parts = urlsplit(self.org_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise errors.ConfigurationError(
                f"ADO_ORG_URL {org_url!r} is not an organization URL",
                recommendation="set it to https://dev.azure.com/<organization>",
            )
        self.org = parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc.split(".", 1)[0]
        self.identities_url = (identities_url or _identities_url(self.org_url)).rstrip("/")
        self._token = token if isinstance(token, Secret) else Secret(token)
        self._timeout = (min(timeout, 10.0), timeout)
        self._retries = max(0, retries)
        self._backoff = backoff
        self._max_wait = max_wait
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.auth = _PatAuth(self._token)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "fluxops"})
        self._me: str | None = None
        self._ids_seen: dict[str, tuple[str, str]] = {}  # repository id (or name) -> (project id, repository id)

    def __repr__(self) -> str:
        return f"AzureDevOpsHost(org_url={self.org_url!r})"

    # -- statuses -----------------------------------------------------------------------------------

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        genre, _, name = status.context.partition("/")
        if not name:
            genre, name = "fluxops", status.context
        description = status.description
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
        body: dict[str, Any] = {
            "state": _STATES[status.state],
            "description": description,
            "context": {"genre": genre, "name": name},
        }
        if status.target_url:
            body["targetUrl"] = status.target_url
        self._call(
            "POST",
            self._repo_url(repo, f"commits/{quote(sha)}/statuses"),
            f"setting status {status.context!r} on commit {sha[:12]} of {repo.label}",
            json=body,
            idempotent=True,  # the latest status per context wins: sending it twice changes nothing
        )

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        return None  # check runs are GitHub's; Azure DevOps shows the per-configuration statuses

    # -- repository contents ---------------------------------------------------------------------------

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
        body = self._call("GET", self._repo_url(repo, "diffs/commits"), doing, params=params, missing_ok=True)
        if body is None:
            return False  # a commit the repository does not have contains nothing and is in nothing
        base = str(body.get("baseCommit") or ancestor).lower()
        # The merge base of an ancestor and its descendant is the ancestor itself.
        return str(body.get("commonCommit") or "").lower() == base or body.get("behindCount") == 0

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        doing = f"reading {path or '/'} at {ref} of {repo.label}"
        version = _version(ref)
        scope = "/" + path.strip("/")
        listing = self._call(
            "GET",
            self._repo_url(repo, "items"),
            doing,
            params={"scopePath": scope, "recursionLevel": "Full", **version},
            missing_ok=True,
        )
        if listing is None:
            return {}
        items = [i for i in listing.get("value", []) if isinstance(i, dict)]
        blobs = [str(i["path"]) for i in items if not i.get("isFolder") and i.get("gitObjectType", "blob") == "blob"]
        only_file = len(items) == 1 and not items[0].get("isFolder")
        wanted = blobs if only_file else [p for p in blobs if p.lower().endswith(_YAML)]
        files: dict[str, str] = {}
        for item_path in wanted:
            item = self._call(
                "GET",
                self._repo_url(repo, "items"),
                f"reading {item_path} at {ref} of {repo.label}",
                params={"path": item_path, "includeContent": "true", **version},
                missing_ok=True,
            )
            if item is not None and isinstance(item.get("content"), str):
                files[item_path.lstrip("/")] = item["content"]
        return files

    # -- pull requests ----------------------------------------------------------------------------------

    def repository(self, repo: RepoRef) -> RepoRef:
        """The repository by its id (GUID), read at the organization level: neither the project nor the URL
        an event named is trusted for it."""
        url = self._repository_url(repo)
        body = self._call("GET", url, f"reading repository {repo.id or repo.full_name} of {self.org_url}")
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

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo:
        body = self._call("GET", self._pr_url(repo, number), f"reading pull request !{number} of {repo.label}")
        assert body is not None
        reviewers = [r for r in body.get("reviewers") or [] if isinstance(r, dict) and not r.get("isContainer")]
        repository = body.get("repository") or {}
        web = str(repository.get("webUrl") or repository.get("remoteUrl") or "")
        head = str((body.get("lastMergeSourceCommit") or {}).get("commitId") or "")
        reviews = self._reviews(repo, number, reviewers) if reviewers else ()
        state = _PR_STATES.get(str(body.get("status")), "closed")
        merged = state == "merged"
        return PullRequestInfo(
            number=int(body.get("pullRequestId", number)),
            state=state,
            head_sha=head,
            head_branch=_branch(str(body.get("sourceRefName") or "")),
            base_branch=_branch(str(body.get("targetRefName") or "")),
            author=_unique_name(body.get("createdBy")),
            from_fork=bool(body.get("forkSource")),
            approved_by=tuple(
                r.user for r in reviews if r.verdict is Verdict.APPROVED and head and r.commit.lower() == head.lower()
            ),
            changes_requested_by=tuple(r.user for r in reviews if r.verdict is Verdict.CHANGES_REQUESTED),
            title=str(body.get("title") or ""),
            url=f"{web}/pullrequest/{number}" if web else "",
            reviews=reviews,
            merged_by=_unique_name(body.get("closedBy")) if merged else "",
            merge_commit=str((body.get("lastMergeCommit") or {}).get("commitId") or "") if merged else "",
        )

    def _reviews(self, repo: RepoRef, number: int, reviewers: list[dict[str, Any]]) -> tuple[Review, ...]:
        """Each voter's verdict, with the commit it covers: the reviewer list has no times, so the vote's time
        comes from its ``VoteUpdate`` system thread and the commit from the iteration (push) newest then."""
        threads = self._call(
            "GET", self._pr_url(repo, number, "threads"), f"reading the votes on pull request !{number} of {repo.label}"
        )
        voted: dict[tuple[str, str], datetime] = {}  # (identity id, vote) -> when it was last cast
        for thread in (threads or {}).get("value") or []:
            if not isinstance(thread, dict) or _property(thread, "CodeReviewThreadType") != "VoteUpdate":
                continue
            who = _voter(thread)
            when = _when(thread.get("publishedDate"))
            key = (who, _property(thread, "CodeReviewVoteResult"))
            if who and when is not None and (key not in voted or when > voted[key]):
                voted[key] = when
        listed = self._call(
            "GET",
            self._pr_url(repo, number, "iterations"),
            f"reading the pushes to pull request !{number} of {repo.label}",
        )
        pushes = sorted(
            (when, str((i.get("sourceRefCommit") or {}).get("commitId") or ""))
            for i in (listed or {}).get("value") or []
            if isinstance(i, dict) and (when := _when(i.get("createdDate"))) is not None
        )
        found: list[Review] = []
        for reviewer in reviewers:
            vote = int(reviewer.get("vote") or 0)
            if vote == 0:
                continue
            verdict = Verdict.APPROVED if vote >= 5 else Verdict.CHANGES_REQUESTED
            cast = voted.get((str(reviewer.get("id") or "").lower(), str(vote)))
            # the newest push strictly before the vote: a vote in the same instant as a push is not on it
            commit = "" if cast is None else next((sha for when, sha in reversed(pushes) if when < cast), "")
            found.append(Review(_unique_name(reviewer), verdict, commit))
        return tuple(sorted(found, key=lambda r: r.user.casefold()))

    def pull_request_authors(self, repo: RepoRef, number: int) -> frozenset[str]:
        doing = f"reading the commits of pull request !{number} of {repo.label}"
        people: set[str] = set()
        commits = self._call("GET", self._pr_url(repo, number, "commits"), doing, params={"$top": "1000"})
        for commit in (commits or {}).get("value") or []:
            for role in ("author", "committer"):
                person = commit.get(role) if isinstance(commit, dict) else None
                if isinstance(person, dict) and person.get("email"):
                    people.add(str(person["email"]).casefold())
        pushes = self._call("GET", self._pr_url(repo, number, "iterations"), doing)
        for iteration in (pushes or {}).get("value") or []:
            if not isinstance(iteration, dict):
                continue
            for who in ((iteration.get("push") or {}).get("pushedBy"), iteration.get("author")):
                name = _unique_name(who)
                if name:
                    people.add(name.casefold())
        return frozenset(people)

    def permission(self, repo: RepoRef, user: str) -> Permission:
        """The user's Git permissions on the repository, from the Git security namespace: Administer is
        ADMIN, Contribute WRITE, Read READ; an explicit deny (theirs or a group's) wins over an allow."""
        wanted = user.strip().casefold()
        if not wanted:
            return Permission.NONE
        body = self._call(
            "GET",
            f"{self.identities_url}/_apis/identities",
            f"looking up {user!r} in Azure DevOps organization {self.org}",
            params={"searchFilter": "General", "filterValue": user, "queryMembership": "Expanded"},
            idempotent=True,
        )
        descriptors: list[str] = []
        for identity in (body or {}).get("value") or []:
            if not isinstance(identity, dict) or identity.get("isContainer") or identity.get("isActive") is False:
                continue
            names = {_property(identity, "Account"), _property(identity, "Mail"), str(identity.get("uniqueName") or "")}
            if wanted in {n.casefold() for n in names if n} and identity.get("descriptor"):
                descriptors = [str(identity["descriptor"]), *(str(g) for g in identity.get("memberOf") or [] if g)]
                break
        if not descriptors:
            return Permission.NONE
        project_id, repo_id = self._ids(repo)
        allowed = 0
        # the repository's own ACL, else its project's (ADO keeps most grants there, for every repository)
        for token in (f"repoV2/{project_id}/{repo_id}", f"repoV2/{project_id}"):
            found = self._acl_bits(token, descriptors, user)
            if found is not None:
                allowed = found
                break
        if allowed & GIT_ADMINISTER:
            return Permission.ADMIN
        if allowed & GIT_CONTRIBUTE:
            return Permission.WRITE
        if allowed & GIT_READ:
            return Permission.READ
        return Permission.NONE

    def _ids(self, repo: RepoRef) -> tuple[str, str]:
        """(project id, repository id) of ``repo``, as Azure DevOps has them (kept: ids never change)."""
        key = repo.id or repo.full_name
        known = self._ids_seen.get(key)
        if known is None:
            body = self._call("GET", self._repository_url(repo), f"reading repository {key} of {self.org_url}")
            project = str(((body or {}).get("project") or {}).get("id") or "")
            known = (project, str((body or {}).get("id") or ""))
            if not all(known):
                raise errors.NotFound(
                    f"reading repository {key} of {self.org_url}: Azure DevOps gave no project or repository id",
                    recommendation="check that the ADO_TOKEN's identity can read the repository",
                )
            self._ids_seen[key] = known
        return known

    def _repository_url(self, repo: RepoRef) -> str:
        """The repository by its id at the organization level (by project and name when there is no id)."""
        if repo.id:
            return f"{self.org_url}/_apis/git/repositories/{quote(repo.id)}"
        return self._repo_url(repo, "").rstrip("/")

    def _acl_bits(self, token: str, descriptors: list[str], user: str) -> int | None:
        """Effective allowed bits of ``descriptors`` on ``token`` (deny wins); None when no ACE names them."""
        body = self._call(
            "GET",
            f"{self.org_url}/_apis/accesscontrollists/{GIT_NAMESPACE}",
            f"reading {user}'s Git permissions ({token})",
            params={"token": token, "descriptors": ",".join(descriptors), "includeExtendedInfo": "true"},
            idempotent=True,
        )
        allow = deny = 0
        seen = False
        for acl in (body or {}).get("value") or []:
            if not isinstance(acl, dict) or str(acl.get("token") or "").lower() != token.lower():
                continue
            for ace in (acl.get("acesDictionary") or {}).values():
                if not isinstance(ace, dict):
                    continue
                seen = True
                extended = ace.get("extendedInfo") or {}
                allow |= int(extended.get("effectiveAllow", ace.get("allow")) or 0)
                deny |= int(extended.get("effectiveDeny", ace.get("deny")) or 0)
        return allow & ~deny if seen else None

    # -- comments ---------------------------------------------------------------------------------------

    def comment(self, repo: RepoRef, number: int, body: str, *, reply_to: CommentRef | None = None) -> CommentRef:
        if reply_to is not None and reply_to.thread_id:
            created = self._call(
                "POST",
                self._pr_url(repo, number, f"threads/{quote(reply_to.thread_id)}/comments"),
                f"replying in thread {reply_to.thread_id} of pull request !{number} of {repo.label}",
                json={"content": body, "parentCommentId": 1, "commentType": 1},
                idempotent=False,
            )
            assert created is not None
            return CommentRef(id=str(created["id"]), thread_id=reply_to.thread_id)
        thread = self._call(
            "POST",
            self._pr_url(repo, number, "threads"),
            f"commenting on pull request !{number} of {repo.label}",
            json={"comments": [{"parentCommentId": 0, "content": body, "commentType": 1}], "status": 1},
            idempotent=False,
        )
        assert thread is not None
        first = (thread.get("comments") or [{"id": 1}])[0]
        return CommentRef(id=str(first["id"]), thread_id=str(thread["id"]))

    def edit_comment(self, repo: RepoRef, number: int, ref: CommentRef, body: str) -> None:
        self._call(
            "PATCH",
            self._comment_url(repo, number, ref),
            f"editing comment {ref.id} of pull request !{number} of {repo.label}",
            json={"content": body},
        )

    def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        doing = f"looking for fluxops' comment on pull request !{number} of {repo.label}"
        body = self._call("GET", self._pr_url(repo, number, "threads"), doing)
        me = self._my_id()
        for thread in (body or {}).get("value") or []:
            if not isinstance(thread, dict) or thread.get("isDeleted"):
                continue
            for comment in thread.get("comments") or []:
                if comment.get("isDeleted") or marker not in str(comment.get("content") or ""):
                    continue
                # Someone quoting the plan carries the marker too: only our own comment is ours to edit.
                if me is None or str((comment.get("author") or {}).get("id") or "").lower() == me:
                    return CommentRef(id=str(comment["id"]), thread_id=str(thread["id"]))
        return None

    def get_comment(self, repo: RepoRef, number: int, ref: CommentRef) -> CommentInfo:
        body = self._call(
            "GET",
            self._comment_url(repo, number, ref),
            f"reading comment {ref.id} of pull request !{number} of {repo.label}",
        )
        assert body is not None
        if body.get("isDeleted"):
            raise errors.NotFound(
                f"reading comment {ref.id} of pull request !{number} of {repo.label}: the comment was deleted",
                recommendation="nothing to do: a deleted comment runs nothing",
            )
        published, edited = _when(body.get("publishedDate")), _when(body.get("lastContentUpdatedDate"))
        return CommentInfo(
            ref=ref,
            author=_unique_name(body.get("author")),
            body=str(body.get("content") or ""),
            published=published.timestamp() if published else 0.0,
            edited=edited.timestamp() if edited else 0.0,
        )

    def acknowledge(self, repo: RepoRef, number: int, ref: CommentRef) -> None:
        self._call(
            "POST",
            self._comment_url(repo, number, ref, "likes"),
            f"liking comment {ref.id} of pull request !{number} of {repo.label}",
            idempotent=True,
        )

    # -- deploy keys (none on Azure DevOps) --------------------------------------------------------------

    def add_deploy_key(self, repo: RepoRef, title: str, public_key: str) -> int:
        raise _no_deploy_keys(f"adding deploy key '{title}' to {repo.label}")

    def remove_deploy_key(self, repo: RepoRef, key_id: int) -> bool:
        raise _no_deploy_keys(f"removing deploy key {key_id} from {repo.label}")

    def deploy_key_ids(self, repo: RepoRef) -> dict[int, str]:
        return {}  # nothing can be registered on a repository, so nothing is

    def ssh_host_keys(self) -> list[str]:
        raise _no_deploy_keys(f"reading the SSH host keys of {self.org_url}")

    # -- plumbing ---------------------------------------------------------------------------------------

    def _my_id(self) -> str | None:
        """The identity id of the PAT's owner (``connectionData``), or None when it cannot be read."""
        if self._me is None:
            try:
                body = self._call("GET", f"{self.org_url}/_apis/connectionData", "finding who the ADO_TOKEN is")
            except errors.FluxopsError as exc:
                log.warning("could not read the Azure DevOps identity of ADO_TOKEN: %s", exc.message)
                return None
            user = (body or {}).get("authenticatedUser") or {}
            self._me = str(user.get("id") or "").lower() or None
        return self._me

    def _repo_url(self, repo: RepoRef, tail: str) -> str:
        parts = repo.full_name.split("/")
        if len(parts) != 3:
            raise errors.InvalidRequest(
                f"{repo.full_name!r} is not an Azure DevOps repository name",
                recommendation="Azure DevOps repositories are named organization/project/repository",
            )
        org, project, name = parts
        if org.casefold() != self.org.casefold():
            raise errors.ConfigurationError(
                f"repository {repo.full_name} belongs to organization {org!r}, but ADO_ORG_URL is {self.org_url}",
                recommendation="point ADO_ORG_URL at that organization, or subscribe its service hooks to fluxops",
            )
        ident = repo.id or name
        return f"{self.org_url}/{quote(project)}/_apis/git/repositories/{quote(ident)}/{tail}"

    def _pr_url(self, repo: RepoRef, number: int, tail: str = "") -> str:
        return self._repo_url(repo, f"pullrequests/{int(number)}" + (f"/{tail}" if tail else ""))

    def _comment_url(self, repo: RepoRef, number: int, ref: CommentRef, tail: str = "") -> str:
        if not ref.thread_id:
            raise errors.InvalidRequest(
                f"comment {ref.id} of pull request !{number} of {repo.label} names no thread",
                recommendation="an Azure DevOps comment is addressed by its thread and its id",
            )
        path = f"threads/{quote(ref.thread_id)}/comments/{quote(ref.id)}" + (f"/{tail}" if tail else "")
        return self._pr_url(repo, number, path)

    def _call(
        self,
        method: str,
        url: str,
        doing: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        """Send one request, retrying an idempotent one within bounds; the JSON answer, or a bot error.

        ``missing_ok``: a 404 for an item or commit (not for the repository) answers None.
        """
        retry = (method in ("GET", "PATCH")) if idempotent is None else idempotent
        query = {"api-version": API_VERSION, **(params or {})}
        attempt = 0
        while True:
            try:
                response = self._session.request(
                    method, url, params=query, json=json, timeout=self._timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                error: errors.FluxopsError = errors.ServiceUnavailable(
                    f"{doing}: Azure DevOps could not be reached ({type(exc).__name__})",
                    recommendation=f"fluxops retries; if it persists check the network path to {self.org_url}",
                )
            else:
                if 200 <= response.status_code < 300 and response.status_code != 203:
                    return _json(response)
                if missing_ok and response.status_code == 404 and _type_key(response) in _MISSING_CONTENT:
                    return None
                error = self._error(response, doing)
            attempt += 1
            wait = error.retry_after if error.retry_after is not None else self._backoff * 2 ** (attempt - 1)
            if not (retry and error.retryable and attempt <= self._retries and wait <= self._max_wait):
                raise error
            log.info("%s: %s; trying again in %.1fs", doing, error.message, wait)
            self._sleep(wait)

    def _error(self, response: requests.Response, doing: str) -> errors.FluxopsError:
        status = response.status_code
        message = _message(response)
        if status in (203, 401) or 300 <= status < 400:
            # 203 and redirects are Azure DevOps sending an unauthenticated caller to its sign-in page.
            return errors.Unauthorized(
                f"{doing}: Azure DevOps did not accept ADO_TOKEN (HTTP {status})",
                recommendation=f"check that ADO_TOKEN is a current personal access token for {self.org_url} "
                f"with the scopes {SCOPES}",
                code=str(status),
            )
        if status == 403:
            return errors.Unauthorized(
                f"{doing}: {message or 'access denied'}",
                recommendation=f"give the ADO_TOKEN's identity access to the project and the token the scopes {SCOPES}",
                code="403",
            )
        if status == 404:
            return errors.NotFound(
                f"{doing}: {message or 'not found'}",
                recommendation=f"check that it exists in {self.org_url} and that the ADO_TOKEN's identity can read it",
                code=_type_key(response) or "404",
            )
        retry_after = _retry_after(response)
        if status == 429:
            return errors.Throttled(
                f"{doing}: Azure DevOps is throttling fluxops",
                recommendation="fluxops retries after the time Azure DevOps asks for",
                code="429",
                retry_after=retry_after,
            )
        if status >= 500:
            return errors.ServiceUnavailable(
                f"{doing}: Azure DevOps failed (HTTP {status}){': ' + message if message else ''}",
                recommendation="a transient failure of Azure DevOps; fluxops retries with backoff",
                code=str(status),
                retry_after=retry_after,
            )
        if status == 409:
            return errors.Conflict(f"{doing}: {message or 'conflict'}", code="409", retry_after=retry_after)
        return errors.InvalidRequest(
            f"{doing}: Azure DevOps refused the request (HTTP {status}){': ' + message if message else ''}",
            recommendation="this is a fluxops bug if it persists; report it with the message above",
            code=_type_key(response) or str(status),
        )


def ado_host_from_settings(settings: Settings) -> AzureDevOpsHost | None:
    """The Azure DevOps host of the worker, or None when ADO_ORG_URL or ADO_TOKEN is not set."""
    if not settings.ado_org_url or settings.ado_token is None:
        return None
    return AzureDevOpsHost(org_url=settings.ado_org_url, token=Secret(settings.ado_token.get_secret_value()))


# -- helpers ------------------------------------------------------------------------------------------


def _no_deploy_keys(doing: str) -> errors.InvalidRequest:
    return errors.InvalidRequest(
        f"{doing}: Azure DevOps has no per-repository deploy keys, and no API to add SSH keys "
        "(an SSH key there belongs to a person and gives all their access)",
        recommendation="use HTTPS with a credential fluxops holds (`--https-user USER --https-key-ref REF`, "
        "rotated with `/flux key rotate --https-key-ref REF`), or `--provider azure` (workload identity)",
    )


def _identities_url(org_url: str) -> str:
    """Where the organization's identities are served: vssps for the cloud, the collection on a server."""
    parts = urlsplit(org_url)
    host = (parts.hostname or "").lower()
    org = parts.path.strip("/").split("/")[0] if parts.path.strip("/") else ""
    if host == "dev.azure.com":
        return f"https://vssps.dev.azure.com/{org}"
    if host.endswith(".visualstudio.com"):
        return f"https://{host.split('.', 1)[0]}.vssps.visualstudio.com"
    return org_url


def _version(ref: str) -> dict[str, str]:
    kind = "commit" if _FULL_SHA.match(ref) else "branch"
    return {"versionDescriptor.version": ref, "versionDescriptor.versionType": kind}


def _branch(ref_name: str) -> str:
    return ref_name.removeprefix("refs/heads/")


def _unique_name(identity: Any) -> str:
    if not isinstance(identity, dict):
        return ""
    return str(identity.get("uniqueName") or identity.get("displayName") or "")


def _when(value: Any) -> datetime | None:
    """An Azure DevOps date (7 fractional digits, ``Z``) as an aware datetime; None when unreadable."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _without_user(url: str) -> str:
    """``remoteUrl`` without the user name Azure DevOps puts in it (``https://org@dev.azure.com/...``)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _voter(thread: dict[str, Any]) -> str:
    """The id (lower case) of who voted in a ``VoteUpdate`` thread: its ``CodeReviewVotedByIdentity`` property
    is a key into the thread's ``identities``; "" when the thread does not say."""
    key = _property(thread, "CodeReviewVotedByIdentity")
    identities = thread.get("identities") or {}
    voter = identities.get(key) if isinstance(identities, dict) else None
    return str(voter.get("id") or "").lower() if isinstance(voter, dict) else ""


def _property(identity: dict[str, Any], name: str) -> str:
    value = (identity.get("properties") or {}).get(name)
    if isinstance(value, dict):
        return str(value.get("$value") or "")
    return str(value or "")


def _json(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"value": body}


def _type_key(response: requests.Response) -> str:
    return str(_json(response).get("typeKey") or "")


def _message(response: requests.Response) -> str:
    message = str(_json(response).get("message") or "").strip()
    return message[:500]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
