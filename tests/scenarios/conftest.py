"""One whole sandbox for the scenario tests: redis-server, ARM emulator, fake Slack, and fluxops' web,
worker and beat processes started from the Procfile. Tests talk to it as Slack users do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests

from bot.models import ClusterRef, ClusterType
from cli.chat import Chat, Target
from sandbox.arm.app import EmulatorConfig
from sandbox.credential import SandboxCredential
from sandbox.runtime import SandboxOptions
from sandbox.stack import CHANNEL, YOU, Stack, StackOptions, StackThread
from workers.azure_connection import ArmConnection
from workers.azure_flux import AzureFluxConfigs

#: seconds between watch scans in the scenarios (tests/scenarios/test_watch_alerts.py)
WATCH_SCAN_INTERVAL = 2.0

SCENARIO = StackOptions(
    sandbox=SandboxOptions(
        fleet=3,  # fleet-0000 (Arc), fleet-0001, fleet-0002 (AKS): the Git scenarios' own clusters
        step_seconds=0.05,
        emulator=EmulatorConfig(time_scale=50, operation_seconds=0.2, extension_operation_seconds=0.3),
    ),
    watch_first_poll=0.2,
    watch_longest_poll=0.5,
    job_stale_seconds=4.0,
    recover_interval=1.0,
    slack_min_interval=0.05,
    # failpoints let the deploy-key scenarios stop a worker at a named step; beat looks for old keys every second
    # the watch scan runs every WATCH_SCAN_INTERVAL seconds; a failure alerts once it has held a second
    # every scenario speaks as one person on this one stack: on a fast machine they pass the 30 commands a minute
    # one person may send (tests/security/test_hardening.py tests that limit on a stack of its own)
    extra_env={
        "FLUXOPS_RATE_LIMIT": "1000",
        "FLUXOPS_FAILPOINTS": "1",
        "FLUXOPS_KEY_ROTATION_CHECK_INTERVAL": "1",
        "FLUXOPS_WATCH_SCAN_INTERVAL": str(WATCH_SCAN_INTERVAL),
        "FLUXOPS_WATCH_ALERT_SETTLE": "1",
    },
)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    runner = StackThread(SCENARIO)
    started = runner.start()
    yield started
    runner.stop()


@pytest.fixture
def chat(stack: Stack) -> Chat:
    return Chat(Target(stack.slack_url, YOU, CHANNEL), out=lambda line: None, timeout=120)


@pytest.fixture
def chat_as(stack: Stack) -> Any:
    def make(user: str) -> Chat:
        return Chat(Target(stack.slack_url, user, CHANNEL), out=lambda line: None, timeout=120)

    return make


@pytest.fixture
def redis_client(stack: Stack) -> redis.Redis:
    assert stack.redis is not None
    return redis.Redis.from_url(stack.redis.url, decode_responses=True)


@pytest.fixture
def arm_flux(stack: Stack) -> AzureFluxConfigs:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    connection = ArmConnection(
        endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file), poll_interval=0.1
    )
    return AzureFluxConfigs(connection=connection)


@pytest.fixture
def demo_arc(stack: Stack) -> ClusterRef:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    return ClusterRef(endpoints.subscription_id, "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc")


def arm_requests(stack: Stack) -> list[dict[str, Any]]:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    response = requests.get(f"{endpoints.arm_url}/_sandbox/requests", verify=str(endpoints.ca_file), timeout=10)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def set_faults(stack: Stack, faults: list[dict[str, Any]]) -> None:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    url = f"{endpoints.arm_url}/_sandbox/faults"
    requests.put(url, json={"faults": faults}, verify=str(endpoints.ca_file), timeout=10).raise_for_status()


def job_keys(client: redis.Redis) -> set[str]:
    return {str(k) for k in client.scan_iter("fluxops:job:*")}
