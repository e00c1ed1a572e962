"""The worker and beat processes' entry: `celery -A workers.main worker` and `celery -A workers.main beat`.

A composition root: the settings are read and the Celery app is built here, once, when Celery loads this
module; the tasks (workers/tasks.py) are shared tasks that bind to it, and build their ports on first use
(workers/wiring.py).
"""

from __future__ import annotations

from bot.settings import Settings
from workers.celery_app import make_celery
from workers.metrics_server import install as install_metrics

settings = Settings()
app = make_celery(settings)
install_metrics(app, settings)  # each process's /metrics (workers/metrics_server.py)
