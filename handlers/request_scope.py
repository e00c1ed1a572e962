"""The one middleware every request of the web process passes: it opens the request's scope and closes it.

Opening: the fields the request's log lines carry (``handlers/log_context.py``, read only when a line is logged)
and, on a receiver's route, the note of its delivery (``handlers/metrics.py``); the request's span when tracing
is on. Closing: the request counted by method, route and status, its latency, and its delivery by event and
outcome. One middleware for all of it: as three layers (log context, request metrics, delivery metrics) it cost
about a sixth of the CPU of an accepted push (docs/benchmarks.md).
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from opentelemetry.trace import SpanKind

from handlers.log_context import RequestLogScope
from handlers.metrics import Metrics
from telemetry.log_context import close_scope, open_scope
from telemetry.tracing import enabled as tracing_enabled
from telemetry.tracing import tracer


def request_scope(metrics: Metrics) -> Middleware:
    """The middleware that scopes and counts each request in ``metrics``."""

    @web.middleware
    async def scoped(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        logged = open_scope(RequestLogScope(route, request.headers))
        delivery = metrics.open_delivery(route)
        status = 500
        try:
            if tracing_enabled():  # a span costs tens of microseconds even when nothing records it
                response = await _traced(request, handler, route)
            else:
                response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.answered(request.method, route, status, time.perf_counter() - started, delivery)
            close_scope(logged)

    return scoped


async def _traced(request: web.Request, handler: Handler, route: str) -> web.StreamResponse:
    with tracer().start_as_current_span(f"{request.method} {route}", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", route)
        response = await handler(request)
        span.set_attribute("http.response.status_code", response.status)
        return response
