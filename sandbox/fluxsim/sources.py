"""Source fetching as source-controller does it: which ref and credentials, access checks, checkout.

Every attempt is logged (:class:`~sandbox.fluxsim.state.FetchAttempt`), without key material or tokens.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Mapping
from typing import Any

from bot.repo_urls import ssh_endpoint
from sandbox.fluxsim.state import Artifact, Credentials, FetchAttempt, mapping
from sandbox.git_access import AccessResult, GitAccess
from sandbox.gitrepos import GitError, RefKind, RepoHandle, RepoStore, SemverError, parse_repo_url, redact_url
from sandbox.world import Cluster, FluxConfigRecord

SOURCE_KEYS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}
SOURCE_OBJECT_KIND = {"AzureBlob": "Bucket"}  # Azure Blob sources are Flux Buckets
_SOURCE_FAILED_REASON = {
    "Bucket": "BucketOperationFailed",
    "AzureBlob": "BucketOperationFailed",
    "OCIRepository": "OCIArtifactPullFailed",
}


def failed_reason(kind: str) -> str:
    """The Ready reason a failed fetch of a source of ``kind`` reports."""
    return _SOURCE_FAILED_REASON.get(kind, "GitOperationFailed")


def repository_ref(ref: Mapping[str, Any]) -> tuple[RefKind, str]:
    """Flux's precedence: commit, then semver, then tag, then branch (default "master")."""
    kinds: tuple[RefKind, ...] = ("commit", "semver", "tag", "branch")
    for kind in kinds:
        if ref.get(kind):
            return kind, str(ref[kind])
    return "branch", "master"


def local_secret(cluster: Cluster, record: FluxConfigRecord, name: str) -> dict[str, str] | str:
    """The data of Secret ``name`` (a localAuthRef) in the configuration's namespace, or the error
    source-controller reports when it is missing."""
    namespace = str(record.properties.get("namespace") or "flux-system")
    secret = cluster.secrets.get(f"{namespace}/{name}")
    if secret is None:
        return f"failed to get secret '{namespace}/{name}': secrets \"{name}\" not found"
    return secret


def protected_text(record: FluxConfigRecord, key: str) -> str | None:
    """A protected setting as text (they are stored base64-encoded), None when absent or not base64 text."""
    value = record.protected.get(key)
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def credentials(cluster: Cluster, record: FluxConfigRecord) -> Credentials:
    """What the agent would authenticate with (read on the loop: the world belongs to it)."""
    props = record.properties
    git = mapping(props.get("gitRepository"))
    raw_known_hosts = git.get("sshKnownHosts")
    known_hosts = raw_known_hosts if isinstance(raw_known_hosts, str) and raw_known_hosts else None
    secret_name = git.get("localAuthRef")
    if secret_name:
        secret = local_secret(cluster, record, str(secret_name))
        if isinstance(secret, str):
            return Credentials(error=secret)
        return Credentials(
            ssh_key=secret.get("identity"),
            username=secret.get("username"),
            token=secret.get("password"),
            known_hosts=known_hosts,
        )
    token = None
    if record.protected.get("httpsKey"):
        try:
            token = base64.b64decode(record.protected["httpsKey"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return Credentials(error="invalid 'httpsKey' in configurationProtectedSettings: not base64 text")
    return Credentials(
        ssh_key=record.protected.get("sshPrivateKey"),
        username=git.get("httpsUser") or None,
        token=token,
        known_hosts=known_hosts,
    )


class SourceFetcher:
    """Fetches git sources from the sandbox's repositories, checking access as the Git host would.

    The log keeps the newest ``log_limit`` attempts (up to a tenth more between trims)."""

    def __init__(self, *, repos: RepoStore, access: GitAccess, log_limit: int) -> None:
        self.repos = repos
        self.access = access
        #: every fetch attempt, oldest first (trimmed as the class says)
        self.log: list[FetchAttempt] = []
        self._log_limit = log_limit
        self._log_lock = threading.Lock()
        self.fetches = 0  # every attempt, also those trimmed from the log

    def attempts(self) -> list[FetchAttempt]:
        """A copy of the log, taken under its lock."""
        with self._log_lock:
            return list(self.log)

    def fetch_git(
        self, cluster_id: str, config: str, url: str, ref_kind: RefKind, ref_value: str, creds: Credentials
    ) -> Artifact | str:
        """Check access, resolve the ref and read the tree (in a worker thread); log the attempt."""
        parsed = parse_repo_url(url)
        handle = self.repos.resolve_url(url)
        ssh = parsed is not None and parsed[0] == "ssh"
        method = "ssh-key" if ssh else "https-token" if creds.token else "anonymous"
        outcome: Artifact | str
        access: AccessResult | None = None
        if parsed is None:
            outcome = f"failed to checkout and determine revision: unable to clone '{redact_url(url)}': invalid URL"
        elif creds.error:
            outcome = creds.error
        elif not self.repos.knows_host(parsed[1]):
            host = parsed[1].split(":")[0]
            outcome = (
                f"failed to checkout and determine revision: unable to clone '{redact_url(url)}': "
                f"dial tcp: lookup {host}: no such host"
            )
        elif ssh and creds.known_hosts and (refused := self._check_host_key(url, creds.known_hosts)):
            # The host key is checked in the handshake, before any key is offered.
            outcome = f"failed to checkout and determine revision: unable to clone '{redact_url(url)}': {refused}"
        elif handle is None:
            access = self.access.check_unknown(url, ssh_key=creds.ssh_key, token=creds.token)
            outcome = access.message
        else:
            if ssh:
                access = self.access.check_ssh(handle, creds.ssh_key)
            else:
                access = self.access.check_https(handle, creds.username, creds.token)
            outcome = access.message
            if access.ok:
                outcome = self._checkout(handle, ref_kind, ref_value)
        if access is not None:
            method = access.method
        ok = isinstance(outcome, Artifact)
        self._log(
            FetchAttempt(
                monotonic=time.monotonic(),
                wall=time.time(),
                cluster_id=cluster_id,
                config=config,
                url=redact_url(url),
                auth_method=method,
                fingerprint=access.fingerprint if access else None,
                ok=ok,
                revision=outcome.revision if isinstance(outcome, Artifact) else None,
                message="" if isinstance(outcome, Artifact) else outcome,
            )
        )
        return outcome

    def _check_host_key(self, url: str, known_hosts_b64: str) -> str | None:
        """Flux's known_hosts check of the SSH server ``url`` names: None or the failure detail."""
        host, port = ssh_endpoint(url)
        return self.access.check_known_hosts(host, port, known_hosts_b64)

    def _checkout(self, handle: RepoHandle, ref_kind: RefKind, value: str) -> Artifact | str:
        failed = "failed to checkout and determine revision"
        url = handle.url
        try:
            ref = self.repos.resolve_ref(handle, ref_kind, value)
            tree = self.repos.read_tree(handle, ref.sha) if ref else None
        except SemverError as exc:
            return f"{failed}: semver parse error: {exc}"
        except GitError as exc:
            return f"{failed}: unable to clone '{url}': {exc}"
        if ref is None:
            if ref_kind == "semver":
                return f"{failed}: no match found for semver: {value}"
            if ref_kind == "commit":
                return f"{failed}: unable to resolve commit object for '{value}': object not found"
            where = "heads" if ref_kind == "branch" else "tags"
            return f"{failed}: unable to clone '{url}': couldn't find remote ref \"refs/{where}/{value}\""
        revision = ref.sha if ref.name is None else f"{ref.name}/{ref.sha}"
        assert tree is not None
        return Artifact(repo=handle.path, sha=ref.sha, revision=revision, tree=tree)

    def log_fetch(self, cluster_id: str, config: str, url: str, auth_method: str, outcome: Artifact | str) -> None:
        """Log a fetch of a source that is not a Git repository (no key fingerprint to show)."""
        ok = isinstance(outcome, Artifact)
        self._log(
            FetchAttempt(
                monotonic=time.monotonic(),
                wall=time.time(),
                cluster_id=cluster_id,
                config=config,
                url=redact_url(url),
                auth_method=auth_method,
                fingerprint=None,
                ok=ok,
                revision=outcome.revision if isinstance(outcome, Artifact) else None,
                message="" if isinstance(outcome, Artifact) else outcome,
            )
        )

    def _log(self, attempt: FetchAttempt) -> None:
        with self._log_lock:
            self.fetches += 1
            self.log.append(attempt)
            # Trimmed by a tenth at a time: one delete at the head of a full list per fetch is O(limit).
            if len(self.log) > self._log_limit + max(1, self._log_limit // 10):
                del self.log[: len(self.log) - self._log_limit]
