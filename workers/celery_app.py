"""The Celery application (Redis broker) and its reliability settings (DESIGN.md §6).

`celery -A workers.celery_app worker` and `... beat` load this module; it is the workers' composition
root for Celery itself. Settings are read once, here.
"""

from __future__ import annotations

from celery import Celery

from bot.settings import Settings

QUEUE = "fluxops"
SOFT_TIME_LIMIT = 14 * 60  # a task is told to wrap up...
HARD_TIME_LIMIT = 15 * 60  # ...and killed here
MAX_COUNTDOWN = 60 * 60  # the longest retry delay any task may ask for
#: Redis redelivers an unacked task after this; it must exceed any run and any countdown,
#: or a slow task would run twice at once.
VISIBILITY_TIMEOUT = HARD_TIME_LIMIT + MAX_COUNTDOWN + 5 * 60


def make_celery(settings: Settings) -> Celery:
    app = Celery("fluxops", broker=settings.redis_url, backend=settings.redis_url, include=["workers.tasks"])
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
        beat_schedule={
            "recover-orphaned-jobs": {"task": "fluxops.jobs.recover", "schedule": settings.recover_interval},
            "refresh-inventory": {"task": "fluxops.inventory.refresh", "schedule": settings.inventory_interval},
            "rotate-old-deploy-keys": {
                "task": "fluxops.keys.rotate_due",
                "schedule": settings.key_rotation_check_interval,
            },
        },
    )
    return app


app = make_celery(Settings())
