"""Where a credential or a deploy key may be used: repository globs, and the rule that only TLS carries secrets.

A repository is named for scope checks as ``host/path`` without a scheme, in the spelling people read in
their browser: ``github.com/acme/apps``, ``dev.azure.com/org/project/_git/repo``. Every spelling of one
repository (``git@github.com:acme/apps.git``, ``https://org@dev.azure.com/...``, ``org.visualstudio.com``,
``ssh.dev.azure.com:v3/...``) gives the same name, so a glob written once covers them all. Globs are
fnmatch patterns, case-insensitive (hosts and, on GitHub and Azure DevOps, repository paths are).
A bucket or a blob container is named the same way, ``ENDPOINT_HOST/BUCKET`` (``minio.example.com/fleet``,
``acct.blob.core.windows.net/manifests``): ``scope_url`` gives its URL as ``https://HOST/BUCKET``.
Pure: the config loader validates globs with these functions and the use-cases match with them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from urllib.parse import urlsplit

from bot.models import AzureBlobSource, BucketSource, FluxConfigPatch, FluxSource
from bot.repo_urls import parse_repo_url

_GLOB_CHARS = frozenset("*?[")


def scope_url(source: FluxSource) -> str:
    """What a credential given to ``source`` is scoped against: a git or OCI URL, or ``ENDPOINT/BUCKET`` and
    ``ACCOUNT_URL/CONTAINER`` for a bucket and a blob container."""
    if isinstance(source, BucketSource):
        return f"{source.url.rstrip('/')}/{source.bucket_name}"
    if isinstance(source, AzureBlobSource):
        return f"{source.url.rstrip('/')}/{source.container_name}"
    return source.url


def moves_source(patch: FluxConfigPatch) -> bool:
    """Whether ``patch`` points a source elsewhere: a new URL, bucket or blob container (what a credential is
    scoped by, ``scope_url``)."""
    return any(value is not None for value in (patch.url, patch.bucket_name, patch.container_name))


def repository_name(url: str) -> str | None:
    """``host/path`` of a git URL as scope globs match it, lower case; None when it is not a repository URL."""
    parsed = parse_repo_url(url)
    if parsed is None:
        return _storage_name(url)
    _, host, path = parsed
    if host == "dev.azure.com":
        org, project, repo = path.split("/")
        return f"{host}/{org}/{project}/_git/{repo}"
    return f"{host}/{path}"


def _storage_name(url: str) -> str | None:
    """``host/bucket`` of ``https://host/bucket`` (a bucket or blob container: one path segment), ``host/path``
    of an ``oci://`` repository, else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    segments = [s.lower() for s in parts.path.split("/") if s]
    scheme = parts.scheme.lower()
    if not parts.hostname or not segments or (scheme in ("http", "https") and len(segments) != 1):
        return None
    if scheme not in ("http", "https", "oci"):
        return None
    host = parts.hostname.lower() + (f":{port}" if port is not None else "")
    return f"{host}/{'/'.join(segments)}"


def repository_glob(text: str) -> str:
    """A scope glob as written in the policy, checked (ValueError says what to write instead)."""
    glob = text.strip()
    example = "such as github.com/acme/* or dev.azure.com/org/project/_git/*"
    if "://" in glob or glob.startswith("git@"):
        raise ValueError(f"'{text}' is a URL: write host/path globs without the scheme, {example}")
    host, _, path = glob.partition("/")
    if not host or not path:
        raise ValueError(f"'{text}' names no repository: write host/path globs, {example}")
    if _GLOB_CHARS & set(host):
        raise ValueError(f"'{text}' has a pattern in its host: name the host exactly, {example}")
    return glob


def repository_in(url: str, globs: Iterable[str]) -> bool:
    """Whether the repository ``url`` names matches one of ``globs`` (False for anything not a repository)."""
    name = repository_name(url)
    if name is None:
        return False
    return any(fnmatch.fnmatchcase(name, glob.strip().lower()) for glob in globs)


def carries_secrets_in_clear(url: str) -> bool:
    """An ``http://`` URL (or any non-TLS scheme but SSH): a token sent to it crosses the network readable."""
    parsed = parse_repo_url(url)
    if parsed is not None:
        return parsed[0] == "http"
    # an OCI registry is reached over TLS (``--insecure`` takes no TLS material: the grammar refuses both)
    return not url.strip().lower().startswith(("https://", "ssh://", "git@", "oci://"))
