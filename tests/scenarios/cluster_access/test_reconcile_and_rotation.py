"""Cluster access through the real stack, paced as `fluxops sandbox up` is: a push that no receiver announces is
applied only once `/flux reconcile` asks Flux for it, and `/flux key rotate` proves each fetch by asking the
source to reconcile instead of waiting fetch intervals (15 minutes at time scale 1 without cluster access).

Both go Slack -> fluxops web -> Redis -> a Celery worker -> the real ``kubernetes`` client over HTTPS -> the
sandbox's Kubernetes API, whose objects the simulated Flux keeps. They run on a stack of their own, paced as
`fluxops sandbox up` is (the session's scenario stack runs Flux 50 times faster, which would hide both what a
reconcile saves and what a rotation waits for).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cli.chat import Chat, Target
from cli.slack_text import blocks_to_text
from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import SandboxOptions
from sandbox.stack import CHANNEL, YOU, Stack, StackOptions, StackThread
from sandbox.tutorial_repo import tutorial_files
from sandbox.world import FluxConfigRecord
from tests.scenarios.git_helpers import push, wait_for

CLUSTER = "flux-demo-arc"
#: what `fluxops sandbox up` runs with (cli/main.py: --time-scale 1, --operation-seconds 0.3, --step-seconds 0.7,
#: StackOptions' watch pacing): Flux fetches every 10 minutes; cluster access is on, as by default
SANDBOX_UP = StackOptions(
    sandbox=SandboxOptions(step_seconds=0.7, emulator=EmulatorConfig(time_scale=1.0, operation_seconds=0.3)),
    extra_env={"FLUXOPS_CLUSTER_ACCESS": "on"},
)
#: the longest a job here may take: well above the minute the key rotation should need
JOB_TIMEOUT = 180.0


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """This module's own stack at sandbox-up pace (it replaces the cluster-access scenarios' session stack here)."""
    runner = StackThread(SANDBOX_UP)
    started = runner.start()
    yield started
    runner.stop()


def chat_for(stack: Stack) -> Chat:
    return Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=JOB_TIMEOUT)


def job_id_of(ack: dict[str, Any]) -> str:
    assert ack["status"] == 200, ack
    return str(ack["body"]["text"]).split("job ")[1].split(".")[0].strip("` ")


def job_text(chat: Chat, job_id: str) -> str:
    messages = [m for m in chat.job_messages(job_id) if not m.get("ephemeral")]
    return "\n".join(blocks_to_text(m.get("blocks") or [], str(m.get("text") or "")) for m in messages[-1:])


def record(stack: Stack, name: str) -> FluxConfigRecord:
    found = [c.flux_configs.get(name) for c in stack.sandbox.world.clusters.values() if c.name == CLUSTER]
    assert found and found[0] is not None, f"{name} is not on {CLUSTER}"
    return found[0]


def patches(stack: Stack, since: int) -> list[str]:
    """The merge patches the cluster's Kubernetes API took since request ``since``: "<plural>/<name>"."""
    seen = list(stack.sandbox.kube_api.requests)[since:]
    return [
        "/".join(r.path.split("/")[-2:])
        for r in seen
        if r.method == "PATCH" and r.cluster == CLUSTER and r.status == 200
    ]


def create(chat: Chat, name: str, url: str, *extra: str) -> None:
    command = (
        f"/flux config create {name} -c {CLUSTER} --namespace {name} -u {url} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true "
        "--kustomization name=apps path=./apps/staging prune=true depends_on=infra " + " ".join(extra)
    )
    assert chat.run(command) == 0, f"creating {name}"


def test_a_push_without_a_receiver_is_applied_only_after_reconcile(stack: Stack) -> None:
    chat = chat_for(stack)
    repo, name = "fluxops-sandbox/reconcile-demo", "reconcile-demo"
    stack.sandbox.repos.create_repo(repo, tutorial_files(), private=False)
    create(chat, name, f"https://github.com/{repo}")
    before = record(stack, name).properties.get("sourceSyncedCommitId")
    assert before and record(stack, name).properties.get("complianceState") == "Compliant"

    pushed_at = time.time()
    # no Receiver tells Flux about this push: it would fetch it at its next interval, 10 minutes away
    sha = str(push(stack, repo, "main", {"README.md": "# reconcile\n"}, receiver=False)["sha"])
    time.sleep(5)  # a receiver would have had Flux fetch within a step (0.7 s)
    assert stack.sandbox.flux.fetch_attempts(cluster_name=CLUSTER, config=name, since_wall=pushed_at) == []
    assert record(stack, name).properties.get("sourceSyncedCommitId") == before

    mark = len(stack.sandbox.kube_api.requests)
    job_id = job_id_of(chat.send(f"/flux reconcile {name} -c {CLUSTER} --with-source"))
    code = chat.follow(job_id)
    text = job_text(chat, job_id)
    assert code == 0, text
    # requestedAt set through the cluster's API: the source, then the Kustomizations in dependsOn order
    assert patches(stack, mark) == [
        f"gitrepositories/{name}",
        f"kustomizations/{name}-infra",
        f"kustomizations/{name}-apps",
    ]

    revision = f"main@sha1:{sha[:12]}"  # messages shorten commit ids to 12 characters
    lines = [line for line in text.splitlines() if f"{name}/" in line]
    assert [line.split(": ")[0].split()[-2:] for line in lines] == [
        ["GitRepository", f"{name}/{name}"],
        ["Kustomization", f"{name}/{name}-infra"],
        ["Kustomization", f"{name}/{name}-apps"],
    ], text
    assert f"Ready, fetched {revision}" in lines[0], text
    assert all(f"Ready, applied {revision}" in line for line in lines[1:]), text
    wait_for(
        "ARM to report the new commit applied",
        lambda: (
            record(stack, name).properties.get("sourceSyncedCommitId") == f"main/{sha}"
            and record(stack, name).properties.get("complianceState") == "Compliant"
        ),
        timeout=60,
        seen=lambda: (record(stack, name).properties.get("sourceSyncedCommitId"), sha),
    )


def test_key_rotate_proves_each_fetch_through_the_cluster_and_finishes_in_about_a_minute(stack: Stack) -> None:
    chat = chat_for(stack)
    repo, name = "fluxops-sandbox/rotate-demo", "rotate-demo"
    stack.sandbox.repos.create_repo(repo, tutorial_files(), private=True)
    create(chat, name, f"ssh://git@github.com/{repo}", "--deploy-key generate")  # the default 10m interval

    states: list[str] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            states.append(str(record(stack, name).properties.get("complianceState")))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, since, mark = time.monotonic(), time.time(), len(stack.sandbox.kube_api.requests)
    job_id = job_id_of(chat.send(f"/flux key rotate {name} -c {CLUSTER}"))
    code = chat.follow(job_id)
    took = time.monotonic() - started
    done.set()
    sampler.join()
    text = job_text(chat, job_id)
    print(f"\n/flux key rotate at time scale 1 took {took:.1f} s; compliance seen: {sorted(set(states))}")

    assert code == 0, text  # finished within JOB_TIMEOUT; without cluster access it takes 15 minutes
    assert "Rotated" in text, text
    assert "without cluster access" not in text and "cannot use the Kubernetes API" not in text, text
    attempts = stack.sandbox.flux.fetch_attempts(cluster_name=CLUSTER, config=name, since_wall=since)
    assert attempts and all(a.ok for a in attempts), [a.message for a in attempts if not a.ok]
    # each fetch proved by a reconcile request: after the switch to the new key, and after the old one was revoked
    assert patches(stack, mark) == [f"gitrepositories/{name}"] * 2
    # the simulated agent reports Pending while it applies the switched settings; never a failure
    assert "Non-Compliant" not in states, states


def test_a_cluster_that_forbids_the_patch_is_explained(stack: Stack) -> None:
    chat = chat_for(stack)
    name = "reconcile-demo"  # made by the first test; made again here when this one runs alone
    if not [c for c in stack.sandbox.world.clusters.values() if c.name == CLUSTER and c.flux_configs.get(name)]:
        stack.sandbox.repos.create_repo("fluxops-sandbox/reconcile-demo", tutorial_files(), private=False)
        create(chat, name, "https://github.com/fluxops-sandbox/reconcile-demo")
    stack.sandbox.kube_api.set_faults(
        [{"cluster": CLUSTER, "fault": "forbidden", "resource": "gitrepositories", "verb": "patch"}]
    )
    try:
        job_id = job_id_of(chat.send(f"/flux reconcile {name} -c {CLUSTER}"))
        code = chat.follow(job_id)
    finally:
        stack.sandbox.kube_api.set_faults([])
    text = job_text(chat, job_id)
    assert code != 0, text
    assert "cannot patch" in text and "gitrepositories" in text, text  # what RBAC refused, in its words
    assert "What to do" in text, text  # and what to grant
