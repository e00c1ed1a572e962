"""Who may read which sandbox repository: deploy keys (SSH) and tokens (HTTPS), as GitHub decides.

Only public key material and token digests are stored (and, in memory, the private halves of the
sandbox's own SSH host keys). Results and their messages carry SSH key fingerprints (``SHA256:...`` as
``ssh-keygen -lf`` prints them), never a key or a token; failure messages read like Flux's
source-controller reports them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from sandbox.gitrepos import RepoHandle, parse_repo_url, redact_url, repo_key
from sandbox.known_hosts import KnownHostsError, check_host_key, parse_known_hosts

_CLONE = "failed to checkout and determine revision: unable to clone '{url}': {detail}"
_SSH_DENIED = (
    "ssh: handshake failed: ssh: unable to authenticate, attempted methods [{methods}], no supported methods remain"
)
_HOST_KEY_MISMATCH = "ssh: handshake failed: knownhosts: key mismatch"
_HOST_KEY_UNKNOWN = "ssh: handshake failed: knownhosts: key is unknown"
_KEY_CACHE_SIZE = 1024


@dataclass(frozen=True)
class DeployKey:
    """A deploy key registered on one repository (public half only)."""

    id: int
    title: str
    key: str  # "ssh-ed25519 AAAA..." without comment
    read_only: bool
    fingerprint: str
    created_at: float  # wall clock, seconds


@dataclass(frozen=True)
class AccessResult:
    """The outcome of one access check; ``message`` is safe to show and to log."""

    ok: bool
    method: str  # "ssh-key" | "https-token" | "anonymous"
    fingerprint: str | None
    message: str


class DeployKeyError(ValueError):
    """A deploy key was refused, with GitHub's reason ("key is invalid", "key is already in use")."""


def ssh_fingerprint(key_blob: bytes) -> str:
    """The SHA256 fingerprint of an OpenSSH public key blob, as ``ssh-keygen -lf`` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key_blob).digest()).decode().rstrip("=")


def public_key_blob(public_key_openssh: str) -> bytes:
    """The key blob of an OpenSSH public key line; raises DeployKeyError when it is not one."""
    fields = public_key_openssh.strip().split()
    try:
        serialization.load_ssh_public_key(" ".join(fields[:2]).encode())
        return base64.b64decode(fields[1], validate=True)
    except (ValueError, IndexError, UnsupportedAlgorithm, binascii.Error):
        raise DeployKeyError("key is invalid. You must supply a key in OpenSSH public key format") from None


def public_key_of(private_key: str) -> tuple[bytes, str]:
    """(OpenSSH public key blob, fingerprint) of a private key given as text or base64 of the text.

    Accepts OpenSSH and PEM (PKCS#1, SEC1, PKCS#8) Ed25519, RSA and ECDSA keys without passphrase.
    Raises ValueError with the message Go's ssh package gives, never with key material.
    """
    text = private_key.strip()
    if "-----BEGIN" not in text:
        try:
            text = base64.b64decode(text, validate=True).decode().strip()
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("ssh: no key found") from None
    data = text.encode()
    try:
        if "BEGIN OPENSSH PRIVATE KEY" in text:
            key: object = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ValueError("ssh: this private key is passphrase protected") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("ssh: no key found") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("ssh: unsupported key type")
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return blob, ssh_fingerprint(blob)


class GitAccess:
    """Deploy keys and HTTPS tokens per repository, and the checks a git server makes on a clone.

    Thread-safe: the fake GitHub changes it on the event loop while fetches check it in threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], list[DeployKey]] = {}
        self._tokens: dict[tuple[str, str], dict[bytes, str]] = {}  # token digest -> username
        self._next_id = 1
        self._host_keys: dict[str, ed25519.Ed25519PrivateKey] = {}
        # Deploy-key faults: how many keys still to break per repository, and the broken keys' ids.
        self._break_next: dict[tuple[str, str], int] = {}
        self._broken: set[int] = set()
        # sha256(private key text) -> public blob and fingerprint: parsing RSA keys is slow.
        self._parsed: OrderedDict[bytes, tuple[bytes, str] | str] = OrderedDict()

    # -- deploy keys --------------------------------------------------------------------------

    def add_deploy_key(
        self, host: str, slug: str, public_key_openssh: str, *, title: str, read_only: bool = True
    ) -> int:
        """Register a deploy key on a repository and return its id.

        As on GitHub, one key may be registered only once per host (DeployKeyError otherwise).
        """
        blob = public_key_blob(public_key_openssh)
        fields = public_key_openssh.strip().split()
        key = repo_key(host, slug)
        with self._lock:
            for (other_host, _), keys in self._keys.items():
                if other_host == key[0] and any(k.key.split()[1] == fields[1] for k in keys):
                    raise DeployKeyError("key is already in use")
            entry = DeployKey(
                id=self._next_id,
                title=title,
                key=f"{fields[0]} {fields[1]}",
                read_only=read_only,
                fingerprint=ssh_fingerprint(blob),
                created_at=time.time(),
            )
            self._next_id += 1
            self._keys.setdefault(key, []).append(entry)
            if self._break_next.get(key, 0) > 0:
                self._break_next[key] -= 1
                self._broken.add(entry.id)
        return entry.id

    def remove_deploy_key(self, host: str, slug: str, key_id: int) -> bool:
        """Remove a deploy key by id; False when the repository has no such key."""
        with self._lock:
            keys = self._keys.get(repo_key(host, slug), [])
            kept = [k for k in keys if k.id != key_id]
            if len(kept) == len(keys):
                return False
            self._keys[repo_key(host, slug)] = kept
            self._broken.discard(key_id)
            return True

    def deploy_keys(self, host: str, slug: str) -> list[DeployKey]:
        """The deploy keys of a repository, oldest first."""
        with self._lock:
            return list(self._keys.get(repo_key(host, slug), []))

    def break_next_keys(self, host: str, slug: str, count: int = 1) -> int:
        """A fault: the next ``count`` deploy keys added to the repository are registered and listed as
        usual, but SSH refuses them as it refuses an unknown key. Returns how many are now pending
        for that repository."""
        if count < 1:
            raise ValueError("count must be at least 1")
        key = repo_key(host, slug)
        with self._lock:
            self._break_next[key] = self._break_next.get(key, 0) + count
            return self._break_next[key]

    def clear_key_faults(self) -> None:
        """Forget pending deploy-key faults and let SSH honour the keys broken so far."""
        with self._lock:
            self._break_next.clear()
            self._broken.clear()

    # -- host keys ----------------------------------------------------------------------------

    def host_keys(self, host: str) -> list[str]:
        """The SSH host keys of ``host`` as OpenSSH public key lines without comment (one Ed25519
        key, made on first use and kept for the life of this GitAccess)."""
        name = host.strip().lower()
        with self._lock:
            private = self._host_keys.get(name)
            if private is None:
                private = self._host_keys[name] = ed25519.Ed25519PrivateKey.generate()
        line = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        return [line.decode()]

    def check_known_hosts(self, host: str, port: int | None, known_hosts_b64: str) -> str | None:
        """None when the known_hosts text (given base64-encoded, as ARM's ``sshKnownHosts``) trusts one
        of ``host``'s keys on ``port``; otherwise the error detail Flux's go-git SSH transport reports."""
        try:
            text = base64.b64decode(known_hosts_b64.strip(), validate=True).decode()
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            return "invalid known_hosts: not base64"
        try:
            entries = parse_known_hosts(text)
        except KnownHostsError as exc:
            return f"knownhosts: {exc}"
        offered = []
        for line in self.host_keys(host):
            key_type, encoded = line.split()[:2]
            offered.append((key_type, base64.b64decode(encoded)))
        verdict = check_host_key(entries, host, port, offered)
        if verdict == "ok":
            return None
        # A revoked key reads as a mismatch here: the client refuses the key the host offers.
        return _HOST_KEY_UNKNOWN if verdict == "unknown" else _HOST_KEY_MISMATCH

    # -- tokens -------------------------------------------------------------------------------

    def add_token(self, host: str, slug: str, username: str, token: str) -> None:
        """Allow HTTPS reads of a repository with ``username`` and ``token``."""
        with self._lock:
            self._tokens.setdefault(repo_key(host, slug), {})[_digest(token)] = username

    def revoke_token(self, host: str, slug: str, token: str) -> bool:
        """Withdraw a token; False when it was not registered on that repository."""
        with self._lock:
            return self._tokens.get(repo_key(host, slug), {}).pop(_digest(token), None) is not None

    # -- checks -------------------------------------------------------------------------------

    def check_ssh(self, handle: RepoHandle, private_key_b64_or_pem: str | None) -> AccessResult:
        """May this private key clone the repository over SSH? A key is needed even for public repos."""
        if not private_key_b64_or_pem:
            return _fail("ssh-key", None, handle.url, _SSH_DENIED.format(methods="none"))
        parsed = self._public_key(private_key_b64_or_pem)
        if isinstance(parsed, str):
            return _fail("ssh-key", None, handle.url, parsed)
        blob, fingerprint = parsed
        with self._lock:
            keys = self._keys.get(repo_key(handle.host, handle.slug), [])
            # A broken key (a fault) is listed by the API but SSH does not honour it.
            allowed = any(base64.b64decode(k.key.split()[1]) == blob and k.id not in self._broken for k in keys)
        if not allowed:
            return _fail("ssh-key", fingerprint, handle.url, _SSH_DENIED.format(methods="none publickey"))
        return AccessResult(True, "ssh-key", fingerprint, f"authenticated with key {fingerprint}")

    def check_https(self, handle: RepoHandle, username: str | None, token: str | None) -> AccessResult:
        """May these credentials clone the repository over HTTPS? Public repos need none.

        As on GitHub, credentials that are sent must be valid even for a public repository.
        """
        if not token:
            if handle.private:
                return _fail("anonymous", None, handle.url, "authentication required")
            return AccessResult(True, "anonymous", None, "public repository")
        with self._lock:
            owner = self._tokens.get(repo_key(handle.host, handle.slug), {}).get(_digest(token))
        if owner is None or not username or owner.casefold() != username.casefold():
            return _fail("https-token", None, handle.url, "authentication required")
        return AccessResult(True, "https-token", None, f"authenticated as {owner}")

    def check_unknown(self, url: str, *, ssh_key: str | None, token: str | None) -> AccessResult:
        """The answer for a URL naming no repository: indistinguishable from a private one."""
        parsed = parse_repo_url(url)
        shown = redact_url(url)
        if parsed is not None and parsed[0] == "ssh":
            if not ssh_key:
                return _fail("ssh-key", None, shown, _SSH_DENIED.format(methods="none"))
            key = self._public_key(ssh_key)
            fingerprint = None if isinstance(key, str) else key[1]
            return _fail("ssh-key", fingerprint, shown, _SSH_DENIED.format(methods="none publickey"))
        if token:
            return _fail("https-token", None, shown, "repository not found")
        return _fail("anonymous", None, shown, "authentication required")

    def _public_key(self, private_key: str) -> tuple[bytes, str] | str:
        """Parsed (blob, fingerprint) or the parse error message, cached by the key's digest."""
        digest = _digest(private_key.strip())
        with self._lock:
            hit = self._parsed.get(digest)
        if hit is None:
            try:
                hit = public_key_of(private_key)
            except ValueError as exc:
                hit = str(exc)
            with self._lock:
                self._parsed[digest] = hit
                while len(self._parsed) > _KEY_CACHE_SIZE:
                    self._parsed.popitem(last=False)
        return hit


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _fail(method: str, fingerprint: str | None, url: str, detail: str) -> AccessResult:
    return AccessResult(False, method, fingerprint, _CLONE.format(url=url, detail=detail))
