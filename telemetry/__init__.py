"""Observability the composition roots set up once per process: structured logs (structlog over the stdlib
``logging`` every module already uses), the context every line carries (a request's delivery, a job's id, actor,
cluster and configuration), secrets masked on the way out, and optional OpenTelemetry tracing of a job from the
web process into the worker.

It imports ``bot`` only; ``handlers`` (web) and ``workers`` (worker, beat) import it.
"""
