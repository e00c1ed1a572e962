"""workers/helm_index.py against a real HTTP server on this machine: an index read, and what it refuses
(addresses that are not public, however they are spelt or rebound; servers too slow or too big)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import workers.helm_index as helm_index
from workers.helm_index import HttpChartIndexes, public

INDEX = b"""\
apiVersion: v1
entries:
  podinfo:
    - version: 6.5.4
    - version: 6.5.3
  redis:
    - version: 19.6.4
"""


SEEN: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN.append(self.path)
        if self.path == "/slow/index.yaml":
            self.send_response(200)
            self.end_headers()
            for _ in range(8):  # a byte every 0.5 s: never idle for a whole timeout
                self.wfile.write(b"#")
                self.wfile.flush()
                time.sleep(0.5)
        elif self.path == "/charts/index.yaml":
            self.send_response(200)
            self.send_header("Content-Length", str(len(INDEX)))
            self.end_headers()
            self.wfile.write(INDEX)
        elif self.path == "/moved/index.yaml":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    SEEN.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_an_index_is_read_into_chart_versions(server: str) -> None:
    index = HttpChartIndexes(allow_private=True).read(f"{server}/charts/")
    assert index.problem == ""
    assert dict(index.charts) == {"podinfo": ("6.5.4", "6.5.3"), "redis": ("19.6.4",)}


def test_a_missing_index_and_a_redirect_are_problems_not_errors(server: str) -> None:
    charts = HttpChartIndexes(allow_private=True)
    assert charts.read(f"{server}/nothing").problem == "could not be read (HTTP 404)"
    assert charts.read(f"{server}/moved").problem == "could not be read (HTTP 302)"


def test_addresses_that_are_not_public_are_never_fetched(server: str) -> None:
    charts = HttpChartIndexes()
    assert charts.read(f"{server}/charts").problem == "is not at a public address fluxops may read"
    assert charts.read("http://169.254.169.254/latest").problem == "is not at a public address fluxops may read"
    assert charts.read("file:///etc/passwd").problem == "is not an http(s) URL"


def test_a_name_that_rebinds_to_loopback_after_the_check_reaches_nothing(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(server.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1"])  # TTL 0: public for the check, loopback for the fetch

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "charts.attacker.example":
            return real(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "127.0.0.1"), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(helm_index, "TIMEOUT_SECONDS", 1.0)
    index = HttpChartIndexes().read(f"http://charts.attacker.example:{port}/charts")
    assert SEEN == [], "the fetch went to 127.0.0.1 after the check saw a public address"
    assert index.problem and dict(index.charts) == {}


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "169.254.169.254",
        "10.1.2.3",
        "::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::169.254.169.254",  # IPv4-compatible
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "fe80::1",
        "ff0e::1",
    ],
)
def test_addresses_leading_to_private_ones_are_not_public(address: str) -> None:
    assert not public(ipaddress.ip_address(address))


def test_public_addresses_and_their_ipv6_forms_are() -> None:
    for address in ("93.184.216.34", "2606:2800:220:1::1", "64:ff9b::5db8:d822", "2002:5db8:d822::1"):
        assert public(ipaddress.ip_address(address)), address


def test_a_slow_server_is_cut_off_at_the_timeout_for_the_whole_read(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helm_index, "TIMEOUT_SECONDS", 1.0)
    started = time.monotonic()
    index = HttpChartIndexes(allow_private=True).read(f"{server}/slow")
    assert time.monotonic() - started < 2.0, "a 1 s timeout held the worker for the whole drip (4 s)"
    assert index.problem == "could not be read within 1 s"


def test_a_body_over_the_cap_is_a_problem(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm_index, "MAX_BYTES", 16)
    assert HttpChartIndexes(allow_private=True).read(f"{server}/charts").problem == "is larger than 0 MiB"


def test_few_indexes_are_kept_the_least_recently_read_dropped_first(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helm_index, "KEPT", 2)
    charts = HttpChartIndexes(allow_private=True)
    for path in ("a", "b", "a", "c", "a"):
        charts.read(f"{server}/{path}")
    assert SEEN == ["/a/index.yaml", "/b/index.yaml", "/c/index.yaml"], "a kept; b dropped for c"
    charts.read(f"{server}/b")
    assert SEEN[-1] == "/b/index.yaml"
