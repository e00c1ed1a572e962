"""RedisFailpoints on a real redis-server: pause until released, crash once (in a child process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from bot.errors import ConfigurationError
from workers.failpoints import FAILPOINTS_KEY, RedisFailpoints, reached_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server, decode_responses=True)
    yield connection
    connection.close()


@pytest.fixture
def step() -> str:
    return f"rotate:switched-{uuid.uuid4().hex[:8]}"


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.01)


def test_an_unarmed_step_passes_at_once(client: redis.Redis, step: str) -> None:
    sleeps: list[float] = []
    RedisFailpoints(redis=client, sleep=sleeps.append)("job-1", step)
    assert sleeps == [] and client.exists(reached_key(step)) == 0


def test_pause_says_where_it_stopped_and_returns_when_released(client: redis.Redis, step: str) -> None:
    client.hset(FAILPOINTS_KEY, step, "pause")
    ticks: list[float] = []

    def tick(seconds: float) -> None:  # counts the pause's rereads of its action
        ticks.append(seconds)
        time.sleep(seconds)

    failpoints = RedisFailpoints(redis=client, tick=0.01, sleep=tick)
    worker = threading.Thread(target=failpoints, args=("job-7", step), daemon=True)
    worker.start()
    wait_for(lambda: client.get(reached_key(step)) == "job-7")
    seen = len(ticks)
    wait_for(lambda: len(ticks) >= seen + 3)  # it read "pause" again three times since, and stayed
    assert worker.is_alive()  # still paused
    client.hdel(FAILPOINTS_KEY, step)
    worker.join(timeout=5)
    assert not worker.is_alive()


def test_an_unknown_action_is_refused(client: redis.Redis, step: str) -> None:
    client.hset(FAILPOINTS_KEY, step, "explode")
    try:
        with pytest.raises(ConfigurationError, match="'explode'"):
            RedisFailpoints(redis=client, tick=0.01)("job-1", step)
    finally:
        client.hdel(FAILPOINTS_KEY, step)


def _child(redis_url: str, step: str) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import redis
        from workers.failpoints import RedisFailpoints
        RedisFailpoints(redis=redis.Redis.from_url({redis_url!r}), tick=0.01)("job-9", {step!r})
        print("passed", flush=True)
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


def test_crash_kills_the_process_once(client: redis.Redis, redis_server: str, step: str) -> None:
    client.hset(FAILPOINTS_KEY, step, "crash")
    child = _child(redis_server, step)
    out, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL and "passed" not in out
    assert client.get(reached_key(step)) == "job-9"
    assert client.hexists(FAILPOINTS_KEY, step) is False  # fired once
    again = _child(redis_server, step)
    out, _ = again.communicate(timeout=30)
    assert again.returncode == 0 and "passed" in out


def test_a_paused_worker_can_be_told_to_crash(client: redis.Redis, redis_server: str, step: str) -> None:
    client.hset(FAILPOINTS_KEY, step, "pause")
    child = _child(redis_server, step)
    try:
        wait_for(lambda: client.get(reached_key(step)) == "job-9")
        assert child.poll() is None
        client.hset(FAILPOINTS_KEY, step, "crash")
        child.wait(timeout=30)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
