"""Fleet rollouts through the whole stack (Slack → web → Celery worker → ARM emulator → simulated Flux):
waves that each end Compliant, a halt that names the cluster and leaves later waves untouched, a worker killed
mid-wave, cancel and resume, and a 429 storm — with every cluster written exactly once."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter

import redis

from bot.models import ClusterRef, ClusterType, ExtensionSpec, FluxConfigSpec, GitSource, Kustomization, RepositoryRef
from cli.chat import Chat
from cli.slack_text import blocks_to_text
from sandbox.stack import Stack
from tests.scenarios.conftest import arm_requests, set_faults
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs

URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
#: fleet-0000 … fleet-0029
THIRTY = "name=fleet-00[0-2]*"
SOURCE = f"-u {URL} --branch main --interval 24h --kustomization name=infra path=./infrastructure prune=true"
_CLUSTER = re.compile(r"/(?:connectedclusters|managedclusters)/([^/]+)/providers/", re.IGNORECASE)


def writes(stack: Stack, name: str, *, accepted: bool = True) -> Counter[str]:
    """PUT/PATCH requests on configuration ``name``, per cluster (only those ARM accepted when ``accepted``)."""
    counted: Counter[str] = Counter()
    for r in arm_requests(stack):
        path = str(r["path"]).lower()
        if r["method"] not in ("PUT", "PATCH") or not path.endswith(f"/fluxconfigurations/{name}"):
            continue
        if accepted and int(r["status"]) >= 300:
            continue
        match = _CLUSTER.search(path)
        assert match is not None
        counted[match.group(1)] += 1
    return counted


def start(chat: Chat, text: str) -> str:
    """Send a fleet command, press Confirm on its plan; the run's id."""
    ack = chat.send(text)
    assert ack["status"] == 200, ack
    found = re.search(r"j-[0-9a-f]{12}", str(ack["body"]))
    assert found, ack
    run = found.group(0)
    deadline = time.monotonic() + 60
    while True:
        plan = [
            m
            for m in chat.job_messages(run)
            if (m.get("metadata") or {}).get("event_payload", {}).get("phase") == "awaiting_confirmation"
        ]
        if plan:
            chat.press(plan[-1], "fluxops_confirm")
            return run
        assert time.monotonic() < deadline, "the plan was never shown"
        time.sleep(0.2)


def final_text(chat: Chat, run: str) -> str:
    messages = [m for m in chat.job_messages(run) if not m.get("ephemeral")]
    assert len(messages) == 1, "one message per run, edited in place"
    return blocks_to_text(messages[0]["blocks"], messages[0]["text"])


def wait_phase(stack: Stack, client: redis.Redis, run: str, phases: set[str], limit: float = 150) -> str:
    deadline = time.monotonic() + limit
    while True:
        phase = str(client.hget(f"fluxops:job:{run}", "p:phase") or "")
        if phase in phases:
            return phase
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run} is still {phase!r}; the worker says:\n{stack.log_tail('worker', 40)}")
        time.sleep(0.25)


def fleet_ref(stack: Stack, i: int) -> ClusterRef:
    """fleet-NNNN as sandbox/world.py add_fleet makes it (every third one is an Arc cluster)."""
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    ctype = ClusterType.MANAGED if i % 3 else ClusterType.CONNECTED
    return ClusterRef(endpoints.subscription_id, "fleet-rg", ctype, f"fleet-{i:04d}")


def test_three_waves_reach_compliant_with_one_write_per_cluster(
    stack: Stack, chat: Chat, redis_client: redis.Redis, arm_flux: AzureFluxConfigs
) -> None:
    run = start(chat, f"fleet apply waves --clusters {THIRTY} --waves 1,10%,100% {SOURCE}")
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}) == "succeeded"
    counted = writes(stack, "waves")
    assert len(counted) == 30 and set(counted.values()) == {1}
    assert "30/30" in final_text(chat, run)
    for i in (0, 17, 29):
        assert arm_flux.get(fleet_ref(stack, i), "waves").compliance_state == "Compliant"
    # a wave starts only once the one before is done: the canary's write came before every other
    order = [
        _CLUSTER.search(str(r["path"]).lower())
        for r in arm_requests(stack)
        if r["method"] == "PUT" and str(r["path"]).lower().endswith("/fluxconfigurations/waves")
    ]
    assert order[0] is not None and order[0].group(1) == "fleet-0000"


def test_a_broken_cluster_in_wave_two_halts_the_run_and_wave_three_is_untouched(
    stack: Stack, chat: Chat, redis_client: redis.Redis, arm_flux: AzureFluxConfigs, arm_extensions: AzureExtensions
) -> None:
    # fleet-0002 (wave 2 of 1,10%,100%) already runs "halting" from a path that is not in the repository
    spec = FluxConfigSpec(
        name="halting",
        source=GitSource(url=URL, ref=RepositoryRef(branch="main"), sync_interval_seconds=86400),
        namespace="halting",
        kustomizations=(Kustomization(name="legacy", path="./no-such-path"),),
    )
    broken = fleet_ref(stack, 2)
    if arm_extensions.find_flux(broken) is None:
        arm_extensions.begin_create(broken, ExtensionSpec()).result()
    arm_flux.begin_create_or_update(broken, spec).result()
    run = start(chat, f"fleet apply halting --clusters {THIRTY} --waves 1,10%,100% {SOURCE}")
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}) == "halted"
    counted = writes(stack, "halting")
    wave3 = {f"fleet-{i:04d}" for i in range(3, 30)}
    assert not wave3 & set(counted), "nothing after the halted wave is written"
    text = final_text(chat, run)
    assert "fleet-0002" in text and "path" in text.lower()
    assert f"/flux fleet resume {run}" in text


def test_a_worker_killed_mid_wave_loses_nothing_and_repeats_no_write(
    stack: Stack, chat: Chat, redis_client: redis.Redis
) -> None:
    run = start(chat, f"fleet apply crash --clusters {THIRTY} --waves 100% --max-parallel 4 {SOURCE}")
    deadline = time.monotonic() + 120
    while sum(writes(stack, "crash").values()) < 8:
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.1)
    stack.kill_process("worker", signal.SIGKILL)
    stack.start_process("worker")
    # the recovery sweep requeues the run (its heartbeat went stale); it carries on from its record
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}, limit=90) == "succeeded"
    counted = writes(stack, "crash")
    assert len(counted) == 30 and set(counted.values()) == {1}, counted
    assert "30/30" in final_text(chat, run)


def test_cancel_stops_after_in_flight_writes_and_resume_finishes_the_run(
    stack: Stack, chat: Chat, redis_client: redis.Redis
) -> None:
    run = start(chat, f"fleet apply stopper --clusters {THIRTY} --waves 100% --max-parallel 2 {SOURCE}")
    deadline = time.monotonic() + 120
    while not writes(stack, "stopper"):
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.1)
    assert chat.send(f"fleet cancel {run}")["status"] == 200
    assert wait_phase(stack, redis_client, run, {"canceled", "succeeded"}) == "canceled"
    stopped = writes(stack, "stopper")
    assert 0 < sum(stopped.values()) < 30
    assert "Canceled by" in final_text(chat, run)
    assert chat.send(f"fleet resume {run}")["status"] == 200
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}) == "succeeded"
    counted = writes(stack, "stopper")
    assert len(counted) == 30 and set(counted.values()) == {1}


def test_a_429_storm_is_absorbed_and_no_cluster_fails(stack: Stack, chat: Chat, redis_client: redis.Redis) -> None:
    set_faults(
        stack, [{"method": "PUT", "path": "fluxConfigurations/storm$", "respond": 429, "rate": 0.5, "retry_after": 0.2}]
    )
    try:
        run = start(chat, f"fleet apply storm --clusters {THIRTY} --waves 100% {SOURCE}")
        assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}, limit=300) == "succeeded"
    finally:
        set_faults(stack, [])
    refused = writes(stack, "storm", accepted=False) - writes(stack, "storm")
    assert sum(refused.values()) > 0, "the storm answered some 429s"
    counted = writes(stack, "storm")
    assert len(counted) == 30 and set(counted.values()) == {1}


def job_of(ack: dict[str, object]) -> str:
    found = re.search(r"j-[0-9a-f]{12}", str(ack["body"]))
    assert found, ack
    return found.group(0)


def answer(chat: Chat, client: redis.Redis, stack: Stack, text: str) -> str:
    """Send a read-only fleet command; the text of its one message once it ended."""
    ack = chat.send(text)
    assert ack["status"] == 200, ack
    job = job_of(ack)
    wait_phase(stack, client, job, {"succeeded", "failed"})
    deadline = time.monotonic() + 30
    while not [m for m in chat.job_messages(job) if m.get("blocks")]:
        assert time.monotonic() < deadline, f"job {job} posted nothing"
        time.sleep(0.1)
    message = [m for m in chat.job_messages(job) if m.get("blocks")][-1]
    return blocks_to_text(message["blocks"], message["text"])


def test_status_and_list_show_a_run_and_the_extension_is_updated_in_waves(
    stack: Stack, chat: Chat, redis_client: redis.Redis, arm_extensions: AzureExtensions
) -> None:
    # fleet-0030 … fleet-0035; every one but fleet-0035 has the flux extension
    for i in range(30, 35):
        if arm_extensions.find_flux(fleet_ref(stack, i)) is None:
            arm_extensions.begin_create(fleet_ref(stack, i), ExtensionSpec()).result()
    run = start(
        chat,
        "fleet extension update --clusters name=fleet-003[0-5] --config image-automation-controller.enabled=true "
        "--waves 1,100%",
    )
    assert wait_phase(stack, redis_client, run, {"succeeded", "halted", "failed"}) == "succeeded"
    for i in range(30, 35):
        flux = arm_extensions.find_flux(fleet_ref(stack, i))
        assert flux is not None and ("image-automation-controller.enabled", "true") in flux.settings
    assert arm_extensions.find_flux(fleet_ref(stack, 35)) is None, "a cluster without the extension is left alone"
    assert "5/5" in final_text(chat, run)

    status = answer(chat, redis_client, stack, f"fleet status {run}")
    assert "fleet extension update" in status and "5/5" in status
    listed = answer(chat, redis_client, stack, "fleet list")
    assert run in listed
