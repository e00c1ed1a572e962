"""Metrics from every process, scraped over HTTP as Prometheus does and parsed with prometheus-client's parser.

A sandbox of its own (the scenario stack's beat sends a task every second, which would make the queue
depth a moving target): the Procfile's web, worker (prefork pool of 2: the counters come from its children,
summed through multiprocess files by the main process) and beat, on a real redis-server, the ARM emulator
and the fake Slack. A slash command runs a real create (the first PUT is answered 429), signed GitHub
deliveries reach the web process, and a stopped worker leaves jobs in the queue for beat to report.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from cli.chat import Chat, Target
from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import SandboxOptions
from sandbox.stack import CHANNEL, YOU, Stack, StackOptions, StackThread
from tests.scenarios.conftest import set_faults
from tests.scenarios.git_helpers import wait_for

URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

OPTIONS = StackOptions(
    sandbox=SandboxOptions(
        fleet=0,
        step_seconds=0.05,
        emulator=EmulatorConfig(time_scale=50, operation_seconds=0.2, extension_operation_seconds=0.3),
    ),
    watch_first_poll=0.2,
    watch_longest_poll=0.5,
    job_stale_seconds=4.0,
    recover_interval=3600.0,  # beat sends nothing while the test counts the queue
    slack_min_interval=0.05,
)


@pytest.fixture(scope="module")
def metered() -> Iterator[Stack]:
    runner = StackThread(OPTIONS)
    started = runner.start()
    yield started
    runner.stop()


def scrape(url: str) -> Samples:
    """Every sample of the endpoint, by name and labels."""
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over every series carrying ``labels`` (and any others)."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def github_delivery(stack: Stack, delivery: str, *, sha: str, secret: str | None = None) -> requests.Response:
    """A signed GitHub push delivery to the web process, as GitHub sends it."""
    payload = {
        "ref": "refs/heads/main",
        "before": "0" * 39 + "1",
        "after": sha,
        "commits": [{"id": sha, "message": "metrics"}],
        "head_commit": {"id": sha, "message": "metrics"},
        "repository": {
            "id": 4242,
            "full_name": "contoso/metrics-demo",
            "clone_url": "https://github.com/contoso/metrics-demo.git",
            "default_branch": "main",
        },
        "pusher": {"name": "octocat"},
        "sender": {"login": "octocat"},
    }
    body = json.dumps(payload).encode()
    key = (secret or stack.github_secret).encode()
    signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-ID": "77",
        "X-Hub-Signature-256": signature,
    }
    return requests.post(f"{stack.web_url}/webhooks/github", data=body, headers=headers, timeout=30)


def test_worker_metrics_after_a_create_with_one_429(metered: Stack) -> None:
    chat = Chat(Target(metered.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
    subscription = metered.sandbox.endpoints.subscription_id if metered.sandbox.endpoints else ""
    set_faults(metered, [{"method": "PUT", "path": "fluxConfigurations/metrics-demo$", "respond": 429, "times": 1}])
    try:
        command = (
            f"/flux config create metrics-demo -c demo-arc --namespace metrics-demo -u {URL} --branch main "
            "--kustomization name=infra path=./infrastructure prune=true"
        )
        assert chat.run(command) == 0
    finally:
        set_faults(metered, [])

    # the job's end is seen (its phase) a moment before the worker has counted it and timed it, one after the other
    def timed() -> Samples | None:
        samples = scrape(metered.metrics_urls["worker"])
        return samples if value(samples, "fluxops_job_duration_seconds_count", kind="command") else None

    worker = wait_for("the worker to count and time the job", timed)
    labels = {"kind": "command", "command": "config create"}
    assert value(worker, "fluxops_jobs_total", **labels, outcome="succeeded") == 1
    assert total(worker, "fluxops_jobs_total") == 1, "one run of one job (the 429 was retried inside the SDK)"
    assert value(worker, "fluxops_job_duration_seconds_count", kind="command") == 1
    assert value(worker, "fluxops_job_duration_seconds_sum", kind="command")
    # the 429 and the retried PUT that created it, each counted as it happened
    put = {"method": "PUT", "resource": "fluxconfigurations"}
    assert value(worker, "fluxops_arm_requests_total", **put, status="429") == 1
    assert total(worker, "fluxops_arm_requests_total", **put) == 2
    assert value(worker, "fluxops_arm_throttled_total", kind="writes") == 1
    assert total(worker, "fluxops_arm_requests_total", method="GET", resource="fluxconfigurations") >= 1
    assert total(worker, "fluxops_arm_requests_total", resource="fluxconfigurations/operations") >= 1
    remaining = value(worker, "fluxops_arm_ratelimit_remaining", subscription=subscription, kind="writes")
    assert remaining is not None and 0 <= remaining < 200, remaining
    assert value(worker, "fluxops_write_to_compliant_seconds_count") == 1
    assert value(worker, "fluxops_slack_api_calls_total", method="chat.postMessage", outcome="ok")
    assert value(worker, "fluxops_slack_api_calls_total", method="chat.update", outcome="ok")
    assert total(worker, "fluxops_slack_api_calls_total", outcome="error") == 0
    # read from Redis at scrape time: the job is done, nothing waits
    assert value(worker, "fluxops_redis_up") == 1
    assert value(worker, "fluxops_queue_depth", queue="fluxops") == 0
    assert value(worker, "fluxops_queue_oldest_job_age_seconds", queue="fluxops") == 0
    assert value(worker, "fluxops_deploy_keys") == 0

    web = scrape(f"{metered.web_url}/metrics")
    assert value(web, "fluxops_webhook_deliveries_total", source="slack", event="command", outcome="accepted") == 1
    assert value(web, "fluxops_http_requests_total", method="POST", route="/slack/events", status="200") == 1


def test_web_counts_deliveries_and_dedupe_hits(metered: Stack) -> None:
    delivery = str(uuid.uuid4())
    first = github_delivery(metered, delivery, sha="a" * 40)
    again = github_delivery(metered, delivery, sha="a" * 40)
    forged = github_delivery(metered, str(uuid.uuid4()), sha="b" * 40, secret="not-the-secret")
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    assert forged.status_code == 401

    web = scrape(f"{metered.web_url}/metrics")
    github = {"source": "github", "event": "push"}
    assert value(web, "fluxops_webhook_deliveries_total", **github, outcome="accepted") == 1
    assert value(web, "fluxops_webhook_deliveries_total", **github, outcome="duplicate") == 1
    assert value(web, "fluxops_webhook_dedupe_hits_total", source="github") == 1
    # refused before its signature was checked: its event type is not believed
    assert value(web, "fluxops_webhook_deliveries_total", source="github", event="unknown", outcome="refused") == 1
    assert value(web, "fluxops_http_requests_total", method="POST", route="/webhooks/github", status="401") == 1
    # the one job the two deliveries started runs once
    wait_for(
        "the worker to run the push job",
        lambda: total(scrape(metered.metrics_urls["worker"]), "fluxops_jobs_total", kind="push") == 1,
    )


def test_queue_depth_and_oldest_job_age_while_no_worker_runs(metered: Stack) -> None:
    metered.kill_process("worker", signal.SIGTERM)  # a warm shutdown: nothing is left reserved
    scheduled = total(scrape(metered.metrics_urls["beat"]), "fluxops_beat_tasks_sent_total")
    before = time.time()
    for index in range(3):
        response = github_delivery(metered, str(uuid.uuid4()), sha=f"{index + 1:040x}")
        assert response.status_code == 202 and not response.json()["duplicate"]
    beat = scrape(metered.metrics_urls["beat"])
    waited = time.time() - before
    # beat's own periodic tasks (the fleet snapshot) wait in the same queue when one fell due meanwhile
    scheduled = total(beat, "fluxops_beat_tasks_sent_total") - scheduled
    assert value(beat, "fluxops_queue_depth", queue="fluxops") == 3 + scheduled
    age = value(beat, "fluxops_queue_oldest_job_age_seconds", queue="fluxops")
    assert age is not None and 0 < age <= waited + 0.01, (age, waited)
    assert value(beat, "fluxops_jobs_active") == 3

    metered.start_process("worker")  # a new worker, a new port, new counters: it runs the three
    url = metered.metrics_urls["worker"]

    def drained() -> Samples | None:
        try:
            samples = scrape(url)
        except requests.ConnectionError:  # not listening yet
            return None
        done = total(samples, "fluxops_jobs_total", kind="push") == 3
        return samples if done and value(samples, "fluxops_queue_depth", queue="fluxops") == 0 else None

    worker = wait_for("the new worker to run the three queued push jobs", drained)
    assert value(worker, "fluxops_queue_oldest_job_age_seconds", queue="fluxops") == 0
    assert value(worker, "fluxops_job_duration_seconds_count", kind="push") == 3
