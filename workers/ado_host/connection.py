"""The connection every Azure DevOps capability of fluxops shares: one ``requests.Session``, URLs, errors.

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

The capabilities are in statuses.py, pulls.py and files.py (Azure DevOps has no deploy keys), all together
in host.py. ``permission`` reads a person's (and their groups') ACEs on the repository's token
``repoV2/{project}/{repo}``, else on the project's ``repoV2/{project}``, with the effective bits Azure DevOps
computes: Administer is
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
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from bot import errors
from bot.git_host import CommentRef
from bot.gitevents import AZURE_DEVOPS, RepoRef
from bot.models import Secret
from workers.git_http_errors import Refusal, Wording, classify, host_error, retry_after

log = logging.getLogger(__name__)

API_VERSION = "7.1"
#: what a PAT needs for everything this adapter does
SCOPES = "Code (Read & status), Pull Request Threads (Read & write), Identity (Read) and Security (Read)"
#: item and commit lookups that mean "nothing there", as opposed to "no such repository"
_MISSING_CONTENT = ("GitItemNotFoundException", "GitUnresolvableToCommitException", "GitCommitDoesNotExistException")

#: Azure DevOps' words for each refusal; fields: doing, status, said, detail, org_url, scopes
_WORDING: Wording = {
    Refusal.UNREACHABLE: (
        "{doing}: Azure DevOps could not be reached ({said})",
        "fluxops retries; if it persists check the network path to {org_url}",
    ),
    Refusal.UNAUTHENTICATED: (
        "{doing}: Azure DevOps did not accept ADO_TOKEN (HTTP {status})",
        "check that ADO_TOKEN is a current personal access token for {org_url} with the scopes {scopes}",
    ),
    Refusal.FORBIDDEN: (
        "{doing}: {said}",
        "give the ADO_TOKEN's identity access to the project and the token the scopes {scopes}",
    ),
    Refusal.NOT_FOUND: (
        "{doing}: {said}",
        "check that it exists in {org_url} and that the ADO_TOKEN's identity can read it",
    ),
    Refusal.THROTTLED: (
        "{doing}: Azure DevOps is throttling fluxops",
        "fluxops retries after the time Azure DevOps asks for",
    ),
    Refusal.UNAVAILABLE: (
        "{doing}: Azure DevOps failed (HTTP {status}){detail}",
        "a transient failure of Azure DevOps; fluxops retries with backoff",
    ),
    Refusal.CONFLICT: ("{doing}: {said}", ""),
    Refusal.INVALID: (
        "{doing}: Azure DevOps refused the request (HTTP {status}){detail}",
        "this is a fluxops bug if it persists; report it with the message above",
    ),
}
#: what a refusal is called when Azure DevOps gave no message
_SAID = {Refusal.FORBIDDEN: "access denied", Refusal.NOT_FOUND: "not found", Refusal.CONFLICT: "conflict"}


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


class AzureDevOpsConnection:
    """fluxops' access to one Azure DevOps organization: what each Azure DevOps capability builds on.

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
        return f"{type(self).__name__}(org_url={self.org_url!r})"

    def my_id(self) -> str | None:
        """The identity id of the PAT's owner (``connectionData``), or None when it cannot be read."""
        if self._me is None:
            try:
                body = self.call("GET", f"{self.org_url}/_apis/connectionData", "finding who the ADO_TOKEN is")
            except errors.FluxopsError as exc:
                log.warning("could not read the Azure DevOps identity of ADO_TOKEN: %s", exc.message)
                return None
            user = (body or {}).get("authenticatedUser") or {}
            self._me = str(user.get("id") or "").lower() or None
        return self._me

    def repo_url(self, repo: RepoRef, tail: str) -> str:
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

    def pr_url(self, repo: RepoRef, number: int, tail: str = "") -> str:
        return self.repo_url(repo, f"pullrequests/{int(number)}" + (f"/{tail}" if tail else ""))

    def comment_url(self, repo: RepoRef, number: int, ref: CommentRef, tail: str = "") -> str:
        if not ref.thread_id:
            raise errors.InvalidRequest(
                f"comment {ref.id} of pull request !{number} of {repo.label} names no thread",
                recommendation="an Azure DevOps comment is addressed by its thread and its id",
            )
        path = f"threads/{quote(ref.thread_id)}/comments/{quote(ref.id)}" + (f"/{tail}" if tail else "")
        return self.pr_url(repo, number, path)

    def call(
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
                error = host_error(
                    Refusal.UNREACHABLE, _WORDING, code="", doing=doing, said=type(exc).__name__, org_url=self.org_url
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
        refusal = classify(status, conflict_retries=True)
        type_key = _type_key(response)
        code = (type_key or str(status)) if refusal in (Refusal.NOT_FOUND, Refusal.INVALID) else str(status)
        return host_error(
            refusal,
            _WORDING,
            code=code,
            retry_after=retry_after(response.headers),
            doing=doing,
            status=status,
            said=message or _SAID.get(refusal, ""),
            detail=f": {message}" if message else "",
            org_url=self.org_url,
            scopes=SCOPES,
        )

    def repository_url(self, repo: RepoRef) -> str:
        """The repository by its id at the organization level (by project and name when there is no id)."""
        if repo.id:
            return f"{self.org_url}/_apis/git/repositories/{quote(repo.id)}"
        return self.repo_url(repo, "").rstrip("/")


# -- helpers ------------------------------------------------------------------------------------------


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


def unique_name(identity: Any) -> str:
    """How Azure DevOps names a person: unique name (e-mail), else display name; "" when it does not."""
    if not isinstance(identity, dict):
        return ""
    return str(identity.get("uniqueName") or identity.get("displayName") or "")


def ado_time(value: Any) -> datetime | None:
    """An Azure DevOps date (7 fractional digits, ``Z``) as an aware datetime; None when unreadable."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def property_value(identity: dict[str, Any], name: str) -> str:
    """A property of an identity or a thread (``{"$value": ...}`` or plain), as text."""
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
