"""What the replica scenarios read back from the sandbox to tell that each job ran exactly once: the ARM
emulator's request log, the audit stream, the fake Slack's calls, and which worker process ran a job."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import redis
import requests

from sandbox.stack import Stack

T = TypeVar("T")
URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"


def create_text(name: str) -> str:
    """``/flux config create`` of configuration ``name`` on demo-arc (the tutorial's infrastructure)."""
    return (
        f"config create {name} -c demo-arc --namespace {name} -u {URL} --branch main "
        "--kustomization name=infra path=./infrastructure prune=true"
    )


def wait_for(what: str, check: Callable[[], T], within: float = 120.0) -> T:
    """``check()`` once it is truthy; a scenario that waits longer than ``within`` has hung."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def _arm(stack: Stack, method: str, path: str, body: object = None) -> Any:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    url = f"{endpoints.arm_url}/_sandbox/{path}"
    response = requests.request(method, url, json=body, verify=str(endpoints.ca_file), timeout=10)
    response.raise_for_status()
    return response.json()


def set_faults(stack: Stack, faults: list[dict[str, Any]]) -> None:
    _arm(stack, "PUT", "faults", {"faults": faults})


def accepted_puts(stack: Stack) -> Counter[str]:
    """How many PUTs ARM accepted for each Flux configuration, by name (lower case)."""
    names: Counter[str] = Counter()
    for r in _arm(stack, "GET", "requests"):
        path = str(r["path"]).lower()
        if r["method"] == "PUT" and "/fluxconfigurations/" in path and int(r.get("status") or 0) in (200, 201):
            names[path.rsplit("/", 1)[1]] += 1
    return names


def audit_entries(client: redis.Redis, job_id: str) -> list[dict[str, str]]:
    return [fields for _, fields in client.xrange("fluxops:audit") if fields.get("job_id") == job_id]


def slack_posts(stack: Stack) -> Counter[str]:
    """How many messages the bot posted (chat.postMessage) for each job id."""
    calls = requests.get(f"{stack.slack_url}_sandbox/calls", params={"method": "chat.postMessage"}, timeout=10)
    calls.raise_for_status()
    posts: Counter[str] = Counter()
    for call in calls.json()["calls"]:
        payload = ((call["args"].get("metadata") or {}).get("event_payload")) or {}
        if call["status"] == 200 and payload.get("job_id"):
            posts[str(payload["job_id"])] += 1
    return posts


def job_messages(stack: Stack, job_id: str) -> list[dict[str, Any]]:
    """The channel messages of job ``job_id`` as they stand now."""
    response = requests.get(f"{stack.slack_url}_sandbox/messages", params={"since": 0, "wait": 0}, timeout=10)
    response.raise_for_status()
    return [
        m
        for m in response.json()["messages"]
        if not m.get("ephemeral") and ((m.get("metadata") or {}).get("event_payload") or {}).get("job_id") == job_id
    ]


def worker_of(stack: Stack, client: redis.Redis, job_id: str, *, field: str | None = None) -> str:
    """The worker replica whose pool process runs ``job_id`` now (its job lock names host:pid), or ran it last
    (``field="p:taken_by"``)."""
    owner = client.hget(f"fluxops:job:{job_id}", field) if field else client.get(f"fluxops:lock:job/{job_id}")
    assert owner, f"no worker holds job {job_id}"
    pid = int(str(owner).split("@", 1)[1].split(":")[1])
    group = os.getpgid(pid)  # each replica runs in a process group of its own, its pool processes with it
    [name] = [n for n, child in stack.children.items() if n.startswith("worker-") and child.pid == group]
    return name
