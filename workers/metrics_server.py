"""How the worker and beat processes serve their metrics: an HTTP port each, prometheus-client multiprocess inside.

In production the web, worker and beat processes run in separate pods, so no process can gather another's
metrics: each serves its own, and Prometheus scrapes each pod (deploy/prometheus, docs/metrics.md).

- ``celery worker`` serves on FLUXOPS_METRICS_PORT (default 9808) from its main process. Its tasks run in
  prefork pool children, so the counters are kept in prometheus-client's multiprocess files: a fresh
  directory (under PROMETHEUS_MULTIPROC_DIR when set, else the temp dir) is made before any task module is
  imported (Celery's ``import_modules`` signal), the children inherit it, and the main process serves their sum.
- ``celery beat`` serves on FLUXOPS_METRICS_PORT (default 9809): the tasks it sent.
- Both add the gauges read from Redis at scrape time (workers/redis_gauges.py).

FLUXOPS_METRICS_PORT=0 turns the endpoint off. A port that is taken is logged and the process runs on
without metrics: a metrics endpoint is never a reason for a worker not to work.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from celery import Celery
from celery.signals import after_task_publish, beat_init, import_modules, worker_ready

from bot.config_file import load_config, read_config_file
from bot.settings import Settings
from workers.key_sealing import sealer_from_settings
from workers.redis_key_registry import RedisKeyRegistry
from workers.task_message import QUEUE, queue_key

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.metrics_core import Metric

    from workers.redis_gauges import RedisGauges

log = logging.getLogger(__name__)

WORKER_PORT = 9808
BEAT_PORT = 9809
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def install(app: Celery, settings: Settings) -> None:
    """Connect the metrics to the process Celery starts from ``app``: worker or beat (nothing runs until then)."""
    import_modules.connect(_prepare_multiprocess, sender=app, weak=False)

    def on_worker_ready(sender: Any = None, **_: Any) -> None:
        serve(app, settings, role="worker", default_port=WORKER_PORT)

    def on_beat_init(sender: Any = None, **_: Any) -> None:
        after_task_publish.connect(_count_beat_task, weak=False)
        serve(app, settings, role="beat", default_port=BEAT_PORT)

    worker_ready.connect(on_worker_ready, weak=False)
    beat_init.connect(on_beat_init, weak=False)


def _prepare_multiprocess(sender: Any = None, **_: Any) -> None:
    """A fresh directory for this process's multiprocess files, before prometheus-client is first imported
    (it chooses its value store then); an operator's PROMETHEUS_MULTIPROC_DIR is the parent of it."""
    if "prometheus_client" in sys.modules:  # too late to choose: the process serves its own values only
        log.warning("metrics: prometheus_client was imported before the worker started; pool children not summed")
        return
    parent = os.environ.get(MULTIPROC_ENV) or tempfile.gettempdir()
    Path(parent).mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="fluxops-metrics-", dir=parent)


def multiprocess_dir() -> str | None:
    """The directory this process's metrics live in, when they are kept in multiprocess files."""
    from prometheus_client import values

    return os.environ.get(MULTIPROC_ENV) if getattr(values.ValueClass, "_multiprocess", False) else None


def serve(
    app: Celery,
    settings: Settings,
    *,
    role: str,
    default_port: int,
    addr: str = "0.0.0.0",  # noqa: S104 (scraped)
) -> WSGIServer | None:
    """Serve this process's metrics on its port (in a daemon thread); the server, or None when off or taken."""
    port = default_port if settings.metrics_port is None else settings.metrics_port
    if port == 0:
        return None
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir()
    if folder is not None:  # the pool children's files and this process's own
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]  # unannotated upstream
    else:
        registry.register(_ProcessMetrics())
    registry.register(redis_gauges(app, settings))
    try:
        server, _ = start_http_server(port, addr=addr, registry=registry)
    except OSError as error:
        log.warning("metrics: cannot listen on port %d (%s); this %s serves no metrics", port, error, role)
        return None
    log.info("metrics: %s serves /metrics on port %d", role, port)
    return server


class _ProcessMetrics:
    """This process's own families (prometheus-client's default registry), when not kept in multiprocess files."""

    def collect(self) -> Iterable[Metric]:
        from prometheus_client import REGISTRY

        return REGISTRY.collect()


def redis_gauges(app: Celery, settings: Settings) -> RedisGauges:
    """The Redis-read gauges for ``app``'s queue, the deploy key registry and the policy's key max age."""
    from workers.redis_gauges import RedisGauges  # imported late: see _prepare_multiprocess

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5.0, socket_connect_timeout=5.0)
    config = read_config_file(settings.fluxops_config) or load_config("{}")
    sealer = sealer_from_settings(settings)
    registry = RedisKeyRegistry(redis=client, sealer=sealer) if sealer is not None else None
    return RedisGauges(
        redis=client,
        queue=QUEUE,
        queue_key=queue_key(app, QUEUE),
        keys=registry.all if registry is not None else None,
        key_policy=config.deploy_keys,
    )


def _count_beat_task(sender: Any = None, **_: Any) -> None:
    from workers.metrics import BEAT_SENT, beat_task

    BEAT_SENT.labels(beat_task(str(sender))).inc()
