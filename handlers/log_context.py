"""Per-request log context of the web process: the fields every line logged while a request is handled carries.

The middleware starts each request clean (a keep-alive connection handles its requests one after the other in
one task, so fields bound for one must not reach the next), binds the route and, for GitHub, the delivery id and
event from the headers, and opens the request's span when tracing is on. Receivers bind what only the body
tells (``bind_delivery``): Azure DevOps' notification, Slack's trigger id and user.
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.typedefs import Handler
from opentelemetry.trace import SpanKind

from telemetry.log_context import bind, clear
from telemetry.tracing import enabled as tracing_enabled
from telemetry.tracing import tracer

#: header values are bound only when they look like what GitHub sends (they are not signed)
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def _header(request: web.Request, name: str) -> str:
    value = request.headers.get(name, "")
    return value if _TOKEN.fullmatch(value) else ""


def bind_delivery(*, delivery_id: str = "", event: str = "", actor: str = "") -> None:
    """Bind what a receiver learned about the delivery it handles, for the rest of the request."""
    bind(delivery_id=delivery_id[:100], event_type=event[:64], actor=actor[:100])


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    clear()
    bind(
        route=route,
        delivery_id=_header(request, "X-GitHub-Delivery"),
        event_type=_header(request, "X-GitHub-Event"),
    )
    try:
        if not tracing_enabled():  # a span costs tens of microseconds even when nothing records it
            return await handler(request)
        with tracer().start_as_current_span(f"{request.method} {route}", kind=SpanKind.SERVER) as span:
            span.set_attribute("http.route", route)
            response = await handler(request)
            span.set_attribute("http.response.status_code", response.status)
            return response
    finally:
        clear()
