"""One logging set-up per process, called at its start (handlers/web.py; workers/log_context.py for Celery's
worker and beat): LOG_FORMAT=json writes one JSON object a line, LOG_FORMAT=text a line for people.

Every line goes through one chain, whether it came from structlog or from the stdlib ``logging.getLogger``
calls all over fluxops (and from Celery, aiohttp, the Azure SDK): the bound context (telemetry/log_context.py),
level, logger name, an ISO 8601 UTC timestamp, ``extra={...}`` fields, the current trace ids, the exception
rendered as text, and then every string masked by the project's redactor (telemetry/log_redaction.py) before it
is rendered. JSON fields: ``timestamp``, ``level``, ``logger``, ``event`` (the message), ``process`` (web, worker,
beat) and whatever context is known: ``delivery_id``, ``event_type``, ``job_id``, ``kind``, ``actor``,
``cluster``, ``config``, ``task_id``, ``trace_id``... (README, "Logs").
"""

from __future__ import annotations

import io
import json
import logging
import sys
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import Processor

from telemetry.log_context import merge_scope
from telemetry.log_redaction import redact_event
from telemetry.tracing import add_trace_ids

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")


def _shared_processors(process: str) -> list[Processor]:
    """What every line gets before it is rendered, from structlog or from stdlib logging alike."""

    def add_process(_: Any, __: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
        event.setdefault("process", process)
        return event

    return [
        structlog.contextvars.merge_contextvars,
        merge_scope,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_process,
        add_trace_ids,
    ]


def _renderer(log_format: LogFormat) -> Processor:
    if log_format == "json":
        # orjson: a third of json's time per line (the web writes one per accepted delivery); what it cannot
        # encode (an exception object in Celery's extra data) is written as its repr
        return structlog.processors.JSONRenderer(serializer=_orjson_text)
    return structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)


def _orjson_text(value: Any, **_: Any) -> str:
    try:
        return orjson.dumps(value, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses outright (an int over 64 bits): json's slower, laxer way
        return json.dumps(value, default=repr)


def formatter(log_format: LogFormat, *, process: str) -> logging.Formatter:
    """The stdlib formatter that renders every record as ``log_format`` (after context and redaction)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(process),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # the traceback as text under "exception", so the redactor reads it too (both formats print it)
            structlog.processors.format_exc_info,
            redact_event,
            _renderer(log_format),
        ],
    )


def configure_logging(
    log_format: LogFormat,
    *,
    process: str,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    capture_stdout: bool = False,
) -> None:
    """Send every log line of this process to ``stream`` (stderr) as ``log_format``; safe to call again.

    ``capture_stdout``: in JSON mode, what is printed to stdout (Celery beat's banner) becomes log lines too, so
    every line the process writes parses as JSON.
    """
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(log_format, process=process))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn(...) becomes a line of logger "py.warnings", not raw stderr
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(process),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    if capture_stdout and log_format == "json" and not isinstance(sys.stdout, PrintedLines):
        sys.stdout = PrintedLines(logging.getLogger("stdout"))


class PrintedLines(io.TextIOBase):
    """A stdout whose every printed line is logged (at INFO) instead of written as it is."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._logger.info(line.rstrip())
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._logger.info(self._pending.rstrip())
        self._pending = ""
