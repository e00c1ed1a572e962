"""Asking the watch scan to look at one configuration now (implements bot.ports.WatchChecks): a Celery message
for ``fluxops.watch.check``, delayed when a change must settle first; and the last push, for the alert to name."""

from __future__ import annotations

import logging

from celery import Celery

from bot.alert_views import Change
from bot.usecases.watch_scan import alert_key
from workers.redis_alerts import RedisAlertStore
from workers.task_message import QUEUE

log = logging.getLogger(__name__)
CHECK_TASK = "fluxops.watch.check"


class CeleryWatchChecks:
    def __init__(self, *, celery: Celery, store: RedisAlertStore) -> None:
        self._celery = celery
        self._store = store

    def check(self, cluster_id: str, config: str, *, delay: float = 0.0) -> None:
        try:
            self._celery.send_task(
                CHECK_TASK, args=[cluster_id, config], queue=QUEUE, countdown=round(delay, 3) if delay > 0 else None
            )
        except Exception:  # the next scan looks anyway: a lost check only delays an alert
            log.warning("could not ask for a watch check of %s on %s", config, cluster_id, exc_info=True)

    def note_change(self, cluster_id: str, config: str, change: Change) -> None:
        self._store.note_change(alert_key(cluster_id, config), change)
