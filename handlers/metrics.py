"""Prometheus text exposition for the web process: request counts and latency per route."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Awaitable, Callable
from itertools import accumulate

from aiohttp import web

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        #: per route, the requests that took at most each bound but more than the one before (the last: +Inf)
        self.latency: dict[str, list[int]] = defaultdict(lambda: [0] * (len(_BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            elapsed = time.perf_counter() - started
            self.requests[(request.method, route, status)] += 1
            # one count in the first bucket it fits; render() adds them up into Prometheus's cumulative buckets
            self.latency[route][bisect_left(_BUCKETS, elapsed)] += 1
            self.latency_sum[route] += elapsed

    def render(self) -> str:
        lines = [
            "# HELP fluxops_http_requests_total HTTP requests by method, route and status.",
            "# TYPE fluxops_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(f'fluxops_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}')
        lines += [
            "# HELP fluxops_http_request_seconds Time to answer an HTTP request.",
            "# TYPE fluxops_http_request_seconds histogram",
        ]
        for route, counts in sorted(self.latency.items()):
            buckets = list(accumulate(counts))
            for bound, count in zip(_BUCKETS, buckets, strict=False):
                lines.append(f'fluxops_http_request_seconds_bucket{{route="{route}",le="{bound}"}} {count}')
            lines.append(f'fluxops_http_request_seconds_bucket{{route="{route}",le="+Inf"}} {buckets[-1]}')
            lines.append(f'fluxops_http_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}')
            lines.append(f'fluxops_http_request_seconds_count{{route="{route}"}} {buckets[-1]}')
        return "\n".join(lines) + "\n"
