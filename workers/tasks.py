"""Celery tasks: thin, named explicitly, ids in, each with its retry policy declared where it is defined."""

from __future__ import annotations

import os
import socket

from workers.celery_app import QUEUE, app


@app.task(name="fluxops.health.ping", queue=QUEUE, acks_late=True, ignore_result=False)
def ping() -> dict[str, str | int]:
    """Answers from a live worker: who and where (the sandbox waits on it before reporting ready)."""
    return {"pong": "fluxops", "host": socket.gethostname(), "pid": os.getpid()}
