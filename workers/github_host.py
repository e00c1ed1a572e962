"""bot.ports.GitHost for GitHub, over PyGithub: commit statuses, check runs, pull requests, comments.

Authentication is a token (``GITHUB_TOKEN``: ``Auth.Token``) or a GitHub App (``GITHUB_APP_ID`` +
``GITHUB_APP_PRIVATE_KEY``: ``Auth.AppAuth``, one client per installation; PyGithub's
``AppInstallationAuth`` keeps each installation token until shortly before it expires). Check runs
exist only for apps: with a token ``publish_check_run`` returns None and the caller posts statuses.

Retries here are few and short (5xx and connection errors on idempotent requests); anything that
still fails leaves as a ``FluxopsError`` whose ``retryable``/``retry_after`` tell the Celery task layer
whether and when to try again. Tokens never appear in messages: only GitHub's own error text does.
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
from github.ContentFile import ContentFile
from github.GithubObject import NotSet
from github.Repository import Repository
from urllib3.util.retry import Retry

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
    Verdict,
)
from bot.gitevents import GITHUB, RepoRef
from bot.models import Secret
from bot.settings import Settings

DEFAULT_API_URL = "https://api.github.com"
#: GitHub refuses comment bodies and check run texts longer than this
TEXT_LIMIT = 65_536
YAML_SUFFIXES = (".yaml", ".yml")
#: when GitHub asks us to slow down without saying for how long (secondary limits)
DEFAULT_RATE_LIMIT_WAIT = 60.0
_RETRY_STATUSES = (500, 502, 503, 504)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_PERMISSION_NAMES = frozenset(p.value for p in Permission)
_VERDICTS = {"APPROVED": Verdict.APPROVED, "CHANGES_REQUESTED": Verdict.CHANGES_REQUESTED}

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


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict) and data.get("message"):
        # A 422 says why in ``errors`` ("Validation Failed: key is already in use").
        details = [str(e["message"]) for e in data.get("errors") or () if isinstance(e, dict) and e.get("message")]
        return str(data["message"]) + (": " + "; ".join(details) if details else "")
    return exc.message or f"HTTP {exc.status}"


def _key_identity(public_key: str) -> tuple[str, ...]:
    """(type, base64 blob) of an OpenSSH public key line: what makes two lines the same key (comments differ)."""
    return tuple(public_key.split()[:2])


def _is_rate_limit(exc: GithubException) -> bool:
    if exc.status == 429 or isinstance(exc, RateLimitExceededException):
        return True
    if exc.status != 403:
        return False
    headers = _headers(exc)
    return (
        headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers or "rate limit" in _message(exc).lower()
    )


def _server_retry_after(exc: GithubException) -> float | None:
    """A 5xx answer's Retry-After, if it gave one in seconds."""
    try:
        return max(0.0, float(_headers(exc)["retry-after"]))
    except (KeyError, ValueError):
        return None


def _retry_after(exc: GithubException, now: float) -> float:
    headers = _headers(exc)
    try:
        if "retry-after" in headers:
            return max(0.0, float(headers["retry-after"]))
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            return max(1.0, float(headers["x-ratelimit-reset"]) - now)
    except ValueError:
        pass
    return DEFAULT_RATE_LIMIT_WAIT


class GitHubHost:
    """bot.ports.GitHost for github.com or GitHub Enterprise Server (``base_url``)."""

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
        self._base_url = base_url.rstrip("/")
        self._kwargs: dict[str, Any] = {
            "base_url": self._base_url,
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
        return f"GitHubHost(base_url={self._base_url!r}, auth={mode})"

    @property
    def is_app(self) -> bool:
        return self._app_auth is not None

    # -- clients ---------------------------------------------------------------------------------

    def _integration(self) -> GithubIntegration:
        assert self._app_auth is not None
        kwargs = {k: v for k, v in self._kwargs.items() if k != "lazy"}
        return GithubIntegration(auth=self._app_auth, **kwargs)

    def _client(self, repo: RepoRef) -> Github:
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
        with self._call(f"finding the GitHub App installation on {repo.full_name}", repo):
            installation = int(self._integration().get_repo_installation(owner, name).id)
        with self._lock:
            self._installations[key] = installation
        return installation

    def _repo(self, repo: RepoRef) -> Repository:
        return self._client(repo).get_repo(repo.full_name)

    def _own_login(self, repo: RepoRef) -> str:
        """The login fluxops comments as: the token's user, or the app's bot (``slug[bot]``)."""
        if self._login is None:
            if self._app_auth is not None:
                with self._call("reading the GitHub App's own name", repo):
                    self._login = f"{self._integration().get_app().slug}[bot]"
            else:
                with self._call("reading whom GITHUB_TOKEN belongs to", repo):
                    self._login = self._client(repo).get_user().login
        return self._login

    def _any_client(self) -> Github:
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
    def _call(self, doing: str, repo: RepoRef | None, *, missing: str | None = None) -> Iterator[None]:
        """Run PyGithub calls; failures leave as FluxopsError naming ``doing``."""
        try:
            yield
        except GithubException as exc:
            self._raise(exc, doing, repo, missing)
        except requests.exceptions.RequestException as exc:
            raise errors.ServiceUnavailable(
                f"{doing}: GitHub could not be reached ({type(exc).__name__})",
                recommendation="fluxops retries; if it persists check the network path and GITHUB_API_URL",
            ) from None

    def _raise(self, exc: GithubException, doing: str, repo: RepoRef | None, missing: str | None) -> NoReturn:
        status = exc.status
        message = _message(exc)
        advice = _APP_ADVICE if self.is_app else _TOKEN_ADVICE
        repo_name = repo.full_name if repo is not None else "the repositories fluxops manages"
        if status in (403, 429) and _is_rate_limit(exc):
            wait = _retry_after(exc, time.time())
            raise errors.Throttled(
                f"{doing}: GitHub's rate limit was hit ({message})",
                recommendation=f"fluxops retries in {wait:.0f} s, when GitHub allows it again",
                retry_after=wait,
                code=str(status),
            ) from None
        if status in (401, 403):
            raise errors.Unauthorized(
                f"{doing}: GitHub refused the request ({status} {message})",
                recommendation=advice[status].format(repo=repo_name),
                code=str(status),
            ) from None
        if status == 404:
            raise errors.NotFound(
                f"{doing}: GitHub has no {missing or 'repository ' + repo_name} "
                f"(or the {'app' if self.is_app else 'token'} cannot see it)",
                recommendation=f"check the name, and that fluxops' {'app installation' if self.is_app else 'token'} "
                f"has access to {repo_name}",
                code="404",
            ) from None
        if status >= 500:
            raise errors.ServiceUnavailable(
                f"{doing}: GitHub had a server error ({status} {message})",
                recommendation="GitHub had a transient failure; fluxops retries with backoff",
                code=str(status),
                retry_after=_server_retry_after(exc),
            ) from None
        raise errors.InvalidRequest(f"{doing}: GitHub refused it ({status} {message})", code=str(status)) from None

    # -- GitHost ---------------------------------------------------------------------------------

    def set_commit_status(self, repo: RepoRef, sha: str, status: CommitStatus) -> None:
        doing = f"setting commit status '{status.context}' on {repo.full_name}@{sha[:7]}"
        with self._call(doing, repo, missing=f"commit {sha[:7]} in {repo.full_name}"):
            self._repo(repo).get_commit(sha).create_status(
                state=status.state.value,
                target_url=status.target_url or NotSet,
                description=clip(status.description, STATUS_DESCRIPTION_LIMIT),
                context=status.context,
            )

    def publish_check_run(self, repo: RepoRef, sha: str, run: CheckRun, run_id: str | None = None) -> str | None:
        if not self.is_app:
            return None  # check runs are for GitHub Apps only; a token gets 403
        output: dict[str, Any] = {"title": clip(run.title, 1000), "summary": clip(run.summary, TEXT_LIMIT)}
        if run.text:
            output["text"] = clip(run.text, TEXT_LIMIT)
        conclusion = run.conclusion if run.status == "completed" and run.conclusion else NotSet
        if run_id:
            doing = f"updating check run '{run.name}' on {repo.full_name}@{sha[:7]}"
            with self._call(doing, repo, missing=f"check run {run_id} in {repo.full_name}"):
                self._repo(repo).get_check_run(int(run_id)).edit(
                    name=run.name, status=run.status, conclusion=conclusion, output=output
                )
            return run_id
        doing = f"creating check run '{run.name}' on {repo.full_name}@{sha[:7]}"
        with self._call(doing, repo, missing=f"commit {sha[:7]} in {repo.full_name}"):
            created = self._repo(repo).create_check_run(
                name=run.name, head_sha=sha, status=run.status, conclusion=conclusion, output=output
            )
            return str(created.id)

    def is_ancestor(self, repo: RepoRef, ancestor: str, descendant: str) -> bool:
        if ancestor == descendant:
            return True
        doing = f"comparing {ancestor[:7]} with {descendant[:7]} in {repo.full_name}"
        with self._call(doing, repo, missing=f"commit {ancestor[:7]} or {descendant[:7]} in {repo.full_name}"):
            try:
                comparison = self._repo(repo).compare(ancestor, descendant, comparison_commits_per_page=1)
                return comparison.status in ("ahead", "identical")
            except GithubException as exc:
                # Unrelated histories: GitHub answers 404 "No common ancestor"; neither contains the other.
                if exc.status == 404 and "no common ancestor" in _message(exc).lower():
                    return False
                raise

    def repository(self, repo: RepoRef) -> RepoRef:
        doing = f"reading repository {repo.full_name}"
        with self._call(doing, repo):
            found = self._repo(repo)
            return RepoRef(
                provider=GITHUB,
                full_name=found.full_name,
                url=found.clone_url,
                id=str(found.id),
                default_branch=found.default_branch or repo.default_branch,
                installation_id=repo.installation_id,
            )

    def pull_request(self, repo: RepoRef, number: int) -> PullRequestInfo:
        doing = f"reading pull request #{number} of {repo.full_name}"
        with self._call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            pr = self._repo(repo).get_pull(number)
            author = pr.user.login
            latest: dict[str, Review] = {}  # login key -> that reviewer's standing verdict
            for review in pr.get_reviews():  # oldest first
                login = review.user.login if review.user is not None else ""
                if not login or login.casefold() == author.casefold():
                    continue
                if review.state in _VERDICTS:
                    latest[login.casefold()] = Review(login, _VERDICTS[review.state], review.commit_id or "")
                elif review.state == "DISMISSED":
                    latest.pop(login.casefold(), None)
                # COMMENTED and PENDING reviews leave an earlier verdict standing, as on GitHub.
            head_repo = pr.head.repo
            base_repo = pr.base.repo
            from_fork = head_repo is None or head_repo.full_name.casefold() != base_repo.full_name.casefold()
            head = pr.head.sha
            reviews = tuple(sorted(latest.values(), key=lambda r: r.user.casefold()))
            merged = bool(pr.merged)
            return PullRequestInfo(
                number=pr.number,
                state="merged" if merged else pr.state,
                head_sha=head,
                head_branch=pr.head.ref,
                base_branch=pr.base.ref,
                author=author,
                from_fork=from_fork,
                approved_by=tuple(
                    r.user for r in reviews if r.verdict is Verdict.APPROVED and r.commit.lower() == head.lower()
                ),
                changes_requested_by=tuple(r.user for r in reviews if r.verdict is Verdict.CHANGES_REQUESTED),
                title=pr.title or "",
                url=pr.html_url or "",
                reviews=reviews,
                merged_by=pr.merged_by.login if merged and pr.merged_by is not None else "",
                merge_commit=(pr.merge_commit_sha or "") if merged else "",
            )

    def pull_request_authors(self, repo: RepoRef, number: int) -> frozenset[str]:
        doing = f"reading the commits of pull request #{number} of {repo.full_name}"
        people: set[str] = set()
        with self._call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            pull = self._repo(repo).get_pull(number)
            people.add(pull.user.login.casefold())
            # GitHub lists up to 250 commits here; their GitHub users are matched from the commits' e-mails
            for commit in pull.get_commits():
                for person in (commit.author, commit.committer):
                    if person is not None and person.login:
                        people.add(person.login.casefold())
        return frozenset(people)

    def permission(self, repo: RepoRef, user: str) -> Permission:
        doing = f"reading {user}'s permission on {repo.full_name}"
        try:
            with self._call(doing, repo, missing=f"user {user} on {repo.full_name}"):
                github_repo = self._repo(repo)
                role = github_repo.get_collaborator_role_name(user)
                if role not in _PERMISSION_NAMES:
                    # A custom repository role: fall back to the base permission GitHub reports with it.
                    role = github_repo.get_collaborator_permission(user)
        except errors.NotFound:
            return Permission.NONE
        return Permission(role) if role in _PERMISSION_NAMES else Permission.NONE

    def read_files(self, repo: RepoRef, ref: str, path: str) -> dict[str, str]:
        clean = path.strip().strip("/")
        doing = f"reading {clean or '/'} at {ref} in {repo.full_name}"
        found: dict[str, str] = {}
        with self._call(doing, repo, missing=f"branch, tag or commit {ref} in {repo.full_name}"):
            github_repo = self._repo(repo)
            try:
                top = github_repo.get_contents(clean, ref=ref)
            except GithubException as exc:
                # A missing path is "nothing there"; a missing ref is an error (GitHub: "No commit found").
                if exc.status == 404 and "no commit found" not in _message(exc).lower():
                    return {}
                raise
            if isinstance(top, ContentFile):
                return {top.path: self._text(github_repo, top)}
            pending = list(top)
            while pending:
                entry = pending.pop(0)
                if entry.type == "dir":
                    listed = github_repo.get_contents(entry.path, ref=ref)
                    pending.extend(listed if isinstance(listed, list) else [listed])
                elif entry.type == "file" and entry.name.lower().endswith(YAML_SUFFIXES):
                    found[entry.path] = self._text(github_repo, entry)
        return dict(sorted(found.items()))

    @staticmethod
    def _text(github_repo: Repository, entry: ContentFile) -> str:
        if entry.encoding == "base64" and entry.content is not None:
            data = entry.decoded_content
        else:
            # Files over 1 MB come without content: read the blob instead.
            data = base64.b64decode(github_repo.get_git_blob(entry.sha).content)
        return data.decode("utf-8", errors="replace")

    def comment(self, repo: RepoRef, number: int, body: str, *, reply_to: CommentRef | None = None) -> CommentRef:
        doing = f"commenting on pull request #{number} of {repo.full_name}"
        with self._call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            created = self._repo(repo).get_issue(number).create_comment(clip(body, TEXT_LIMIT))
            return CommentRef(id=str(created.id))

    def edit_comment(self, repo: RepoRef, number: int, ref: CommentRef, body: str) -> None:
        doing = f"editing comment {ref.id} on pull request #{number} of {repo.full_name}"
        with self._call(doing, repo, missing=f"comment {ref.id} in {repo.full_name}"):
            self._repo(repo).get_issue(number).get_comment(int(ref.id)).edit(clip(body, TEXT_LIMIT))

    def find_comment(self, repo: RepoRef, number: int, marker: str) -> CommentRef | None:
        me = self._own_login(repo).casefold()
        doing = f"looking for fluxops' comment on pull request #{number} of {repo.full_name}"
        with self._call(doing, repo, missing=f"pull request #{number} in {repo.full_name}"):
            for comment in self._repo(repo).get_issue(number).get_comments():
                if comment.user is not None and comment.user.login.casefold() == me and marker in (comment.body or ""):
                    return CommentRef(id=str(comment.id))
        return None

    def get_comment(self, repo: RepoRef, number: int, ref: CommentRef) -> CommentInfo:
        doing = f"reading comment {ref.id} on pull request #{number} of {repo.full_name}"
        with self._call(doing, repo, missing=f"comment {ref.id} in {repo.full_name}"):
            comment = self._repo(repo).get_issue(number).get_comment(int(ref.id))
            written = comment.created_at.timestamp() if comment.created_at else 0.0
            return CommentInfo(
                ref=ref, author=comment.user.login if comment.user else "", body=comment.body or "", published=written
            )

    def acknowledge(self, repo: RepoRef, number: int, ref: CommentRef) -> None:
        doing = f"reacting to comment {ref.id} on pull request #{number} of {repo.full_name}"
        with self._call(doing, repo, missing=f"comment {ref.id} in {repo.full_name}"):
            self._repo(repo).get_issue(number).get_comment(int(ref.id)).create_reaction("eyes")

    # -- deploy keys -------------------------------------------------------------------------------

    def add_deploy_key(self, repo: RepoRef, title: str, public_key: str) -> int:
        doing = f"adding deploy key '{title}' to {repo.full_name}"
        line = " ".join(_key_identity(public_key))
        with self._call(doing, repo):
            try:
                return int(self._repo(repo).create_key(title, line, read_only=True).id)
            except GithubException as exc:
                if exc.status != 422 or "already in use" not in _message(exc).lower():
                    raise
        # GitHub takes a key once per host: a resumed job re-adding its own key finds it here.
        for key_id, key in self.deploy_key_ids(repo).items():
            if _key_identity(key) == _key_identity(line):
                return key_id
        raise errors.InvalidRequest(
            f"{doing}: GitHub says the key is already in use, and it is not a deploy key of {repo.full_name}: "
            "it is registered on another repository or on a user account",
            recommendation="remove it there, or give the configuration a new key "
            "(`/flux key rotate NAME -c CLUSTER`); fluxops never shares one key between repositories",
            code="422",
        )

    def remove_deploy_key(self, repo: RepoRef, key_id: int) -> bool:
        doing = f"removing deploy key {key_id} from {repo.full_name}"
        try:
            with self._call(doing, repo, missing=f"deploy key {key_id} on {repo.full_name}"):
                # One DELETE by URL: nothing is read first, so a key already gone costs one 404.
                self._client(repo).requester.requestJsonAndCheck("DELETE", f"/repos/{repo.full_name}/keys/{key_id}")
        except errors.NotFound:
            return False
        return True

    def deploy_key_ids(self, repo: RepoRef) -> dict[int, str]:
        with self._call(f"listing the deploy keys of {repo.full_name}", repo):
            return {int(key.id): " ".join(_key_identity(key.key)) for key in self._repo(repo).get_keys()}

    def ssh_host_keys(self) -> list[str]:
        doing = "reading GitHub's SSH host keys (GET /meta)"
        with self._call(doing, None, missing="/meta endpoint"):
            _, data = self._any_client().requester.requestJsonAndCheck("GET", "/meta")
        keys = data.get("ssh_keys") if isinstance(data, dict) else None
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise errors.InvalidRequest(
                f"{doing}: GitHub at {self._base_url} publishes no SSH host keys",
                recommendation="give Flux the host's known_hosts yourself with `--known-hosts-ref REF`",
            )
        return [str(k) for k in keys]


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
