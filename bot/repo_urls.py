"""Git repository URLs in every spelling, reduced to one key per repository.

A Flux configuration may name its source ``https://github.com/org/repo``, ``https://github.com/org/repo.git``,
``ssh://git@github.com/org/repo.git`` or ``git@github.com:org/repo``; Azure DevOps adds
``dev.azure.com/{org}/{project}/_git/{repo}``, ``{org}.visualstudio.com/...`` and
``git@ssh.dev.azure.com:v3/{org}/{project}/{repo}``. A push names the repository one way; fluxops finds
every configuration that tracks it whichever way they spell it. Pure; the sandbox uses the same rules.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import unquote, urlsplit

Transport = Literal["https", "http", "ssh"]

_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22}
_SCP_LIKE = re.compile(r"^(?P<user>[^@/\s]+)@(?P<host>[^:/\s]+):(?P<path>[^\s]*)$")


def canonical_repo(url: str) -> tuple[str, str] | None:
    """The (host, path) key a git URL names, lower case, without ``.git``; None if not a repo URL.

    GitHub-style https/http/ssh/scp-like URLs give ``("github.com", "org/repo")``. Azure DevOps
    https (``dev.azure.com/{org}/{project}/_git/{repo}``, ``{org}.visualstudio.com/...``) and
    ssh (``ssh.dev.azure.com/v3/{org}/{project}/{repo}``) forms all give
    ``("dev.azure.com", "org/project/repo")``.
    """
    parsed = parse_repo_url(url)
    return None if parsed is None else (parsed[1], parsed[2])


def repo_key(host: str, slug: str) -> tuple[str, str]:
    """The canonical key of a repository named by host and slug ("org/repo" or "org/project/repo")."""
    host = host.strip().lower()
    if host == "ssh.dev.azure.com" or host.endswith(".visualstudio.com"):
        host = "dev.azure.com"
    return host, slug.strip().strip("/").lower().removesuffix(".git")


def redact_url(url: str) -> str:
    """The URL without any password or token in its user info (safe for messages and logs)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "<invalid url>"
    if parts.password is None:
        return url.strip()
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return parts._replace(netloc=f"{user}{host}{port}").geturl()


def is_ssh_url(url: str) -> bool:
    """True when ``url`` is written as an SSH URL (``ssh://...`` or scp-like ``git@host:path``), as ARM
    reads it to allow ``sshKnownHosts``; well-formed or not (:func:`parse_repo_url` checks that)."""
    return url.startswith(("ssh://", "git@"))


def ssh_endpoint(url: str) -> tuple[str, int | None]:
    """The SSH server an SSH URL names, as the client dials it: (host, port or None for the default).

    Unlike :func:`canonical_repo` the host is kept as spelled (``ssh.dev.azure.com`` stays), since that
    is the name a known_hosts line must match.
    """
    url = url.strip()
    if "://" not in url:  # scp-like: git@github.com:org/repo.git
        return url.split("@", 1)[-1].split(":", 1)[0].lower(), None
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port


def parse_repo_url(url: str) -> tuple[Transport, str, str] | None:
    """(transport, host, path) of a git URL, or None: :func:`canonical_repo` plus the transport."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        return _normalise("ssh", scp["host"], None, scp["path"])
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    transport: Transport = "ssh" if scheme == "ssh" else "https" if scheme == "https" else "http"
    return _normalise(transport, parts.hostname, port, parts.path)


def _normalise(transport: Transport, host: str, port: int | None, path: str) -> tuple[Transport, str, str] | None:
    host = host.lower()
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    # Azure DevOps spells one repository four ways; all map to dev.azure.com/org/project/repo.
    if host == "ssh.dev.azure.com":
        if len(segments) != 4 or segments[0].lower() != "v3":
            return None
        segments = segments[1:]
        host = "dev.azure.com"
    elif host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        if host != "dev.azure.com":
            segments = [host.split(".", 1)[0], *segments]
            host = "dev.azure.com"
        if len(segments) != 4 or segments[2].lower() != "_git":
            return None
        segments = [segments[0], segments[1], segments[3]]
    elif len(segments) < 2:
        return None
    if port is not None and port != _DEFAULT_PORTS[transport]:
        host = f"{host}:{port}"
    return transport, host, "/".join(segments).lower()
