"""What every request of the web process passes through: its scope, opened and closed around its handler.

Opening: the fields the request's log lines carry (``handlers/log_context.py``, read only when a line is logged)
and, on a receiver's route, the note of its delivery (``handlers/metrics.py``); the request's span when tracing
is on. Closing: the request counted by method, route and status, its latency, and its delivery by event and
outcome.

``Routes`` adds each route with its handler wrapped in that scope, and a last route for every other path (counted
as ``unmatched``, answered 404 or 405 as aiohttp would). It is not an aiohttp middleware: as three middlewares
(log context, request metrics, delivery metrics) this bookkeeping cost about a sixth of the CPU of an accepted
push, and aiohttp's machinery for even one empty middleware costs more than the bookkeeping itself
(docs/benchmarks.md).
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler
from opentelemetry.trace import SpanKind

from handlers.log_context import RequestLogScope
from handlers.metrics import Metrics
from telemetry.log_context import close_scope, open_scope
from telemetry.tracing import enabled as tracing_enabled
from telemetry.tracing import tracer

UNMATCHED = "unmatched"


class Routes:
    """The web application's routes, each handler scoped and counted in ``metrics``."""

    def __init__(self, app: web.Application, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def get(self, path: str, handler: Handler) -> None:
        self.app.router.add_get(path, self.scoped(handler, path))

    def post(self, path: str, handler: Handler, *, source: str = "", events: frozenset[str] = frozenset()) -> None:
        """A POST route; with ``source``, a receiver's: each delivery counted by ``source``, event and outcome."""
        if source:
            self.metrics.receive_at(path, source=source, events=events)
        self.app.router.add_post(path, self.scoped(handler, path))

    def finish(self) -> None:
        """The route of every request no other route takes (add it last)."""
        self.app.router.add_route("*", "/{unmatched:.*}", self.scoped(_no_route, UNMATCHED))

    def scoped(self, handler: Handler, route: str) -> Handler:
        """``handler`` inside the request's scope, counted under ``route`` (its pattern, never the path)."""
        metrics = self.metrics

        async def in_scope(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
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

        return in_scope


async def _no_route(request: web.Request) -> web.StreamResponse:
    """404, or 405 naming the methods allowed when another route has the path (what aiohttp answers itself)."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource.canonical == "/{unmatched}":
            continue
        _, methods = await resource.resolve(request)
        allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


async def _traced(request: web.Request, handler: Handler, route: str) -> web.StreamResponse:
    with tracer().start_as_current_span(f"{request.method} {route}", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", route)
        response = await handler(request)
        span.set_attribute("http.response.status_code", response.status)
        return response
