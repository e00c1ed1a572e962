"""JSON log lines from the real processes: the sandbox's web, worker and beat started from the Procfile with
LOG_FORMAT=json and an OTLP endpoint (a collector in this test). A slash command and a signed GitHub push go
through them; then every line each process wrote (stdout and stderr) is parsed with json.loads and the context
fields are checked, and the worker's job span is found continuing the web request's trace."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cli.chat import Chat, Target
from sandbox.runtime import SandboxOptions
from sandbox.stack import CHANNEL, YOU, StackOptions, StackThread
from sandbox.tutorial_repo import tutorial_files
from tests.scenarios.git_helpers import github, wait_for
from tests.telemetry.otlp_collector import Collector, ReceivedSpan

ROOT = Path(__file__).resolve().parents[2]
PUSH_REPO = "fluxops-sandbox/log-lines"
COMMAND = (
    "/flux config create log-lines -c demo-arc --namespace log-lines -u https://github.com/Azure/"
    "gitops-flux2-kustomize-helm-mt --branch main --kustomization name=infra path=./infrastructure prune=true"
)
Line = dict[str, Any]


@dataclass
class Run:
    lines: dict[str, list[Line]]  # per process: every line it wrote, parsed
    command_job: str
    push_job: str
    push_delivery: str
    spans: list[ReceivedSpan]


def parsed(path: Path) -> list[Line]:
    """Every line of ``path`` as JSON; a line that is not fails the test, naming it."""
    found = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            context = "\n".join(path.read_text(encoding="utf-8").splitlines()[max(0, number - 3) : number + 3])
            pytest.fail(f"{path.name} line {number} is not JSON: {text[:300]!r}; around it:\n{context[:3000]}")
        assert isinstance(line, dict), f"{path.name} line {number} is not an object"
        found.append(line)
    return found


def finished_lines(path: Path) -> list[Line]:
    """The complete lines written so far (for polling while the process runs)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return [json.loads(t) for t in text.split("\n")[:-1] if t.startswith("{")]


@pytest.fixture(scope="module")
def run() -> Run:
    collector = Collector()
    options = StackOptions(
        sandbox=SandboxOptions(fleet=0, step_seconds=0.05),
        watch_first_poll=0.2,
        watch_longest_poll=0.5,
        extra_env={
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",  # the web logs a push's job at debug
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans reach the collector while the test waits
        },
    )
    runner = StackThread(options)
    stack = runner.start()
    logs = stack.state_dir / "logs"
    try:
        chat = Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)
        assert chat.run(COMMAND) == 0
        assert chat.last_job_id is not None
        stack.sandbox.repos.create_repo(PUSH_REPO, tutorial_files(), private=False)
        pushed = github(stack, "POST", "push", repo=PUSH_REPO, branch="main", files={"README.md": "# logs\n"})
        delivery = str(pushed["delivery"])

        def push_job() -> str | None:
            for line in finished_lines(logs / "web.log"):
                if line.get("delivery_id") == delivery and line.get("kind") == "push":
                    return str(line["job_id"])
            return None

        push_id = wait_for("the push delivery's job in the web log", push_job)

        def ended(job: str) -> bool:
            return any(
                line.get("event") == f"job {job} ended: succeeded" for line in finished_lines(logs / "worker.log")
            )

        wait_for("the push job to end", lambda: ended(push_id))
        wait_for(
            "the command job's span at the collector",
            lambda: any(s.name == "job.run" and s.attributes.get("fluxops.job_id") == chat.last_job_id
                        for s in collector.received()),
        )  # fmt: skip
        # SIGTERM, as a container stop would: their last lines are read too (stopping the stack removes them)
        for name in ("web", "worker", "beat"):
            stack.kill_process(name, signal.SIGTERM)
        lines = {name: parsed(logs / f"{name}.log") for name in ("web", "worker", "beat")}
    finally:
        runner.stop()
        collector.stop()
    return Run(
        lines=lines,
        command_job=chat.last_job_id,
        push_job=push_id,
        push_delivery=delivery,
        spans=collector.received(),
    )


def test_every_line_of_every_process_is_json_with_level_time_logger_and_event(run: Run) -> None:
    for process, lines in run.lines.items():
        assert lines, f"{process} wrote nothing"
        for line in lines:
            assert line["process"] == process
            assert line["level"] in {"debug", "info", "warning", "error", "critical"}
            assert isinstance(line["event"], str) and isinstance(line["logger"], str)
            stamp = datetime.fromisoformat(line["timestamp"])
            assert stamp.utcoffset() is not None and not stamp.utcoffset().total_seconds()  # type: ignore[union-attr]
    # Celery's own lines come through the same chain, and beat's banner (printed) too
    assert any(line["logger"].startswith("celery") for line in run.lines["worker"])
    assert any(line["logger"] == "stdout" and "beat" in line["event"] for line in run.lines["beat"])


def test_the_web_line_of_a_slash_command_names_its_delivery_actor_cluster_and_config(run: Run) -> None:
    [enqueued] = [line for line in run.lines["web"] if line["event"] == f"job {run.command_job} enqueued"]
    assert enqueued["job_id"] == run.command_job
    assert enqueued["actor"] == f"slack:{YOU}"
    assert enqueued["event_type"] == "slash_command" and enqueued["route"] == "/slack/events"
    assert enqueued["delivery_id"]  # Slack's trigger id
    assert (enqueued["cluster"], enqueued["config"], enqueued["kind"]) == ("demo-arc", "log-lines", "command")
    assert "/connectedClusters/flux-demo-arc" in enqueued["cluster_id"]


def test_the_web_line_of_a_github_push_names_its_delivery(run: Run) -> None:
    [enqueued] = [line for line in run.lines["web"] if line.get("job_id") == run.push_job]
    assert enqueued["delivery_id"] == run.push_delivery
    assert (enqueued["event_type"], enqueued["kind"], enqueued["route"]) == ("push", "push", "/webhooks/github")
    assert enqueued["actor"].startswith("github:")


def test_every_worker_line_of_a_job_carries_its_fields(run: Run) -> None:
    mine = [line for line in run.lines["worker"] if line.get("job_id") == run.command_job]
    events = [line["event"] for line in mine]
    assert f"job {run.command_job} started" in events and f"job {run.command_job} ended: succeeded" in events
    for line in mine:
        assert (line["actor"], line["cluster"], line["config"], line["kind"]) == (
            f"slack:{YOU}", "demo-arc", "log-lines", "command"
        )  # fmt: skip
        assert line["task"] == "fluxops.job.run" and line["task_id"]
    push = [line for line in run.lines["worker"] if line.get("job_id") == run.push_job]
    assert push and all(line["kind"] == "push" and "config" not in line for line in push)


def test_context_is_cleared_between_tasks(run: Run) -> None:
    """Lines of other tasks (the inventory refresh, the recovery sweep) carry no job's fields."""
    other = [line for line in run.lines["worker"] if line.get("task") and line.get("task") != "fluxops.job.run"]
    assert all("job_id" not in line for line in other)
    outside = [line for line in run.lines["worker"] if "task_id" not in line]
    assert outside and all("job_id" not in line or line["logger"] == "workers.job_queue" for line in outside)


def test_no_secret_of_the_sandbox_reaches_a_log(run: Run) -> None:
    text = json.dumps(run.lines)
    for secret_marker in ("xoxb-", "ghp_", "BEGIN OPENSSH"):
        assert secret_marker not in text


def test_the_job_span_continues_the_web_requests_trace(run: Run) -> None:
    [job] = [s for s in run.spans if s.name == "job.run" and s.attributes.get("fluxops.job_id") == run.command_job]
    web = [s for s in run.spans if s.service == "fluxops-web" and s.span_id == job.parent_span_id]
    assert job.service == "fluxops-worker"
    assert [s.name for s in web] == ["POST /slack/events"] and web[0].trace_id == job.trace_id
    assert job.attributes["fluxops.cluster"] == "demo-arc" and job.attributes["fluxops.config"] == "log-lines"
    # and the job's log lines name the trace, so a log search finds the trace and back
    traced = {line.get("trace_id") for line in run.lines["worker"] if line.get("job_id") == run.command_job}
    assert traced == {job.trace_id}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT"}}
    return {**env, "PYTHONPATH": str(ROOT), "REDIS_URL": "redis://127.0.0.1:9/0", **extra}


def test_the_web_logs_json_by_default() -> None:
    web = subprocess.Popen(
        [sys.executable, "-m", "handlers.web"], cwd=ROOT, env=_env(PORT=str(_free_port())),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert web.stderr is not None
        first = json.loads(web.stderr.readline())
        assert first["process"] == "web" and first["logger"] == "__main__" and first["level"] == "info"
    finally:
        web.terminate()
        web.wait(timeout=30)


@pytest.mark.parametrize(
    ("process", "command"),
    [
        ("web", [sys.executable, "-m", "handlers.web"]),
        ("worker", [sys.executable, "-m", "celery", "-A", "workers.main", "worker", "--pool=solo"]),
        ("beat", [sys.executable, "-m", "celery", "-A", "workers.main", "beat"]),
    ],
)
def test_an_invalid_log_format_refuses_to_start(process: str, command: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        command, cwd=tmp_path, env=_env(LOG_FORMAT="xml", PORT=str(_free_port())),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith(f"fluxops {process}: refusing to start: invalid settings")
    assert "LOG_FORMAT" in done.stderr and "'json' or 'text'" in done.stderr
