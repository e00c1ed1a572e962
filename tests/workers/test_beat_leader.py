"""Two real beat processes (the Procfile's line) on one real redis-server: one sends, the other takes over when
the sender is killed; plus the lease's own rules."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.redis_server import RedisServer
from workers.beat_leader import LEADER_KEY, TTL_CONF_KEY, LeaderLease, LeaderScheduler, lease_client
from workers.task_message import QUEUE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own: beats send into its queue, and no worker of another test drains it."""
    server = RedisServer(tmp_path)
    yield server.url
    server.stop()


def wait_for(what: str, check: Callable[[], bool], *, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within}s for {what}")
        time.sleep(0.05)


def senders(client: redis.Redis) -> list[int]:
    """The pid of the process that sent each message in the queue, oldest first (Celery's ``origin`` header)."""
    pids = []
    for raw in reversed(client.lrange(QUEUE, 0, -1)):  # LPUSHed: the list's head is the newest
        origin = json.loads(raw)["headers"]["origin"]  # gen<pid>@<hostname>
        pids.append(int(origin.split("@", 1)[0].removeprefix("gen")))
    return pids


class Beat:
    def __init__(self, name: str, *, redis_url: str, directory: Path) -> None:
        procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
        command = shlex.split(procfile["beat"])
        assert command[:4] == ["celery", "-A", "workers.main", "beat"]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "REDIS_URL": redis_url,
            "FLUXOPS_BEAT_LOCK_TTL": "1.5",
            "FLUXOPS_RECOVER_INTERVAL": "0.2",
        }
        self.log = directory / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=directory,  # where the Procfile's relative schedule file would go: beat must not need it
            env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def says(self, text: str) -> bool:
        return text in self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)


def test_two_beats_one_sends_and_the_other_takes_over_when_it_dies(own_redis: str, tmp_path: Path):
    client = redis.Redis.from_url(own_redis)
    beats = [Beat(name, redis_url=own_redis, directory=tmp_path) for name in ("beat-a", "beat-b")]
    try:
        wait_for("one beat to take the lease", lambda: client.get(LEADER_KEY) is not None)
        leader_pid = int(client.get(LEADER_KEY).decode().split(":")[1])
        leader, standby = sorted(beats, key=lambda beat: beat.proc.pid != leader_pid)
        assert leader.proc.pid == leader_pid
        # the standby has checked the lease and found it taken: from now on, a beat that sent would show
        wait_for("the standby to stand by", lambda: standby.says("stands by"))
        before = len(senders(client))
        wait_for("the leader to send five more", lambda: len(senders(client)) >= before + 5)
        assert set(senders(client)) == {leader.proc.pid}, "only the leader sent"
        # each copy expires after its interval (0.2 s here): a backlog holds no pile of stale sweeps
        sent = [json.loads(raw)["headers"] for raw in client.lrange(QUEUE, 0, -1)]
        assert sent and all(headers["expires"] for headers in sent)
        assert {headers["task"] for headers in sent} == {"fluxops.jobs.recover"}
        assert standby.proc.poll() is None

        leader.stop(signal.SIGKILL)  # no clean exit: the lease has to run out
        wait_for("the standby to send", lambda: standby.proc.pid in senders(client))
        assert client.get(LEADER_KEY).decode().split(":")[1] == str(standby.proc.pid)
        assert standby.says("leads")

        standby.stop()  # a clean stop hands the lease back at once
        assert client.get(LEADER_KEY) is None
    finally:
        for beat in beats:
            beat.stop(signal.SIGKILL)


def test_the_lease_is_one_holders_until_released(own_redis: str):
    client = redis.Redis.from_url(own_redis)
    first = LeaderLease(client=client, identity="beat-1", ttl_seconds=30)
    second = LeaderLease(client=client, identity="beat-2", ttl_seconds=30)
    assert first.hold()
    assert first.hold(), "renewing a lease it holds"
    assert not second.hold()
    second.release()  # not its lease: nothing happens
    assert first.holder() == "beat-1"
    assert 29_000 < client.pttl(LEADER_KEY) <= 30_000
    first.release()
    assert first.holder() is None
    assert second.hold()
    assert not first.hold()


def test_the_lease_refuses_a_ttl_that_is_not_positive(own_redis: str):
    with pytest.raises(ValueError, match="positive TTL"):
        LeaderLease(client=redis.Redis.from_url(own_redis), identity="beat-1", ttl_seconds=0)


class SilentServer:
    """Accepts connections and never answers: a half-open connection after a failover, or a lost node."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def test_a_beat_whose_redis_never_answers_stands_by_after_one_try():
    """The lease check gives up after its socket timeout, without retrying (a beat not sure it leads sends
    nothing, and the next tick asks again); left to redis-py's defaults it retried for most of a minute."""
    silent = SilentServer()
    try:
        app = Celery(broker=silent.url)
        app.conf[TTL_CONF_KEY] = 3.0
        scheduler = LeaderScheduler(app)
        waits: list[float] = []
        check = threading.Thread(target=lambda: waits.append(scheduler.tick()), daemon=True)
        check.start()
        check.join(timeout=120)  # the bound on a hang only
        assert not check.is_alive(), "the lease check still waits for a Redis that never answers"
        assert waits == [scheduler.check_every], "it stands by"
        assert len(silent.connections) == 1, "one try per check, and no second wait to name the holder"
        kwargs = lease_client(silent.url, check_every=10).connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 5
        assert kwargs["health_check_interval"] > 0
        with pytest.raises(redis.TimeoutError):
            scheduler.lease.hold()
    finally:
        silent.close()
