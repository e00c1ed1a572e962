"""The connection every GitHub capability of fluxops shares: PyGithub clients, authentication, errors.

Authentication is a token (``GITHUB_TOKEN``: ``Auth.Token``) or a GitHub App (``GITHUB_APP_ID`` +
``GITHUB_APP_PRIVATE_KEY``: ``Auth.AppAuth``, one client per installation; PyGithub's
``AppInstallationAuth`` keeps each installation token until shortly before it expires). Check runs
exist only for apps: with a token ``publish_check_run`` returns None and the caller posts statuses.

Retries here are few and short (5xx and connection errors on idempotent requests); anything that
still fails leaves as a ``FluxopsError`` (workers/git_http_errors.py) whose ``retryable``/``retry_after``
tell the Celery task layer whether and when to try again. Tokens never appear in messages: only GitHub's
own error text does.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import requests
from github import Auth, Github, GithubException, GithubIntegration, RateLimitExceededException
from github.Repository import Repository
from urllib3.util.retry import Retry

from bot import errors
from bot.gitevents import GITHUB, RepoRef
from bot.models import Secret
from workers.git_http_errors import Refusal, Wording, classify, host_error, retry_after

DEFAULT_API_URL = "https://api.github.com"
#: GitHub refuses comment bodies and check run texts longer than this
TEXT_LIMIT = 65_536
#: when GitHub asks us to slow down without saying for how long (secondary limits)
DEFAULT_RATE_LIMIT_WAIT = 60.0
_RETRY_STATUSES = (500, 502, 503, 504)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

_TOKEN_ADVICE = {
    401: "check GITHUB_TOKEN: it may be expired or revoked",
    403: "give the token access to {repo} with what fluxops needs (fine-grained: Commit statuses write, "
    "Contents read, Pull requests read, Issues write; classic: the repo scope)",
}
_APP_ADVICE = {
    401: "check GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, and that the app is still installed",
    403: "grant the GitHub App what fluxops needs (Checks write, Commit statuses write, Contents read, "
    "Pull requests read, Issues write), accept the new permissions on the installation, "
    "and make sure the installation includes {repo}",
}


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pem(private_key: str) -> str:
    """A PEM key as people put it in environment variables: as is, with ``\\n`` escapes, or base64."""
    key = private_key.strip()
    if "-----BEGIN" not in key:
        try:
            key = base64.b64decode(key, validate=True).decode().strip()
        except (binascii.Error, UnicodeDecodeError):
            raise errors.ConfigurationError(
                "GITHUB_APP_PRIVATE_KEY is not a PEM private key",
                recommendation="set it to the .pem file GitHub gave for the app (its text, or base64 of it)",
            ) from None
    if "\\n" in key and "\n" not in key:
        key = key.replace("\\n", "\n")
    return key


def _headers(exc: GithubException) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}


def error_text(exc: GithubException) -> str:
    """GitHub's own words for a refusal (a 422's ``errors`` details included)."""
    data = exc.data
    if isinstance(data, dict) and data.get("message"):
        # A 422 says why in ``errors`` ("Validation Failed: key is already in use").
        details = [str(e["message"]) for e in data.get("errors") or () if isinstance(e, dict) and e.get("message")]
        return str(data["message"]) + (": " + "; ".join(details) if details else "")
    return exc.message or f"HTTP {exc.status}"


def _is_rate_limit(exc: GithubException) -> bool:
    if exc.status == 429 or isinstance(exc, RateLimitExceededException):
        return True
    if exc.status != 403:
        return False
    headers = _headers(exc)
    if headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers:
        return True
    return "rate limit" in error_text(exc).lower()


def _rate_limit_wait(exc: GithubException, now: float) -> float:
    """How long GitHub wants us to wait: its Retry-After, else until its rate limit resets."""
    headers = _headers(exc)
    asked = retry_after(headers)
    if asked is not None:
        return asked
    try:
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            return max(1.0, float(headers["x-ratelimit-reset"]) - now)
    except ValueError:
        pass
    return DEFAULT_RATE_LIMIT_WAIT


#: GitHub's words for each refusal; fields: doing, status, message, wait, advice, missing, who, access, repo
_WORDING: Wording = {
    Refusal.UNREACHABLE: (
        "{doing}: GitHub could not be reached ({message})",
        "fluxops retries; if it persists check the network path and GITHUB_API_URL",
    ),
    Refusal.THROTTLED: (
        "{doing}: GitHub's rate limit was hit ({message})",
        "fluxops retries in {wait:.0f} s, when GitHub allows it again",
    ),
    Refusal.UNAUTHENTICATED: ("{doing}: GitHub refused the request ({status} {message})", "{advice}"),
    Refusal.FORBIDDEN: ("{doing}: GitHub refused the request ({status} {message})", "{advice}"),
    Refusal.NOT_FOUND: (
        "{doing}: GitHub has no {missing} (or the {who} cannot see it)",
        "check the name, and that fluxops' {access} has access to {repo}",
    ),
    Refusal.UNAVAILABLE: (
        "{doing}: GitHub had a server error ({status} {message})",
        "GitHub had a transient failure; fluxops retries with backoff",
    ),
    Refusal.INVALID: ("{doing}: GitHub refused it ({status} {message})", ""),
}


class GitHubConnection:
    """fluxops' access to github.com or GitHub Enterprise Server (``base_url``): what each GitHub capability
    (statuses.py, pulls.py, files.py, deploy_keys.py) builds on."""

    provider = GITHUB

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_API_URL,
        token: Secret | None = None,
        app_id: str | None = None,
        app_private_key: Secret | None = None,
        retries: int = 2,
        backoff: float = 0.5,
        timeout: int = 15,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
    ) -> None:
        if token is None and not (app_id and app_private_key is not None):
            raise errors.ConfigurationError(
                "GitHub needs GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY",
                recommendation="set one of them in the worker's environment",
            )
        self.base_url = base_url.rstrip("/")
        self._kwargs: dict[str, Any] = {
            "base_url": self.base_url,
            "timeout": timeout,
            "retry": Retry(
                total=retries,
                connect=retries,
                read=retries,
                status=retries,
                backoff_factor=backoff,
                backoff_max=5.0,
                status_forcelist=_RETRY_STATUSES,
                allowed_methods=_IDEMPOTENT,
                respect_retry_after_header=False,  # a long wait belongs to the task layer, not a worker thread
                raise_on_status=False,
            ),
            "seconds_between_requests": seconds_between_requests,
            "seconds_between_writes": seconds_between_writes,
            "lazy": True,
        }
        self._lock = threading.Lock()
        self._app_auth: Auth.AppAuth | None = None
        self._token_client: Github | None = None
        if app_id and app_private_key is not None:
            self._app_auth = Auth.AppAuth(app_id, _pem(app_private_key.reveal()))
        else:
            assert token is not None
            self._token_client = Github(auth=Auth.Token(token.reveal()), **self._kwargs)
        self._installation_clients: dict[int, Github] = {}
        self._installations: dict[str, int] = {}  # repo full name -> installation id, when events had none
        self._login: str | None = None
        self._anonymous: Github | None = None

    def __repr__(self) -> str:
        mode = "app" if self.is_app else "token"
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={mode})"

    @property
    def is_app(self) -> bool:
        return self._app_auth is not None

    # -- clients ---------------------------------------------------------------------------------

    def _integration(self) -> GithubIntegration:
        assert self._app_auth is not None
        kwargs = {k: v for k, v in self._kwargs.items() if k != "lazy"}
        return GithubIntegration(auth=self._app_auth, **kwargs)

    def client(self, repo: RepoRef) -> Github:
        if self._token_client is not None:
            return self._token_client
        assert self._app_auth is not None
        installation = self._installation_id(repo)
        with self._lock:
            client = self._installation_clients.get(installation)
            if client is None:
                auth = self._app_auth.get_installation_auth(installation)
                client = Github(auth=auth, **self._kwargs)
                self._installation_clients[installation] = client
            return client

    def _installation_id(self, repo: RepoRef) -> int:
        if repo.installation_id:
            try:
                return int(repo.installation_id)
            except ValueError:
                raise errors.InvalidRequest(
                    f"the GitHub App installation id {repo.installation_id!r} of {repo.full_name} is not a number"
                ) from None
        key = repo.full_name.casefold()
        with self._lock:
            known = self._installations.get(key)
        if known is not None:
            return known
        owner, _, name = repo.full_name.partition("/")
        with self.call(f"finding the GitHub App installation on {repo.full_name}", repo):
            installation = int(self._integration().get_repo_installation(owner, name).id)
        with self._lock:
            self._installations[key] = installation
        return installation

    def repo(self, repo: RepoRef) -> Repository:
        return self.client(repo).get_repo(repo.full_name)

    def own_login(self, repo: RepoRef) -> str:
        """The login fluxops comments as: the token's user, or the app's bot (``slug[bot]``)."""
        if self._login is None:
            if self._app_auth is not None:
                with self.call("reading the GitHub App's own name", repo):
                    self._login = f"{self._integration().get_app().slug}[bot]"
            else:
                with self.call("reading whom GITHUB_TOKEN belongs to", repo):
                    self._login = self.client(repo).get_user().login
        return self._login

    def any_client(self) -> Github:
        """A client for calls about no repository (``GET /meta``): the token's, else an app installation's
        already made, else an anonymous one (what such public endpoints need)."""
        if self._token_client is not None:
            return self._token_client
        with self._lock:
            installed = next(iter(self._installation_clients.values()), None)
            if installed is not None:
                return installed
            if self._anonymous is None:
                self._anonymous = Github(**self._kwargs)
            return self._anonymous

    # -- errors ----------------------------------------------------------------------------------

    @contextmanager
    def call(self, doing: str, repo: RepoRef | None, *, missing: str | None = None) -> Iterator[None]:
        """Run PyGithub calls; failures leave as FluxopsError naming ``doing``."""
        try:
            yield
        except GithubException as exc:
            self._raise(exc, doing, repo, missing)
        except requests.exceptions.RequestException as exc:
            raise host_error(Refusal.UNREACHABLE, _WORDING, code="", doing=doing, message=type(exc).__name__) from None

    def _raise(self, exc: GithubException, doing: str, repo: RepoRef | None, missing: str | None) -> NoReturn:
        status = exc.status
        refusal = classify(status, rate_limited=_is_rate_limit(exc))
        repo_name = repo.full_name if repo is not None else "the repositories fluxops manages"
        advice = (_APP_ADVICE if self.is_app else _TOKEN_ADVICE).get(status, "")
        wait = _rate_limit_wait(exc, time.time()) if refusal is Refusal.THROTTLED else retry_after(_headers(exc))
        raise host_error(
            refusal,
            _WORDING,
            code=str(status),
            retry_after=wait,
            doing=doing,
            status=status,
            message=error_text(exc),
            wait=wait,
            advice=advice.format(repo=repo_name),
            missing=missing or "repository " + repo_name,
            who="app" if self.is_app else "token",
            access="app installation" if self.is_app else "token",
            repo=repo_name,
        ) from None
