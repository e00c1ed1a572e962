"""A sandbox of its own for the cluster-access scenarios, paced as `fluxops sandbox up` is by default (time
scale 1: Flux fetches every 10 minutes, ARM writes take 0.3 s, the agent steps every 0.7 s), with fluxops given
cluster access: the worker reaches each cluster's Kubernetes API with the real ``kubernetes`` client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import SandboxOptions
from sandbox.stack import Stack, StackOptions, StackThread

#: what `fluxops sandbox up` runs with (cli/main.py: --time-scale 1, --operation-seconds 0.3, --step-seconds
#: 0.7, StackOptions' watch pacing), plus cluster access
SANDBOX_UP = StackOptions(
    sandbox=SandboxOptions(step_seconds=0.7, emulator=EmulatorConfig(time_scale=1.0, operation_seconds=0.3)),
    extra_env={"FLUXOPS_CLUSTER_ACCESS": "on"},  # the default, said out loud,
)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    runner = StackThread(SANDBOX_UP)
    started = runner.start()
    yield started
    runner.stop()
