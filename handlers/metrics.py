"""The web process's Prometheus metrics, served at GET /metrics: every family it counts, defined here.

- ``fluxops_http_requests_total{method,route,status}`` and ``fluxops_http_request_seconds{route}``: every request
  (the route's pattern, never its path);
- ``fluxops_webhook_deliveries_total{source,event,outcome}``: each delivery to a receiver (Slack, GitHub, Azure
  DevOps) by its event type (from a fixed list per source, else ``other``) and what became of it: ``accepted``
  (a job started), ``duplicate`` (a delivery seen before: nothing new started), ``answered`` (a reply and no
  job, such as help or a usage error), ``ignored`` (an event fluxops does not act on), ``refused`` (4xx: bad
  signature, malformed, denied), ``error`` (5xx);
- ``fluxops_webhook_dedupe_hits_total{source}``: jobs a delivery did not start because an earlier one had.

Each application has its own registry (tests build many). A receiver says what became of a delivery with
``note_event`` and ``note_outcome``; the request's middleware (``handlers/request_scope.py``) opens the note for
a receiver's route (``receive_at``) and counts the delivery once it is answered, from what was noted (a context
variable per request) or else from the answer's status.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from handlers.request_tallies import RequestTallies

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
ANSWERED = "answered"
IGNORED = "ignored"
REFUSED = "refused"
ERROR = "error"


@dataclass
class DeliveryNote:
    """What a receiver said about the delivery it is answering."""

    source: str = ""
    events: frozenset[str] = frozenset()
    event: str = "unknown"
    outcome: str | None = None
    dedupe_hits: int = 0


_DELIVERY: ContextVar[DeliveryNote | None] = ContextVar("fluxops_delivery", default=None)


def note_event(event: str) -> None:
    """The delivery's event type, once it is verified (one of the receiver's known events, else ``other``)."""
    note = _DELIVERY.get()
    if note is not None:
        note.event = event if event in note.events else "other"


def note_outcome(outcome: str, *, dedupe_hits: int = 0) -> None:
    """What became of the delivery (ACCEPTED, DUPLICATE, ...), and how many of its jobs an earlier one started."""
    note = _DELIVERY.get()
    if note is not None:
        note.outcome = outcome
        note.dedupe_hits += dedupe_hits


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.tallies = RequestTallies(_BUCKETS)
        self.registry.register(self.tallies)
        #: route -> (source, the source's known events) of each receiver (``receive_at``)
        self._receivers: dict[str, tuple[str, frozenset[str]]] = {}

    def receive_at(self, route: str, *, source: str, events: frozenset[str]) -> None:
        """Count each delivery answered at ``route`` (a receiver's path) under ``source``, by event and outcome."""
        self._receivers[route] = (source, events)

    def open_delivery(self, route: str) -> Token[DeliveryNote | None] | None:
        """The note of a delivery to ``route``, for its receiver to fill in (None: not a receiver's route)."""
        receiver = self._receivers.get(route)
        if receiver is None:
            return None
        return _DELIVERY.set(DeliveryNote(source=receiver[0], events=receiver[1]))

    def answered(
        self, method: str, route: str, status: int, seconds: float, delivery: Token[DeliveryNote | None] | None
    ) -> None:
        """Count a request answered with ``status`` after ``seconds``; and its delivery, from what was noted or
        else from the status (``delivery`` is what ``open_delivery`` gave)."""
        self.tallies.request(method, route, status, seconds)
        if delivery is None:
            return
        note = _DELIVERY.get()
        _DELIVERY.reset(delivery)
        if note is None:
            return
        outcome = ERROR if status >= 500 else note.outcome or (REFUSED if status >= 400 else ANSWERED)
        self.tallies.delivery(note.source, note.event, outcome, note.dedupe_hits)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """Every family, in the format the scraper's Accept header asks for (Prometheus text 0.0.4 by default,
        OpenMetrics when asked), and its content type."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
