"""What one process writes through telemetry/log_setup.py: real stdlib loggers and structlog loggers, rendered
into a stream; every JSON line parsed back. Secrets logged by mistake come out masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.command_codec import encode
from bot.commands import ClusterTarget
from bot.commands.configs import ConfigDelete, KustomizationDelete
from bot.commands.extensions import ExtensionDelete
from bot.decision import Decision, digest
from bot.jobs import JobRecord
from telemetry.log_context import bound, clear, job_fields
from telemetry.log_setup import PrintedLines, configure_logging

#: a private key made for this run (nothing real is committed)
PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    .decode()
    .strip()
)
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2
PROTECTED = {"sshPrivateKey": "c2VjcmV0", "httpsKey": "hunter2"}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Root logging sent to a buffer as JSON; the root logger's handlers and level put back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("json", process="web", stream=out)
    yield out
    clear()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_stdlib_line_is_one_json_object_with_level_time_logger_and_event(captured: io.StringIO) -> None:
    logging.getLogger("workers.tasks").info("job %s: %s", "j-0123456789ab", "retrying", extra={"attempt": 2})
    [line] = lines(captured)
    assert line["level"] == "info"
    assert line["logger"] == "workers.tasks"
    assert line["event"] == "job j-0123456789ab: retrying"
    assert line["process"] == "web"
    assert line["attempt"] == 2
    stamp = datetime.fromisoformat(str(line["timestamp"]))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_bound_context_is_on_every_line_inside_and_gone_after(captured: io.StringIO) -> None:
    log = logging.getLogger("bot.usecases.push_trace")
    with bound(delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958", actor="github:octocat"):
        log.warning("inside")
        structlog.get_logger("fluxops").info("structlog inside", cluster="prod-weu")
    log.warning("after")
    inside, native, after = lines(captured)
    for line in (inside, native):
        assert line["delivery_id"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        assert line["actor"] == "github:octocat"
    assert native["cluster"] == "prod-weu" and native["level"] == "info" and native["logger"] == "fluxops"
    assert "delivery_id" not in after and "actor" not in after


def test_a_private_key_in_the_message_is_masked(captured: io.StringIO) -> None:
    logging.getLogger("x").error("could not parse %s", PEM)
    [line] = lines(captured)
    assert "PRIVATE KEY" not in captured.getvalue() and "b3BlbnNzaC1rZXktdjE" not in captured.getvalue()
    assert line["event"] == "could not parse ***"


def test_a_token_in_a_field_and_in_an_exception_is_masked(captured: io.StringIO) -> None:
    log = logging.getLogger("x")
    try:
        raise RuntimeError(f"GET https://api.github.com/user failed with Authorization: token {GITHUB_TOKEN}")
    except RuntimeError:
        log.exception("request failed", extra={"url": f"https://x-access-token:{GITHUB_TOKEN}@github.com/o/r.git"})
    structlog.get_logger("y").warning("native", headers={"Authorization": f"Bearer {GITHUB_TOKEN}"})
    text = captured.getvalue()
    assert GITHUB_TOKEN not in text
    failed, native = lines(captured)
    assert "RuntimeError" in str(failed["exception"]) and "***" in str(failed["exception"])
    assert failed["url"] == "https://x-access-token:***@github.com/o/r.git"
    assert native["headers"] == {"Authorization": "***"}


def test_protected_settings_logged_as_a_field_are_masked_whole(captured: io.StringIO) -> None:
    logging.getLogger("x").info("put", extra={"configurationProtectedSettings": PROTECTED})
    structlog.get_logger("y").info("body", body={"properties": {"configurationProtectedSettings": PROTECTED}})
    structlog.get_logger("y").info("flag", password="hunter2", https_key_ref="sandbox-pat")
    put, body, flag = lines(captured)
    assert "hunter2" not in captured.getvalue() and "c2VjcmV0" not in captured.getvalue()
    assert put["configurationProtectedSettings"] == "***"
    assert body["body"] == {"properties": {"configurationProtectedSettings": "***"}}
    # a credential's name is not a secret: kept, so people can tell which one was used
    assert flag["password"] == "***" and flag["https_key_ref"] == "sandbox-pat"


def test_protected_settings_typed_as_a_command_are_masked(captured: io.StringIO) -> None:
    typed = "config create x -c prod --config-protected sshPrivateKey=c2VjcmV0 httpsKey=hunter2"
    logging.getLogger("x").warning("refused: %s", typed)
    [line] = lines(captured)
    assert line["event"] == "refused: config create x -c prod --config-protected *** ***"


def test_identifiers_fluxops_sets_are_not_masked(captured: io.StringIO) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    with bound(job_id="j-0123456789ab", task_id="d9e6a1c2-7b41-4c2a-9a57-3f0a3e1f6b20", trace_id=trace):
        logging.getLogger("x").info("fine")
    [line] = lines(captured)
    assert (line["job_id"], line["trace_id"]) == ("j-0123456789ab", trace)


def test_text_format_stays_human(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    try:
        configure_logging("text", process="worker", stream=out)
        with bound(job_id="j-0123456789ab"):
            logging.getLogger("workers.tasks").warning("job %s: heartbeat failed with %s", "j-0123456789ab", PEM)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
    [line] = out.getvalue().splitlines()
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    assert "warning" in line and "job j-0123456789ab: heartbeat failed with ***" in line
    assert "job_id=j-0123456789ab" in line and "[workers.tasks]" in line and "PRIVATE" not in line


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT must be one of json, text, not 'xml'"):
        configure_logging("xml", process="web", stream=io.StringIO())  # type: ignore[arg-type]


def test_printed_lines_become_log_lines(captured: io.StringIO) -> None:
    printed = PrintedLines(logging.getLogger("stdout"))
    print("celery beat v5 is starting.\n__    -    ... __   -        _", file=printed)
    print("no newline yet", file=printed, end="")
    printed.flush()
    events = [line["event"] for line in lines(captured)]
    assert events == ["celery beat v5 is starting.", "__    -    ... __   -        _", "no newline yet"]


def _decision(text: str, label: str, target: str) -> str:
    return Decision(
        text=text, command_digest=digest(text), platform="slack", user="U1", target_id=target, target_label=label
    ).to_json()


ARC = "/subscriptions/0000/resourceGroups/flux-demo-rg/providers/Microsoft.Kubernetes/connectedClusters/flux-demo-arc"


def test_job_fields_name_the_cluster_and_configuration() -> None:
    text = "config delete cluster-config -c demo-arc"
    record = JobRecord(
        job_id="j-0123456789ab",
        text=text,
        platform="slack",
        actor="U1",
        decision=_decision(text, "demo-arc", ARC),
        command=encode(ConfigDelete(target=ClusterTarget("demo-arc"), name="cluster-config")),
    )
    assert job_fields(record) == {
        "job_id": "j-0123456789ab",
        "kind": "command",
        "platform": "slack",
        "actor": "slack:U1",
        "cluster": "demo-arc",
        "cluster_id": ARC,
        "config": "cluster-config",
    }


def test_job_fields_of_kustomization_extension_and_push_jobs() -> None:
    kustomization = KustomizationDelete(target=ClusterTarget("prod"), config="apps-config", name="apps")
    extension = ExtensionDelete(target=ClusterTarget("prod"))
    fields = job_fields(JobRecord("j-1", "k", "slack", "U1", command=encode(kustomization)))
    assert (fields["cluster"], fields["config"]) == ("prod", "apps-config")
    fields = job_fields(JobRecord("j-2", "e", "slack", "U1", command=encode(extension)))
    assert fields["cluster"] == "prod" and "config" not in fields
    push = JobRecord("j-3", "push", "github", "octocat", kind="push", command="not json", decision="{")
    assert job_fields(push) == {"job_id": "j-3", "kind": "push", "platform": "github", "actor": "github:octocat"}
