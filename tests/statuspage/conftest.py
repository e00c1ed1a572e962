"""A sandbox of its own for the status page: web, worker and beat from the Procfile behind a sign-in proxy's
header (FLUXOPS_TRUSTED_PROXY_HEADER=X-Forwarded-Email, as oauth2-proxy sets it), with a policy where one person
is admin, one may view only the legacy cluster, and one has no role at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import SandboxOptions
from sandbox.stack import OPERATOR, VIEWER, YOU, Stack, StackOptions, StackThread
from tests.statuspage.browser import Browser, browser, chromium_path

POLICY = f"""\
clusters:
  demo-arc:
    name: flux-demo-arc
    resource_group: flux-demo-rg
    type: connectedClusters
    tags: {{env: dev}}
roles:
  - role: admin
    slack_users: [{YOU}]
  - role: viewer
    slack_users: [{VIEWER}]
    clusters: {{tags: {{env: legacy}}}}
"""
# OPERATOR is in the Slack workspace but named by no rule: no role anywhere
NO_ROLE = OPERATOR

STATUS_STACK = StackOptions(
    sandbox=SandboxOptions(
        step_seconds=0.05,
        emulator=EmulatorConfig(time_scale=50, operation_seconds=0.2, extension_operation_seconds=0.3),
    ),
    watch_first_poll=0.2,
    watch_longest_poll=0.5,
    slack_min_interval=0.05,
    policy=POLICY,
    extra_env={
        "FLUXOPS_TRUSTED_PROXY_HEADER": "X-Forwarded-Email",
        "FLUXOPS_TRUSTED_PROXY_CIDRS": "127.0.0.0/8,::1/128",
        "FLUXOPS_FLEET_SNAPSHOT_INTERVAL": "1",
    },
)


@pytest.fixture(scope="module")
def status_stack() -> Iterator[Stack]:
    if chromium_path() is None:
        pytest.fail("chromium is not installed: scripts/bootstrap installs it (apt-get install chromium)")
    runner = StackThread(STATUS_STACK)
    started = runner.start()
    yield started
    runner.stop()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with browser() as running:
        yield running
