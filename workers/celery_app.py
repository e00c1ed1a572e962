"""How fluxops's Celery application is made (Redis broker) and its reliability settings (DESIGN.md §6).

Nothing is built at import: the composition roots call ``make_celery`` with their settings —
workers/main.py for `celery -A workers.main worker|beat`, workers/wiring.py and handlers/app.py for the
job queue, which builds Celery's own task messages (workers/task_message.py).
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from bot.settings import Settings
from workers.task_message import QUEUE

SOFT_TIME_LIMIT = 14 * 60  # a task is told to wrap up...
HARD_TIME_LIMIT = 15 * 60  # ...and killed here
MAX_COUNTDOWN = 60 * 60  # the longest retry delay any task may ask for
#: Redis redelivers an unacked task after this; it must exceed any run and any countdown,
#: or a slow task would run twice at once.
VISIBILITY_TIMEOUT = HARD_TIME_LIMIT + MAX_COUNTDOWN + 5 * 60


def every(seconds: float, task: str) -> dict[str, Any]:
    """A beat schedule entry sending ``task`` every ``seconds``; a copy no worker started within its interval
    expires (Celery's ``expires`` in seconds is counted from sending; a worker discards the message once it is
    past), so a backlog holds one pending copy of each sweep rather than one more per interval."""
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


def make_celery(settings: Settings, *, current: bool = True) -> Celery:
    """The Celery app for ``settings``; ``current=False`` for one that only builds messages (it must not
    become the process's current app, which the worker's own tasks are bound to)."""
    app = Celery(
        "fluxops",
        broker=settings.redis_url,
        backend=settings.redis_url,
        include=["workers.tasks"],
        set_as_current=current,
    )
    app.conf.update(
        task_default_queue=QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=SOFT_TIME_LIMIT,
        task_time_limit=HARD_TIME_LIMIT,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        result_expires=7 * 24 * 3600,
        task_track_started=True,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # a stopping worker (SIGTERM remapped to Celery's cold shutdown by REMAP_SIGTERM=SIGQUIT) gives its running
        # jobs this long, then cancels them and puts their messages back in the queue at once, where another worker
        # resumes them from their saved progress; without the remap, SIGTERM waits for every job to end
        worker_soft_shutdown_timeout=settings.worker_soft_shutdown_timeout,
        # one beat sends however many run (workers/beat_leader.py)
        beat_scheduler="workers.beat_leader:LeaderScheduler",
        fluxops_beat_lock_ttl=settings.beat_lock_ttl,
        beat_schedule={
            "recover-orphaned-jobs": every(settings.recover_interval, "fluxops.jobs.recover"),
            "refresh-inventory": every(settings.inventory_interval, "fluxops.inventory.refresh"),
            "fleet-snapshot": every(settings.fleet_snapshot_interval, "fluxops.fleet.snapshot"),
            "rotate-old-deploy-keys": every(settings.key_rotation_check_interval, "fluxops.keys.rotate_due"),
            "watch-scan": every(settings.watch_scan_interval, "fluxops.watch.scan"),
        },
    )
    return app
