"""kill -9 of the worker in the middle of a create: a new worker resumes the same ARM operation from its
saved continuation token, the job completes once, and its one Slack message ends in the right state."""

from __future__ import annotations

import signal
import time

import redis

from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import Stack
from tests.scenarios.conftest import arm_requests, set_faults

URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"


def puts_of(stack: Stack, name: str) -> list[dict[str, object]]:
    return [
        r
        for r in arm_requests(stack)
        if r["method"] == "PUT" and str(r["path"]).lower().endswith(f"/fluxconfigurations/{name}")
    ]


def test_a_killed_worker_resumes_the_create_and_the_job_completes_once(
    stack: Stack, chat: Chat, redis_client: redis.Redis
) -> None:
    # the create's ARM operation stays InProgress for a while, long enough to kill the worker inside it
    set_faults(stack, [{"method": "PUT", "path": "fluxConfigurations/crash-test$", "operation": "slow", "seconds": 6}])
    try:
        ack = chat.send(
            f"config create crash-test -c demo-arc --namespace crash-test -u {URL} --branch main "
            "--kustomization name=infra path=./infrastructure prune=true"
        )
        assert ack["status"] == 200
        job_id = str(ack["body"]["text"]).split("job ")[1].split(".")[0].strip("` ")
        deadline = time.monotonic() + 60
        while not puts_of(stack, "crash-test"):
            assert time.monotonic() < deadline, "the worker never sent the PUT"
            time.sleep(0.1)
        while not redis_client.hget(f"fluxops:job:{job_id}", "p:token:write"):
            assert time.monotonic() < deadline, "the continuation token was never saved"
            time.sleep(0.05)

        stack.kill_process("worker", signal.SIGKILL)
        stack.start_process("worker")

        assert chat.follow(job_id) == 0
    finally:
        set_faults(stack, [])

    assert len(puts_of(stack, "crash-test")) == 1, "the restarted worker resumed the operation, not a new PUT"
    messages = [m for m in chat.job_messages(job_id) if not m.get("ephemeral")]
    assert len(messages) == 1, "one message, edited in place across both workers"
    final = blocks_to_text(messages[0]["blocks"], messages[0]["text"])
    assert "Compliant" in final and "Succeeded" in final
    audit = [fields for _, fields in redis_client.xrange("fluxops:audit") if fields.get("job_id") == job_id]
    assert len(audit) == 1 and audit[0]["result"] == "succeeded"
    assert redis_client.hget(f"fluxops:job:{job_id}", "p:phase") == "succeeded"
