"""workers/helm_index.py against a real HTTP server on this machine: an index read, and what it refuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workers.helm_index import HttpChartIndexes

INDEX = b"""\
apiVersion: v1
entries:
  podinfo:
    - version: 6.5.4
    - version: 6.5.3
  redis:
    - version: 19.6.4
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/charts/index.yaml":
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
