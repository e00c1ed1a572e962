"""Logging and tracing of the worker and beat processes, hooked into Celery's signals.

``install`` (workers/main.py) makes Celery leave logging to fluxops: a ``setup_logging`` receiver means Celery
neither hijacks the root logger nor adds its own formatters, so Celery's lines, the tasks' and every library's
come out in LOG_FORMAT (telemetry/log_setup.py). In JSON mode the worker's start-up banner is turned off
and beat's (printed to stdout) becomes log lines, so every line either process writes parses as JSON.

Each task runs with its Celery task id and name bound, cleared when it ends; a job (``job_context``) adds its id,
kind, actor, cluster and configuration, and continues the trace the web request started.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from celery.apps import worker as celery_worker
from celery.signals import celeryd_init, setup_logging, task_postrun, task_prerun

from bot.jobs import JobRecord
from bot.redact import redact
from bot.settings import Settings
from telemetry.log_context import bind, bound, clear, job_fields
from telemetry.log_setup import configure_logging
from telemetry.tracing import configure_tracing, continued

_ROLES = ("worker", "beat")


def celery_role(argv: Sequence[str]) -> str:
    """Which Procfile process this is (``worker`` or ``beat``), from Celery's command line."""
    return next((word for word in argv[1:] if word in _ROLES), "worker")


def install(settings: Settings, argv: Sequence[str] | None = None) -> None:
    """Connect the receivers that set up logging and tracing when Celery starts, and bind task context."""
    role = celery_role(sys.argv if argv is None else argv)
    # at once, not only when Celery asks: what Celery says before (the superuser warning) is a log line too
    configure_logging(settings.log_format, process=role, capture_stdout=True)

    if settings.log_format == "json":
        _say_in_json(role)

    @setup_logging.connect(weak=False)
    def _setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
        level = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
        configure_logging(
            settings.log_format,
            process=role,
            level=level if isinstance(level, int) and level > 0 else logging.INFO,
            capture_stdout=True,
        )
        configure_tracing(role, endpoint=settings.otel_exporter_otlp_endpoint)

    @celeryd_init.connect(weak=False)
    def _quiet_banner(instance: Any = None, **_: Any) -> None:
        # the banner goes straight to the real stdout, around any logging: not one JSON line
        if settings.log_format == "json" and instance is not None:
            instance.quiet = True

    task_prerun.connect(_task_started, weak=False)
    task_postrun.connect(_task_ended, weak=False)


def _say_in_json(role: str) -> None:
    """Celery's worker writes its shutdown notices ("worker: Warm shutdown (MainProcess)") with ``os.write``
    from its signal handlers, around logging; in JSON mode they are written as JSON lines the same way."""

    def say(message: str, f: object = None) -> None:
        line = {
            "event": redact(str(message)),
            "level": "warning",
            "logger": "celery.apps.worker",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "process": role,
        }
        with contextlib.suppress(OSError):  # as Celery's own: losing a notice must never stop a shutdown
            os.write(sys.__stderr__.fileno() if sys.__stderr__ else 2, (json.dumps(line) + "\n").encode())

    celery_worker.safe_say = say  # type: ignore[attr-defined]  # celery-types does not list it


def _task_started(task_id: str = "", task: Any = None, **_: Any) -> None:
    clear()
    bind(task_id=task_id, task=str(getattr(task, "name", "") or ""))


def _task_ended(**_: Any) -> None:
    clear()


@contextmanager
def job_context(record: JobRecord) -> Iterator[None]:
    """Every line logged while job ``record`` runs carries its fields; its span continues the web's trace."""
    fields = job_fields(record)
    attributes = {f"fluxops.{key}": value for key, value in fields.items()}
    with bound(**fields), continued(record.traceparent, "job.run", attributes):
        yield
