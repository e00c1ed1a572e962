"""The Kubernetes adapter against servers that misbehave mid-answer: a body cut off, a body dripped a byte at a
time. A raw-socket server in the test plays them (the sandbox's API answers well); the real ``kubernetes``
client and urllib3 read from it."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot import errors
from bot.models import ClusterRef, ClusterType
from workers.kube_cluster_api import KubeClusterApi, KubeTimeouts
from workers.kube_credentials import ClusterAccess
from workers.kubeconfig import Kubeconfig

CLUSTER = ClusterRef("sub", "rg", ClusterType.CONNECTED, "dripping")
BODY = b'{"kind": "CustomResourceDefinitionList", "items": []}' + b" " * 10


class StaticCredentials:
    """Credentials for a server on this machine (plain HTTP: what is under test is the reading)."""

    def __init__(self, server: str) -> None:
        self.server = server

    def fetch(self, cluster: ClusterRef, *, fresh: bool = False) -> ClusterAccess:
        return ClusterAccess(cluster=cluster, kubeconfig=Kubeconfig(server=self.server), token="t")

    def is_private(self, cluster: ClusterRef) -> bool:
        return False


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """Serve every connection with ``answer`` (after reading the request's head); the server's URL."""
    listeners: list[socket.socket] = []

    def start(answer: Callable[[socket.socket], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def loop() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    head = b""
                    while b"\r\n\r\n" not in head and (chunk := conn.recv(4096)):
                        head += chunk
                    with contextlib.suppress(OSError):
                        answer(conn)

        threading.Thread(target=loop, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def head(length: int) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()


def adapter(server: str, **timeouts: float) -> KubeClusterApi:
    return KubeClusterApi(
        credentials=StaticCredentials(server),  # type: ignore[arg-type]
        timeouts=KubeTimeouts(**{"connect": 1.0, "read": 2.0, **timeouts}),
    )


def test_a_body_cut_off_is_unreachable_not_a_raw_error(serve) -> None:
    def cut_off(conn: socket.socket) -> None:
        conn.sendall(head(1000) + BODY[:12])
        time.sleep(0.1)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a clean close

    kube = adapter(serve(cut_off))

    with pytest.raises(errors.ClusterUnreachable) as failed:
        kube.custom_resource_definitions(CLUSTER)
    assert failed.value.retryable and failed.value.code == "Unreachable"
    assert failed.value.message == (
        "listing CustomResourceDefinitions in every namespace on cluster 'dripping': the API server at 127.0.0.1 "
        "could not be reached (the connection was reset mid-answer)"
    )


def test_a_body_stalling_mid_way_is_unreachable(serve) -> None:
    def stall(conn: socket.socket) -> None:
        conn.sendall(head(len(BODY)) + BODY[:12])
        time.sleep(4)

    kube = adapter(serve(stall), read=1.0)

    with pytest.raises(errors.ClusterUnreachable) as failed:
        kube.custom_resource_definitions(CLUSTER)
    assert "timed out" in failed.value.message


def test_a_dripping_server_meets_the_calls_deadline(serve) -> None:
    """A byte every 0.2 s never trips the 2 s read timeout; the whole call still ends by its deadline."""

    def drip(conn: socket.socket) -> None:
        conn.sendall(head(len(BODY)))
        for byte in BODY:
            conn.sendall(bytes([byte]))
            time.sleep(0.2)

    kube = adapter(serve(drip), total=1.5)

    started = time.monotonic()
    with pytest.raises(errors.ClusterUnreachable) as failed:
        kube.custom_resource_definitions(CLUSTER)
    assert time.monotonic() - started < 4
    assert failed.value.retryable and "no complete answer within 1.5 s" in failed.value.message


def test_a_prompt_answer_is_read_whole(serve) -> None:
    kube = adapter(serve(lambda conn: conn.sendall(head(len(BODY)) + BODY)), total=1.5)
    assert kube.custom_resource_definitions(CLUSTER) == []
