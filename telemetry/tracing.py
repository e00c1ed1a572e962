"""Optional OpenTelemetry tracing of a job from the web process into the worker.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then each process exports its spans over OTLP/HTTP (the exporter
reads its other OTEL_* variables itself). The web's request span is the parent of the job: its W3C
``traceparent`` travels in the job record (bot.jobs.JobRecord.traceparent, written at enqueue), and the worker's
``job.run`` span continues that trace. Log lines logged inside a span carry its ``trace_id`` and ``span_id``.
Off, the API's no-op tracer costs next to nothing and nothing is exported.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

TRACER_NAME = "fluxops"
_PROPAGATOR = TraceContextTextMapPropagator()
#: whether configure_tracing turned tracing on in this process: with it off, the web's hot path opens no span
_enabled = False


def configure_tracing(process: str, *, endpoint: str | None, exporter: SpanExporter | None = None) -> bool:
    """Export this process's spans (service ``fluxops-<process>``) when ``endpoint`` is set or an ``exporter``
    is given (tests pass an in-memory one); True when tracing is on."""
    if exporter is None and not endpoint:
        return False
    # the SDK is imported only when tracing is on
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout: from the OTEL_EXPORTER_OTLP_* variables
    provider = TracerProvider(resource=Resource.create({"service.name": f"fluxops-{process}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    global _enabled
    _enabled = True
    return True


def enabled() -> bool:
    """True once configure_tracing turned tracing on in this process."""
    return _enabled


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str:
    """The W3C ``traceparent`` of the current span, "" outside one (or with tracing off)."""
    if not _enabled:
        return ""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent", "")


@contextmanager
def continued(traceparent: str, name: str, attributes: dict[str, str]) -> Iterator[trace.Span]:
    """A span ``name`` continuing the trace ``traceparent`` names (a new trace when it is empty)."""
    parent = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else context.Context()
    with tracer().start_as_current_span(name, context=parent, attributes=attributes) as span:
        yield span


def add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's ``trace_id`` and ``span_id`` (hex), when one is recording."""
    span = trace.get_current_span()
    ids = span.get_span_context()
    if ids.is_valid:
        event.setdefault("trace_id", format(ids.trace_id, "032x"))
        event.setdefault("span_id", format(ids.span_id, "016x"))
    return event
