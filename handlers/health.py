"""Liveness, readiness and metrics routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from handlers.metrics import Metrics
from handlers.request_scope import Routes


def add_health_routes(
    routes: Routes, *, metrics: Metrics, ready_checks: dict[str, Callable[[], Awaitable[None]]]
) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        failing: dict[str, str] = {}
        for name, check in ready_checks.items():
            try:
                await check()
            except Exception as exc:  # a readiness probe reports any failure, whatever it is
                failing[name] = type(exc).__name__
        if failing:
            return web.json_response({"status": "unavailable", "failing": failing}, status=503)
        return web.json_response({"status": "ready"})

    async def metrics_route(request: web.Request) -> web.Response:
        body, content_type = metrics.render(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})

    routes.get("/healthz", healthz)
    routes.get("/readyz", readyz)
    routes.get("/metrics", metrics_route)
