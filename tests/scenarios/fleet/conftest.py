"""A sandbox of its own for the fleet rollout scenarios: 40 generated clusters besides the seed ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from sandbox.runtime import SandboxOptions
from sandbox.stack import Stack, StackThread
from tests.scenarios.conftest import SCENARIO

FLEET = replace(SCENARIO, sandbox=replace(SCENARIO.sandbox, fleet=40))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    runner = StackThread(FLEET)
    started = runner.start()
    yield started
    runner.stop()


__all__ = ["SandboxOptions"]
