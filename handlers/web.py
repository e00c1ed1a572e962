"""`python -m handlers.web`: the web process of the Procfile, listening on $PORT (default 8080).

Its event loop is uvloop's when uvloop is installed (FLUXOPS_EVENT_LOOP=auto, the default): the same asyncio API
with its I/O in C, which takes a good part of the cost of each webhook off the one core a web process uses.
Without uvloop, or with FLUXOPS_EVENT_LOOP=asyncio, it is asyncio's own.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from bot.errors import ConfigurationError
from bot.settings import Settings
from handlers.app import create_app
from telemetry.log_setup import configure_logging
from telemetry.tracing import configure_tracing

log = logging.getLogger(__name__)
#: allocations (net of frees) between two collections of the youngest generation (CPython's default: 700)
YOUNG_COLLECTION_THRESHOLD = 10_000


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """A new event loop of the kind ``choice`` (FLUXOPS_EVENT_LOOP) names: ``auto``, ``uvloop`` or ``asyncio``."""
    if choice != "asyncio":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            if choice == "uvloop":
                raise ConfigurationError(
                    "FLUXOPS_EVENT_LOOP is uvloop but uvloop is not installed",
                    recommendation="install uvloop (pip install uvloop), or set FLUXOPS_EVENT_LOOP=auto or asyncio",
                ) from None
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:  # an invalid LOG_FORMAT among them: said plainly, before any log line
        print(f"fluxops web: refusing to start: invalid settings: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, process="web", level=logging.getLevelName(settings.log_level.upper()))
    configure_tracing("web", endpoint=settings.otel_exporter_otlp_endpoint)
    try:
        app = create_app(settings)
        loop = new_event_loop(settings.event_loop)
    except ConfigurationError as exc:
        print(f"fluxops web: {exc.user_text()}", file=sys.stderr)
        return 2
    log.info("event loop: %s", type(loop).__module__)
    # what start-up made (modules, Celery, pydantic, the app) lives as long as the process: the collector's full
    # passes need not walk it again (each took ~40 ms, a pause every request in flight waited for)
    gc.freeze()
    # a webhook's parsed payload is a few hundred containers, freed by reference counting when it is answered;
    # collecting the youngest generation every 700 of them cost ~3% of the process's time, every 10,000 ~0.5%
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    log.info("listening on port %d", settings.port)  # instead of aiohttp's banner: every line is a log line
    # on SIGTERM aiohttp stops listening at once (new connections are refused), then lets the requests in flight
    # finish for up to web_shutdown_timeout: inside a pod's grace period, so what was accepted is answered
    web.run_app(
        app,
        host="0.0.0.0",  # noqa: S104 (a server's job)
        port=settings.port,
        access_log=None,
        loop=loop,
        print=None,
        shutdown_timeout=settings.web_shutdown_timeout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
