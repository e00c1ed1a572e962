"""The worker and beat processes' entry: `celery -A workers.main worker` and `celery -A workers.main beat`.

A composition root: the settings are read and the Celery app is built here, once, when Celery loads this
module; the tasks (workers/tasks.py) are shared tasks that bind to it, and build their ports on first use
(workers/wiring.py).
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot.settings import Settings
from workers.celery_app import make_celery
from workers.log_context import celery_role, install
from workers.metrics_server import install as install_metrics

try:
    settings = Settings()
except ValidationError as error:  # an invalid LOG_FORMAT among them: said plainly, not as Celery's load error
    print(f"fluxops {celery_role(sys.argv)}: refusing to start: invalid settings: {error}", file=sys.stderr)
    raise SystemExit(2) from None
install(settings)  # logging (LOG_FORMAT) and tracing are fluxops's, not Celery's
app = make_celery(settings)
install_metrics(app, settings)  # each process's /metrics (workers/metrics_server.py)
