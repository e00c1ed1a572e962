"""The cluster-access scenarios run on a stack of their own (the same options as tests/scenarios/conftest.py's),
so what they change on the tutorial's clusters (an extension installed, configurations created and deleted, events
recorded) cannot reach the goldens of the other scenarios, in whatever order the two run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.stack import Stack, StackThread
from tests.scenarios.conftest import SCENARIO


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    runner = StackThread(SCENARIO)
    started = runner.start()
    yield started
    runner.stop()
