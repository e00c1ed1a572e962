"""SIGTERM, as Kubernetes stops a pod: a web finishes the request in flight and takes no new connection; a worker
gives its running job back to the queue, and the other worker finishes it exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket

import redis

from bot.views import Phase
from cli.chat import Chat, Target
from sandbox.stack import CHANNEL, YOU
from tests.scenarios.replicas.burst import github_push
from tests.scenarios.replicas.replica_stack import ReplicaStack, ReplicaStackThread
from tests.scenarios.replicas.scenario_checks import (
    accepted_puts,
    audit_entries,
    create_text,
    job_messages,
    set_faults,
    wait_for,
    worker_of,
)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """The status and body of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed in the middle of the response body"
        body += chunk
    return int(lines[0].split()[1]), body


def restart(thread: ReplicaStackThread, stack: ReplicaStack, name: str) -> None:
    """Start replica ``name`` again, as its Deployment would, and wait until it is ready."""
    stack.children.pop(name, None)
    stack.start_process(name)
    thread.call(stack.wait_ready([name]))


def test_a_web_told_to_stop_answers_the_request_in_flight_and_refuses_new_connections(
    replica_thread: ReplicaStackThread, replicas: ReplicaStack, redis_client: redis.Redis
) -> None:
    port = replicas.web_ports["web-2"]
    web = replicas.children["web-2"]
    request = github_push(replicas, 50_000)
    head = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    # Redis holds every write for now: the delivery's enqueue waits in its handler, as under a slow Redis
    redis_client.execute_command("CLIENT", "PAUSE", 30_000, "WRITE")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(
                f"POST {request.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Length: {len(request.body)}\r\n{head}\r\n".encode()
                + request.body
            )
            # a request on another connection, answered after ours was sent: the web has read ours whole and
            # its handler is running
            with socket.create_connection(("127.0.0.1", port), timeout=30) as probe:
                probe.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                assert read_response(probe)[0] == 200

            os.kill(web.pid, signal.SIGTERM)
            wait_for("web-2 to stop listening", lambda: refused(port), within=30)
            assert web.poll() is None, "still running: the request in flight is not answered yet"

            redis_client.execute_command("CLIENT", "UNPAUSE")
            status, body = read_response(sock)
    finally:
        redis_client.execute_command("CLIENT", "UNPAUSE")
    assert status == 202, body
    assert web.wait(timeout=30) == 0, "it ended by itself once the request was answered"
    job_id = json.loads(body)["job"]
    wait_for("the push job to end", lambda: redis_client.hget(f"fluxops:job:{job_id}", "p:phase") == "succeeded")
    restart(replica_thread, replicas, "web-2")


def test_a_worker_told_to_stop_hands_its_running_job_back_and_the_other_worker_finishes_it_once(
    replica_thread: ReplicaStackThread, replicas: ReplicaStack, redis_client: redis.Redis
) -> None:
    stack = replicas
    name = "handback"
    chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    # the create's ARM operation stays InProgress for a while: the job is running when its worker is told to stop
    set_faults(stack, [{"method": "PUT", "path": f"fluxConfigurations/{name}$", "operation": "slow", "seconds": 6}])
    try:
        ack = chat.send(create_text(name))
        assert ack["status"] == 200
        job_id = str(ack["body"]["text"]).split("job ")[1].split(".")[0].strip("` ")
        wait_for("the ARM operation to start", lambda: redis_client.hget(f"fluxops:job:{job_id}", "p:token:write"))
        stopping = worker_of(stack, redis_client, job_id)
        other = next(n for n in stack.children if n.startswith("worker-") and n != stopping)
        worker = stack.children[stopping]

        os.kill(worker.pid, signal.SIGTERM)  # the container's main process, as the kubelet signals it
        worker.wait(timeout=60)
        assert "Restoring 1 unacknowledged message" in stack.log_text(stopping)

        assert chat.follow(job_id) == 0
    finally:
        set_faults(stack, [])
    assert redis_client.hget(f"fluxops:job:{job_id}", "p:phase") == Phase.SUCCEEDED
    assert worker_of(stack, redis_client, job_id, field="p:taken_by") == other, "the other worker finished it"
    assert accepted_puts(stack)[name] == 1, "it resumed the ARM operation: no second PUT"
    assert [e["result"] for e in audit_entries(redis_client, job_id)] == ["succeeded"]
    assert len(job_messages(stack, job_id)) == 1, "one Slack message, edited in place by both workers"
    restart(replica_thread, stack, stopping)
