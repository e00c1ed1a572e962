"""Tracing within one process, each check in a fresh interpreter (the tracer provider is process-global): off
without OTEL_EXPORTER_OTLP_ENDPOINT (no provider, no traceparent, no trace ids in log lines); with an in-memory
exporter, the worker's job span continues the trace its record carries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import io, json, logging
from opentelemetry import trace
from bot.jobs import JobRecord
from telemetry.log_setup import configure_logging
from telemetry.tracing import configure_tracing, tracer
from workers.job_queue import traced
out = io.StringIO()
configure_logging("json", process="web", stream=out)
on = configure_tracing("web", endpoint=None)
with tracer().start_as_current_span("POST /webhooks/github"):
    record = traced(JobRecord("j-1", "push", "github", "octocat"))
    logging.getLogger("probe").info("inside")
print(json.dumps({"on": on, "provider": type(trace.get_tracer_provider()).__name__,
                  "traceparent": record.traceparent, "line": json.loads(out.getvalue())}))
"""


def test_tracing_is_off_without_an_endpoint() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    seen = json.loads(done.stdout)
    assert seen["on"] is False and seen["provider"] == "ProxyTracerProvider"
    assert seen["traceparent"] == ""
    assert "trace_id" not in seen["line"] and seen["line"]["event"] == "inside"


IN_MEMORY = """
import json
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from bot.jobs import JobRecord
from telemetry.tracing import configure_tracing, tracer
from workers.job_queue import traced
from workers.log_context import job_context
spans = InMemorySpanExporter()
on = configure_tracing("web", endpoint=None, exporter=spans)
with tracer().start_as_current_span("POST /slack/events") as request:
    record = traced(JobRecord("j-1", "config show x -c prod", "slack", "U1"))
with job_context(record):
    pass
trace.get_tracer_provider().force_flush()
print(json.dumps({"on": on, "spans": [
    {"name": s.name, "trace": s.context.trace_id, "id": s.context.span_id,
     "parent": s.parent.span_id if s.parent else None, "attributes": dict(s.attributes)}
    for s in spans.get_finished_spans()]}))
"""


def test_a_job_span_continues_the_trace_its_record_carries() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IN_MEMORY], cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    seen = json.loads(done.stdout)
    request, job = seen["spans"]
    assert seen["on"] is True
    assert (request["name"], job["name"]) == ("POST /slack/events", "job.run")
    assert job["trace"] == request["trace"] and job["parent"] == request["id"]
    assert job["attributes"]["fluxops.job_id"] == "j-1" and job["attributes"]["fluxops.actor"] == "slack:U1"
