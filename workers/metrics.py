"""The worker and beat processes' Prometheus metrics: every family they count, defined once, here.

Label values are bounded (a job's kind and command verb, an ARM method and resource type, an HTTP status, a
Slack API method): never a cluster, a configuration, a person or anything secret. Families read from Redis at
scrape time (queue depth, oldest job age, deploy key ages) are in workers/redis_gauges.py; how the
processes serve all of them is workers/metrics_server.py.

A Celery worker runs its tasks in prefork pool children, so these counters live in prometheus-client's
multiprocess files (PROMETHEUS_MULTIPROC_DIR, prepared by workers/metrics_server.py before this module is
imported) and the worker's main process serves the sum of its children.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# the *_created series double every family for little use; Prometheus derives resets from the counters
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated in prometheus-client

#: job kinds (bot.jobs.JobRecord.kind); anything else is counted as "other"
JOB_KINDS = frozenset({"command", "push", "plan", "apply", "preflight"})
#: a command verb as the grammar spells it (``config create``, ``key rotate``)
_VERB = re.compile(r"[a-z0-9 -]{1,40}")

JOBS = Counter(
    "fluxops_jobs",
    "Runs of the job task, by job kind, command verb and outcome (a Phase, 'retry' or 'error').",
    ["kind", "command", "outcome"],
)
JOB_SECONDS = Histogram(
    "fluxops_job_duration_seconds",
    "Time one run of the job task took, by job kind.",
    ["kind"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 900),
)
WRITE_TO_COMPLIANT = Histogram(
    "fluxops_write_to_compliant_seconds",
    "Time from the end of an ARM write of a flux configuration to Flux reporting it Compliant.",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)
ARM_REQUESTS = Counter(
    "fluxops_arm_requests",
    "HTTP requests to Azure Resource Manager (every attempt), by method, resource type and status ('none': no answer).",
    ["method", "resource", "status"],
)
ARM_THROTTLED = Counter(
    "fluxops_arm_throttled",
    "429 answers from Azure Resource Manager, by the budget the request spent (reads, writes, deletes).",
    ["kind"],
)
ARM_REMAINING = Gauge(
    "fluxops_arm_ratelimit_remaining",
    "Requests ARM said were left in a subscription's budget (x-ms-ratelimit-remaining-subscription-*), last seen.",
    ["subscription", "kind"],
    multiprocess_mode="mostrecent",
)
SLACK_CALLS = Counter(
    "fluxops_slack_api_calls",
    "Slack Web API calls made by workers, by API method and outcome (ok, error).",
    ["method", "outcome"],
)
SLACK_RATE_LIMITED = Counter(
    "fluxops_slack_rate_limited",
    "429 answers from the Slack Web API (each one is retried after its Retry-After), by API method.",
    ["method"],
)
BEAT_SENT = Counter(
    "fluxops_beat_tasks_sent",
    "Scheduled tasks beat sent to the queue, by task name.",
    ["task"],
)

#: the tasks beat may send (workers/celery_app.py beat_schedule); anything else is counted as "other"
BEAT_TASKS = frozenset(
    {
        "fluxops.jobs.recover",
        "fluxops.inventory.refresh",
        "fluxops.fleet.snapshot",
        "fluxops.keys.rotate_due",
        "fluxops.watch.scan",
    }
)
_SLACK_METHOD = re.compile(r"[A-Za-z]+(\.[A-Za-z]+){0,3}")


def job_kind(kind: str) -> str:
    return kind if kind in JOB_KINDS else "other"


def command_label(verb: str) -> str:
    """A command's verb as a label (``config create``); the grammar's verbs are a small fixed set."""
    return verb if _VERB.fullmatch(verb) else "other"


def count_job(*, kind: str, command: str, outcome: str, seconds: float) -> None:
    """One run of the job task ended in ``outcome`` after ``seconds``."""
    JOBS.labels(job_kind(kind), command_label(command), outcome).inc()
    JOB_SECONDS.labels(job_kind(kind)).observe(seconds)


def slack_method(name: str) -> str:
    return name if _SLACK_METHOD.fullmatch(name) else "other"


def beat_task(name: str) -> str:
    return name if name in BEAT_TASKS else "other"
