"""A real Celery worker process on a real redis-server, started as the Procfile starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parents[2]


def test_worker_from_procfile_answers_ping(redis_server: str, tmp_path: Path):
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(procfile) == {"web", "worker", "beat"}
    command = procfile["worker"].split()
    assert command[0] == "celery"
    env = {**os.environ, "REDIS_URL": redis_server, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", *command[1:], "--pool=solo", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("w"),
    )  # fmt: skip
    try:
        client = Celery(broker=redis_server, backend=redis_server)
        answer = client.send_task("fluxops.health.ping", queue="fluxops").get(timeout=60)
        assert answer["pong"] == "fluxops" and answer["pid"] == worker.pid
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_celery_reliability_settings():
    from bot.settings import Settings
    from workers.celery_app import HARD_TIME_LIMIT, MAX_COUNTDOWN
    from workers.main import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit == HARD_TIME_LIMIT
    assert conf.broker_transport_options["visibility_timeout"] > HARD_TIME_LIMIT + MAX_COUNTDOWN
    # a worker told to stop (with REMAP_SIGTERM=SIGQUIT) hands running jobs back after this, not at once
    assert conf.worker_soft_shutdown_timeout == Settings().worker_soft_shutdown_timeout > 0
