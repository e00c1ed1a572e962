"""bot.ports.ChartIndexes over HTTP(S): a Helm repository's ``index.yaml``, read for the pull-request preflight.

The URL comes from a pull request's files, so anyone who can open one chooses what the worker fetches: only
http(s) to public addresses (no loopback, private, link-local or reserved ones: no cloud metadata endpoint, no
service inside the cluster), no redirects, a short timeout and a size cap. Whatever goes wrong becomes the
index's ``problem`` (the preflight says it did not check, and does not fail). Indexes are kept a few minutes:
a pull request pushed again reads the same ones.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
import yaml

from bot.preflight.chart_versions import ChartIndex

#: bitnami's index is tens of MiB; anything far past that is not an index
MAX_BYTES = 64 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
KEEP_SECONDS = 300.0


def _public(host: str) -> bool:
    """Whether every address ``host`` resolves to is a public one."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addresses) and all(a.is_global and not a.is_multicast for a in addresses)


class HttpChartIndexes:
    """Reads ``{url}/index.yaml`` with requests; ``allow_private`` only for the sandbox's own servers."""

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        allow_private: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session or requests.Session()
        self._allow_private = allow_private
        self._clock = clock
        self._kept: dict[str, tuple[float, ChartIndex]] = {}

    def read(self, url: str) -> ChartIndex:
        kept = self._kept.get(url)
        if kept is not None and self._clock() - kept[0] < KEEP_SECONDS:
            return kept[1]
        index = self._fetch(url)
        self._kept[url] = (self._clock(), index)
        return index

    def _fetch(self, url: str) -> ChartIndex:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return ChartIndex(url, {}, problem="is not an http(s) URL")
        if not self._allow_private and not _public(parts.hostname):
            return ChartIndex(url, {}, problem="is not at a public address fluxops may read")
        where = url.rstrip("/") + "/index.yaml"
        try:
            with self._session.get(where, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True) as response:
                if response.status_code != 200:
                    return ChartIndex(url, {}, problem=f"could not be read (HTTP {response.status_code})")
                body = bytearray()
                for chunk in response.iter_content(1 << 16):
                    body += chunk
                    if len(body) > MAX_BYTES:
                        return ChartIndex(url, {}, problem=f"is larger than {MAX_BYTES >> 20} MiB")
        except requests.RequestException as error:
            return ChartIndex(url, {}, problem=f"could not be read ({type(error).__name__})")
        return _parse(url, bytes(body))


def _parse(url: str, body: bytes) -> ChartIndex:
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        return ChartIndex(url, {}, problem="is not valid YAML")
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return ChartIndex(url, {}, problem="has no chart entries")
    charts = {
        str(name): tuple(str(v["version"]) for v in versions if isinstance(v, dict) and "version" in v)
        for name, versions in entries.items()
        if isinstance(versions, list)
    }
    return ChartIndex(url, charts)
