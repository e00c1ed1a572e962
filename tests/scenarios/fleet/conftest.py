"""A sandbox of its own for the fleet rollout scenarios: 40 generated clusters besides the seed ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from sandbox.credential import SandboxCredential
from sandbox.stack import Stack, StackThread
from tests.scenarios.conftest import SCENARIO
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions

FLEET = replace(SCENARIO, sandbox=replace(SCENARIO.sandbox, fleet=40))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    runner = StackThread(FLEET)
    started = runner.start()
    yield started
    runner.stop()


@pytest.fixture
def arm_extensions(stack: Stack) -> AzureExtensions:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    connection = ArmConnection(
        endpoint=endpoints.arm_url, credential=SandboxCredential(), ca_bundle=str(endpoints.ca_file), poll_interval=0.1
    )
    return AzureExtensions(connection=connection)
