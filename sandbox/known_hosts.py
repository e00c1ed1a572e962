"""known_hosts text as OpenSSH writes it and Flux's Go ``knownhosts`` package reads it. Pure.

A line is ``[@revoked|@cert-authority] patterns keytype base64-blob [comment]``. ``patterns`` is either
comma-separated host patterns (``*`` and ``?`` globs, ``!`` negation, ``[host]:port`` for a port other
than 22) or one hashed entry ``|1|base64(salt)|base64(HMAC-SHA1(salt, host))`` as ``ssh-keygen -H``
writes it, where ``host`` is ``github.com`` or ``[github.com]:2222``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

HostKeyCheck = Literal["ok", "mismatch", "unknown", "revoked"]
_MARKERS = ("@revoked", "@cert-authority")
_DEFAULT_PORT = 22


class KnownHostsError(ValueError):
    """A known_hosts line that cannot be read; the message says which line and why."""


@dataclass(frozen=True)
class KnownHost:
    """One known_hosts line: its marker (None, ``@revoked`` or ``@cert-authority``), host field and key."""

    line: int
    marker: str | None
    hosts: str  # the host field as written: patterns or one hashed entry
    key_type: str
    blob: bytes


def parse_known_hosts(text: str) -> list[KnownHost]:
    """Every entry of a known_hosts text; blank lines and ``#`` comments are skipped.

    Raises KnownHostsError for a line Go's ``knownhosts`` would refuse (it refuses the whole file).
    """
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        marker = fields.pop(0) if fields[0] in _MARKERS else None
        if len(fields) < 2:
            raise KnownHostsError(f"line {number}: missing host pattern")
        if len(fields) < 3:
            raise KnownHostsError(f"line {number}: missing key type pattern")
        hosts, key_type, encoded = fields[:3]
        _check_hosts(number, hosts)
        entries.append(KnownHost(number, marker, hosts, key_type, _key_blob(number, key_type, encoded)))
    return entries


def host_address(host: str, port: int | None) -> str:
    """How known_hosts names a server: ``github.com`` on port 22, ``[github.com]:2222`` otherwise."""
    host = host.lower()
    return host if port in (None, _DEFAULT_PORT) else f"[{host}]:{port}"


def hosts_match(hosts: str, host: str, port: int | None) -> bool:
    """Does a line's host field name ``host:port``? Hashed entries, globs and negations included."""
    if hosts.startswith("|"):
        hashed = _hashed(hosts)
        if hashed is None:
            return False
        salt, digest = hashed
        mac = hmac.new(salt, host_address(host, port).encode(), hashlib.sha1)
        return hmac.compare_digest(mac.digest(), digest)
    wanted = (host.lower(), port or _DEFAULT_PORT)
    matched = False
    for pattern in filter(None, hosts.split(",")):
        negate = pattern.startswith("!")
        pattern_host, pattern_port = _split_pattern(pattern[1:] if negate else pattern)
        if pattern_port == wanted[1] and _glob(pattern_host.lower(), wanted[0]):
            if negate:
                return False
            matched = True
    return matched


def check_host_key(
    entries: Iterable[KnownHost], host: str, port: int | None, offered: Sequence[tuple[str, bytes]]
) -> HostKeyCheck:
    """What a client holding ``entries`` makes of a server at ``host:port`` offering these keys.

    ``revoked``: an ``@revoked`` line holds an offered key (for any host, as in Go). ``ok``: a line
    naming the host holds an offered key. ``mismatch``: lines name the host, with other keys.
    ``unknown``: no line names the host. ``@cert-authority`` lines are skipped: no offered key is a
    certificate.
    """
    offered_keys = set(offered)
    named = False
    found = False
    for entry in entries:
        key = (entry.key_type, entry.blob)
        if entry.marker == "@revoked":
            if key in offered_keys:
                return "revoked"
            continue
        if entry.marker is not None or not hosts_match(entry.hosts, host, port):
            continue
        named = True
        found = found or key in offered_keys
    if found:
        return "ok"
    return "mismatch" if named else "unknown"


def _key_blob(number: int, key_type: str, encoded: str) -> bytes:
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KnownHostsError(f"line {number}: illegal base64 data in the key") from None
    # An SSH public key blob starts with its own type name as a length-prefixed string.
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if size < 0 or blob[4 : 4 + size] != key_type.encode():
        raise KnownHostsError(f"line {number}: the key is not a {key_type} public key")
    return blob


def _hashed(hosts: str) -> tuple[bytes, bytes] | None:
    """(salt, HMAC) of a ``|1|salt|hmac`` host field; None when it is not one."""
    parts = hosts.split("|")
    if len(parts) != 4 or parts[0] or parts[1] != "1":
        return None
    try:
        return base64.b64decode(parts[2], validate=True), base64.b64decode(parts[3], validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_hosts(number: int, hosts: str) -> None:
    if hosts.startswith("|"):
        parts = hosts.split("|")
        if len(parts) == 4 and parts[1] != "1":
            raise KnownHostsError(f"line {number}: got hash type {parts[1]}, must be '1'")
        if _hashed(hosts) is None:
            raise KnownHostsError(f"line {number}: a hashed host must read |1|base64(salt)|base64(hmac)")
        return
    for pattern in filter(None, hosts.split(",")):
        if pattern == "!":
            raise KnownHostsError(f"line {number}: negation without following hostname")
        try:
            _split_pattern(pattern.removeprefix("!"))
        except ValueError:
            raise KnownHostsError(f"line {number}: invalid host pattern {pattern!r}") from None


def _split_pattern(pattern: str) -> tuple[str, int]:
    """(host glob, port) of one pattern: ``[host]:port``, ``host:port`` or ``host`` (port 22).

    Raises ValueError for a malformed bracketed pattern.
    """
    if pattern.startswith("["):
        host, sep, port = pattern[1:].partition("]:")
        if not sep or not host or not port.isdigit():
            raise ValueError(pattern)
        return host, int(port)
    host, sep, port = pattern.partition(":")
    # As Go's net.SplitHostPort: one colon splits off a port; none or several (IPv6) leave the host.
    if sep and ":" not in port and port.isdigit():
        return host, int(port)
    return pattern, _DEFAULT_PORT


def _glob(pattern: str, text: str) -> bool:
    """OpenSSH's wildcard match: ``*`` any run (dots included), ``?`` one character."""
    if not pattern:
        return not text
    if pattern[0] == "*":
        return any(_glob(pattern[1:], text[i:]) for i in range(len(text) + 1))
    return bool(text) and pattern[0] in ("?", text[0]) and _glob(pattern[1:], text[1:])
