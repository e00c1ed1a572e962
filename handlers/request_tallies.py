"""The web process's per-request counts: plain integers kept on the event loop, made into Prometheus families
only when ``/metrics`` is scraped.

prometheus-client's Counter and Histogram take a lock and check their value on every increment, and the
histogram walks its buckets: three of them per accepted push cost more than the rest of the request's
bookkeeping. The web process counts on its one event-loop thread (the scrape too), so a dict of integers
is all it needs; the families it serves are the same as before (docs/metrics in README, deploy/prometheus).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector


class RequestTallies(Collector):
    """Requests by method, route and status; their latency by route; deliveries by source, event and outcome;
    dedupe hits by source."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(buckets)
        self.requests: dict[tuple[str, str, int], int] = {}
        #: route -> a count per bucket (the last one past every bound), not cumulative; and the sum of seconds
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.deliveries: dict[tuple[str, str, str], int] = {}
        self.dedupe_hits: dict[str, int] = {}

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        counts = self.latency.get(route)
        if counts is None:
            counts = self.latency[route] = [0] * (len(self.buckets) + 1)
            self.latency_sum[route] = 0.0
        counts[bisect_left(self.buckets, seconds)] += 1  # the first bound the time is at or under ("le")
        self.latency_sum[route] += seconds

    def delivery(self, source: str, event: str, outcome: str, dedupe_hits: int) -> None:
        key = (source, event, outcome)
        self.deliveries[key] = self.deliveries.get(key, 0) + 1
        if dedupe_hits:
            self.dedupe_hits[source] = self.dedupe_hits.get(source, 0) + dedupe_hits

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily(
            "fluxops_http_requests", "HTTP requests by method, route and status.", labels=["method", "route", "status"]
        )
        for (method, route, status), count in sorted(self.requests.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "fluxops_http_request_seconds", "Time to answer an HTTP request.", labels=["route"]
        )
        for route, counts in sorted(self.latency.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*map(_bound, self.buckets), "+Inf"), counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric([route], buckets, self.latency_sum[route])
        yield latency
        deliveries = CounterMetricFamily(
            "fluxops_webhook_deliveries",
            "Deliveries to the Slack, GitHub and Azure DevOps receivers, by source, event type and outcome.",
            labels=["source", "event", "outcome"],
        )
        for labels, count in sorted(self.deliveries.items()):
            deliveries.add_metric(list(labels), count)
        yield deliveries
        dedupe = CounterMetricFamily(
            "fluxops_webhook_dedupe_hits",
            "Jobs a delivery did not start because an earlier delivery (a retry, a replay) had.",
            labels=["source"],
        )
        for source, count in sorted(self.dedupe_hits.items()):
            dedupe.add_metric([source], count)
        yield dedupe


def _bound(value: float) -> str:
    """A bucket's ``le`` as prometheus-client writes it (0.005, 1.0, 2.5)."""
    return repr(float(value))
