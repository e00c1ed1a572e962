"""A worker's or beat's metrics endpoint: on its port, off with 0, and a taken port never stops the process."""

from __future__ import annotations

import socket

import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import Settings
from tests.redis_server import free_port
from workers.celery_app import make_celery
from workers.metrics import JOBS, beat_task
from workers.metrics_server import serve


def settings(redis_url: str, port: int) -> Settings:
    return Settings(REDIS_URL=redis_url, FLUXOPS_METRICS_PORT=port)


def test_serves_the_process_families_and_the_redis_gauges(redis_server: str):
    port = free_port()
    app = make_celery(settings(redis_server, port), current=False)
    JOBS.labels("push", "", "succeeded").inc()
    server = serve(app, settings(redis_server, port), role="worker", default_port=9808, addr="127.0.0.1")
    assert server is not None
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.shutdown()
        server.server_close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"fluxops_jobs", "fluxops_queue_depth", "fluxops_redis_up", "fluxops_deploy_keys"} <= set(families)
    jobs = {tuple(sorted(s.labels.items())): s.value for s in families["fluxops_jobs"].samples}
    assert jobs[(("command", ""), ("kind", "push"), ("outcome", "succeeded"))] >= 1
    assert [s.value for s in families["fluxops_redis_up"].samples] == [1]


def test_port_zero_is_off_and_a_taken_port_is_only_logged(redis_server: str, caplog):
    app = make_celery(settings(redis_server, 0), current=False)
    assert serve(app, settings(redis_server, 0), role="beat", default_port=9809) is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(app, settings(redis_server, port), role="beat", default_port=9809, addr="127.0.0.1") is None
    assert f"cannot listen on port {port}" in caplog.text


def test_every_task_beat_sends_is_counted_under_its_own_name(redis_server: str):
    schedule = make_celery(settings(redis_server, 0), current=False).conf.beat_schedule
    tasks = [entry["task"] for entry in schedule.values()]
    assert "fluxops.fleet.snapshot" in tasks
    assert [beat_task(task) for task in tasks] == tasks
    assert beat_task("fluxops.job.run") == "other"
