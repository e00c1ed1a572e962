"""Change freezes through the whole stack (Slack → web → Celery worker → ARM emulator): a freeze refuses a create
at intake; an admin's break-glass runs it, audited in ``fluxops:audit`` and announced in the policy channel; a
fleet run pauses at the wave boundary once a freeze starts on the next wave's cluster, stays paused when resumed
during it, and carries on with break-glass."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from cli.chat import Chat, Target
from cli.slack_text import blocks_to_text
from sandbox.stack import OPERATOR, SANDBOX_POLICY, YOU, Stack, StackThread
from tests.scenarios.conftest import SCENARIO, set_faults
from tests.scenarios.fleet.test_fleet_rollout import SOURCE, final_text, start, wait_phase, writes

POLICY_CHANNEL = "C0POLICY"
FROZEN = (
    "freezes:\n"
    "  - clusters: {names: [flux-demo-arc]}\n"
    "    from: 2020-01-01T00:00:00Z\n"
    "    to: 2100-01-01T00:00:00Z\n"
    "    reason: sandbox change freeze\n"
)
#: what an operator adds during the fleet run: a freeze on the run's second wave, on from now
WAVE_TWO_FROZEN = (
    "  - clusters: {names: [fleet-0002]}\n"
    "    from: 2020-01-01T00:00:00Z\n"
    "    to: 2100-01-01T00:00:00Z\n"
    "    reason: quarter-end freeze\n"
)
POLICY = f"{SANDBOX_POLICY}{FROZEN}policy_channel: {POLICY_CHANNEL}\n"
CREATE = (
    "config create frozen-app -c demo-arc -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main "
    "--kustomization name=infra path=./infrastructure prune=true"
)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    runner = StackThread(replace(SCENARIO, policy=POLICY))
    started = runner.start()
    yield started
    runner.stop()


def audited(client: redis.Redis, job_id: str) -> list[dict[str, str]]:
    return [dict(fields) for _, fields in client.xrange("fluxops:audit") if fields.get("job_id") == job_id]


def job_of(ack: dict[str, object]) -> str:
    found = re.search(r"j-[0-9a-f]{12}", str(ack["body"]))
    assert found, ack
    return found.group(0)


def resume(stack: Stack, chat: Chat, client: redis.Redis, text: str) -> None:
    """Send a `fleet resume` and wait for its job: the run is queued again (not still halted) once it ended."""
    ack = chat.send(text)
    assert ack["status"] == 200, ack
    assert wait_phase(stack, client, job_of(ack), {"succeeded", "failed"}) == "succeeded"


def test_a_freeze_refuses_a_create_and_says_until_when(stack: Stack, chat: Chat, redis_client: redis.Redis) -> None:
    ack = chat.send(CREATE)
    assert ack["status"] == 200, ack
    body = str(ack["body"])
    assert "was not run: demo-arc is frozen until Fri 01 Jan 00:00 UTC: sandbox change freeze" in body
    assert "--break-glass" in body
    assert not re.search(r"j-[0-9a-f]{12}", body), "nothing was enqueued"
    refused = [f for _, f in redis_client.xrange("fluxops:audit") if f.get("command") == f"/flux {CREATE}"]
    assert refused and refused[-1]["result"].startswith("refused: `config create` was not run")


def test_break_glass_is_refused_to_an_operator_and_runs_for_an_admin_audited_and_announced(
    stack: Stack, chat: Chat, chat_as: object, redis_client: redis.Redis
) -> None:
    glass = f'{CREATE} --break-glass "INC-42 hotfix"'
    operator = chat_as(OPERATOR)  # type: ignore[operator]
    refused = operator.send(glass)
    assert "`--break-glass` is for admins" in str(refused["body"]), refused

    job = job_of(chat.send(glass))
    assert wait_phase(stack, redis_client, job, {"succeeded", "failed"}) == "succeeded"
    [entry] = audited(redis_client, job)
    assert entry["result"] == "succeeded (break-glass: INC-42 hotfix)"
    assert entry["actor"] == f"slack:{YOU}" and "--break-glass" in entry["command"]
    policy_channel = Chat(Target(stack.slack_url, YOU, POLICY_CHANNEL), out=lambda line: None, timeout=60)
    [announced] = [m for m in policy_channel.job_messages(job) if not m.get("ephemeral")]
    text = blocks_to_text(announced["blocks"], announced["text"])
    assert "Break-glass" in text and "INC-42 hotfix" in text
    assert "demo-arc: frozen until" in text and "sandbox change freeze" in text


def test_a_fleet_run_pauses_between_waves_when_a_freeze_starts_and_break_glass_carries_it_on(
    stack: Stack, chat: Chat, redis_client: redis.Redis
) -> None:
    # the canary's write is slow, so the run is still in its first wave when the freeze is declared
    set_faults(
        stack, [{"method": "PUT", "path": "fleet-0001/.*fluxConfigurations/pause$", "operation": "slow", "seconds": 6}]
    )
    try:
        run = start(chat, f"fleet apply pause --clusters name=fleet-000[12] --waves 1,100% {SOURCE}")
        deadline = time.monotonic() + 60
        while not writes(stack, "pause"):
            assert time.monotonic() < deadline, "the canary was never written"
            time.sleep(0.1)
        # a freeze on the second wave's cluster starts now: the policy file changes and the worker restarts
        policy_file = stack.state_dir / "fluxops.yaml"
        text = policy_file.read_text()
        policy_file.write_text(text.replace(FROZEN, FROZEN + WAVE_TWO_FROZEN))
        stack.kill_process("worker", signal.SIGKILL)
        stack.start_process("worker")
        assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}, limit=120) == "halted"
    finally:
        set_faults(stack, [])
    assert set(writes(stack, "pause")) == {"fleet-0001"}, "the canary's wave ended; the frozen wave never started"
    paused = final_text(chat, run)
    assert "Paused before wave 2: fleet-0002 is frozen until" in paused and "quarter-end freeze" in paused

    resume(stack, chat, redis_client, f"fleet resume {run}")
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}) == "halted"
    assert set(writes(stack, "pause")) == {"fleet-0001"}, "resumed during the freeze, it pauses again"

    resume(stack, chat, redis_client, f'fleet resume {run} --break-glass "INC-43 rollback"')
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}) == "succeeded"
    assert writes(stack, "pause") == {"fleet-0001": 1, "fleet-0002": 1}
    resumes = [f for _, f in redis_client.xrange("fluxops:audit") if "--break-glass" in f.get("command", "")]
    assert any("fleet resume" in f["command"] and "break-glass: INC-43 rollback" in f["result"] for f in resumes)
