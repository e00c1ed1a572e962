"""The web's tallies serve exactly what prometheus-client's own Counter and Histogram would for the same counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from handlers.request_tallies import RequestTallies

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: (method, route, status, seconds): on bounds, between them, past the last one
REQUESTS = [
    ("POST", "/webhooks/github", 202, 0.004),
    ("POST", "/webhooks/github", 202, 0.005),
    ("POST", "/webhooks/github", 401, 0.0051),
    ("POST", "/slack/events", 200, 0.3),
    ("GET", "/metrics", 200, 7.5),
    ("POST", "/webhooks/github", 202, 1.0),
]


def _samples(registry: CollectorRegistry) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
    return {
        (sample.name, tuple(sorted(sample.labels.items())), sample.value)
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_the_tallies_serve_what_prometheus_clients_metrics_would() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    tallies = RequestTallies(BUCKETS)
    ours.register(tallies)
    requests = Counter("fluxops_http_requests", "x", ["method", "route", "status"], registry=theirs)
    latency = Histogram("fluxops_http_request_seconds", "x", ["route"], buckets=BUCKETS, registry=theirs)
    deliveries = Counter("fluxops_webhook_deliveries", "x", ["source", "event", "outcome"], registry=theirs)
    dedupe = Counter("fluxops_webhook_dedupe_hits", "x", ["source"], registry=theirs)
    for method, route, status, seconds in REQUESTS:
        tallies.request(method, route, status, seconds)
        requests.labels(method, route, str(status)).inc()
        latency.labels(route).observe(seconds)
    for source, event, outcome, hits in [("github", "push", "accepted", 0), ("github", "push", "duplicate", 1)] * 2:
        tallies.delivery(source, event, outcome, hits)
        deliveries.labels(source, event, outcome).inc()
        if hits:
            dedupe.labels(source).inc(hits)

    assert _samples(ours) == _samples(theirs)
    text = generate_latest(ours).decode()
    assert 'fluxops_http_request_seconds_bucket{le="0.005",route="/webhooks/github"} 2.0' in text
    assert 'fluxops_http_requests_total{method="POST",route="/webhooks/github",status="202"} 3.0' in text
