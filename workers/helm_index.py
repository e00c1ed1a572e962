"""bot.ports.ChartIndexes over HTTP(S): a Helm repository's ``index.yaml``, read for the pull-request preflight.

The URL comes from a pull request's files, so anyone who can open one chooses what the worker fetches: only
http(s) to public addresses (no loopback, private, link-local or reserved ones, nor IPv6 forms that carry
such an IPv4 address: no cloud metadata endpoint, no service inside the cluster), no redirects, no proxy, one
deadline for the whole read and a size cap. The name is resolved once and the connection made to the address
that was checked (the Host header and TLS server name stay the name's): a name that answers a public address
for the check and 127.0.0.1 for the fetch (DNS rebinding) reaches nothing. Whatever goes wrong becomes the
index's ``problem`` (the preflight says it did not check, and does not fail). The last few indexes are kept a
few minutes: a pull request pushed again reads the same ones.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import certifi
import yaml

from bot.preflight.chart_versions import ChartIndex

#: bitnami's index is about 20 MiB; anything far past that is not an index
MAX_BYTES = 32 * 1024 * 1024
#: chart versions taken from one index (YAML aliases can make a small body name the same list millions of times)
MAX_VERSIONS = 500_000
#: for the whole read: connecting, the TLS handshake, the headers and the body
TIMEOUT_SECONDS = 10.0
KEEP_SECONDS = 300.0
#: indexes kept, least recently read dropped first
KEPT = 32

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, IPv4-compatible, 6to4, NAT64 and Teredo forms."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or int(address) >> 32 == 0:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def public(address: Address) -> bool:
    """Whether fluxops may connect to ``address`` for a pull request: global, not multicast, and not an IPv6
    form of an IPv4 address that is not (a NAT64 gateway or 6to4 relay would take it there)."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return address not in _NAT64_LOCAL and all(public(v4) for v4 in _embedded(address))
    return True


class HttpChartIndexes:
    """Reads ``{url}/index.yaml``; ``allow_private`` only for the sandbox's own servers."""

    def __init__(self, *, allow_private: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self._allow_private = allow_private
        self._clock = clock
        self._kept: OrderedDict[str, tuple[float, ChartIndex]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, url: str) -> ChartIndex:
        with self._lock:
            kept = self._kept.get(url)
            if kept is not None and self._clock() - kept[0] < KEEP_SECONDS:
                self._kept.move_to_end(url)
                return kept[1]
        index = self._fetch(url)
        with self._lock:
            self._kept[url] = (self._clock(), index)
            self._kept.move_to_end(url)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return index

    def _fetch(self, url: str) -> ChartIndex:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return ChartIndex(url, {}, problem="is not an http(s) URL")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return ChartIndex(url, {}, problem="is not an http(s) URL")
        try:
            infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except OSError:
            return ChartIndex(url, {}, problem="could not be read (its name does not resolve)")
        addresses = [(info[0], info[4]) for info in infos]
        if not addresses or (
            not self._allow_private
            and not all(public(ipaddress.ip_address(str(a[1][0]).split("%")[0])) for a in addresses)
        ):
            return ChartIndex(url, {}, problem="is not at a public address fluxops may read")
        target = urlsplit(url.rstrip("/") + "/index.yaml")
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        return _Read(url, self._clock, self._clock() + TIMEOUT_SECONDS).run(
            parts.scheme, parts.hostname, port, addresses, path
        )


class _Read:
    """One fetch over a connection to an address already checked, cut off at ``deadline`` whatever the
    server does (a watchdog shuts the socket: a server that sends a byte a second never idles long enough
    for a per-read timeout)."""

    def __init__(self, url: str, clock: Callable[[], float], deadline: float) -> None:
        self.url, self.clock, self.deadline = url, clock, deadline
        self.sock: socket.socket | None = None
        self.expired = threading.Event()

    def left(self) -> float:
        return max(self.deadline - self.clock(), 0.001)

    def run(
        self,
        scheme: str,
        host: str,
        port: int,
        addresses: Sequence[tuple[socket.AddressFamily, tuple[Any, ...]]],
        path: str,
    ) -> ChartIndex:
        watchdog = threading.Timer(self.left(), self._expire)
        watchdog.daemon = True
        watchdog.start()
        connection = http.client.HTTPConnection(host, port)  # the name is never resolved again: sock is set
        try:
            self.sock = _connect(addresses, self.left())
            if scheme == "https":
                context = ssl.create_default_context(cafile=certifi.where())
                self.sock = context.wrap_socket(self.sock, server_hostname=host)
            connection.sock = self.sock
            connection.request("GET", path, headers={"User-Agent": "fluxops-preflight", "Accept-Encoding": "identity"})
            response = connection.getresponse()
            if response.status != 200:
                return self._problem(f"could not be read (HTTP {response.status})")
            if int(response.getheader("Content-Length") or 0) > MAX_BYTES:
                return self._problem(f"is larger than {MAX_BYTES >> 20} MiB")
            body = bytearray()
            while chunk := response.read1(1 << 16):
                body += chunk
                if len(body) > MAX_BYTES:
                    return self._problem(f"is larger than {MAX_BYTES >> 20} MiB")
                if self.clock() >= self.deadline:
                    break
            if self.expired.is_set() or self.clock() >= self.deadline:
                return self._problem(f"could not be read within {TIMEOUT_SECONDS:g} s")
        except (OSError, http.client.HTTPException, ValueError) as error:
            return self._problem(f"could not be read ({type(error).__name__})")
        finally:
            watchdog.cancel()
            connection.close()
        return _parse(self.url, bytes(body))

    def _problem(self, problem: str) -> ChartIndex:
        if self.expired.is_set():
            problem = f"could not be read within {TIMEOUT_SECONDS:g} s"
        return ChartIndex(self.url, {}, problem=problem)

    def _expire(self) -> None:
        self.expired.set()
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: the read ended anyway
                sock.shutdown(socket.SHUT_RDWR)


def _connect(addresses: Sequence[tuple[socket.AddressFamily, tuple[Any, ...]]], timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers (never a new name lookup)."""
    failure: OSError = OSError("no address")
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as error:
            sock.close()
            failure = error
    raise failure


def _parse(url: str, body: bytes) -> ChartIndex:
    try:
        data = yaml.load(body, Loader=_LOADER)  # noqa: S506 (a safe loader: CSafeLoader or SafeLoader)
    except yaml.YAMLError:
        return ChartIndex(url, {}, problem="is not valid YAML")
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return ChartIndex(url, {}, problem="has no chart entries")
    charts: dict[str, tuple[str, ...]] = {}
    counted = 0
    for name, versions in entries.items():
        if not isinstance(versions, list):
            continue
        counted += len(versions)
        if counted > MAX_VERSIONS:
            return ChartIndex(url, {}, problem=f"names more than {MAX_VERSIONS:,} chart versions")
        charts[str(name)] = tuple(str(v["version"]) for v in versions if isinstance(v, dict) and "version" in v)
    return ChartIndex(url, charts)
