"""The attacks of docs/security.md, each tried through the real stack: fake Slack / GitHub / Azure DevOps ->
fluxops web -> Redis -> worker -> ARM emulator.

Every module gets a stack of its own, started with the policy the module names in ``POLICY`` (default: the
sandbox's own), so a module can try its attacks against the policy they need. Helpers here tell a test what
the attacker achieved: the ARM writes since a mark, and the audit entries of refusals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from cli.chat import Chat, Target
from sandbox.stack import CHANNEL, SANDBOX_POLICY, YOU, Stack, StackOptions, StackThread
from tests.scenarios.conftest import SCENARIO, arm_requests, redis_client  # noqa: F401 (a fixture)

WRITES = frozenset({"PUT", "PATCH", "DELETE", "POST"})
#: a query that is POSTed but reads (Azure Resource Graph)
READ_BY_POST = "/providers/microsoft.resourcegraph/resources"


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    policy = getattr(request.module, "POLICY", SANDBOX_POLICY)
    extra_env = {**SCENARIO.extra_env, **getattr(request.module, "EXTRA_ENV", {})}
    options = StackOptions(
        sandbox=SCENARIO.sandbox,
        watch_first_poll=SCENARIO.watch_first_poll,
        watch_longest_poll=SCENARIO.watch_longest_poll,
        job_stale_seconds=SCENARIO.job_stale_seconds,
        recover_interval=SCENARIO.recover_interval,
        slack_min_interval=SCENARIO.slack_min_interval,
        extra_env=extra_env,
        policy=policy,
    )
    runner = StackThread(options)
    started = runner.start()
    yield started
    runner.stop()


@pytest.fixture
def chat_as(stack: Stack) -> Callable[[str], Chat]:
    def make(user: str = YOU) -> Chat:
        return Chat(Target(stack.slack_url, user, CHANNEL), out=lambda line: None, timeout=120)

    return make


def arm_log(stack: Stack) -> list[dict[str, Any]]:
    """Every request the ARM emulator received, oldest first (method, path, query, status)."""
    return arm_requests(stack)


class ArmWrites:
    """The ARM writes made after ``mark()``: what an attack must leave empty."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.start = len(arm_log(stack))

    def since(self) -> list[dict[str, Any]]:
        return [
            r
            for r in arm_log(self.stack)[self.start :]
            if r["method"] in WRITES and not str(r["path"]).lower().startswith(READ_BY_POST)
        ]


@pytest.fixture
def arm_writes(stack: Stack) -> ArmWrites:
    return ArmWrites(stack)


def audit_entries(client: redis.Redis, stream: str = "fluxops:audit") -> list[dict[str, str]]:
    """The audit log's entries, oldest first."""
    return [dict(fields) for _, fields in client.xrange(stream)]


def refusals(client: redis.Redis, needle: str = "") -> list[dict[str, str]]:
    """Audit entries whose result is a refusal (and mentions ``needle``)."""
    return [
        e for e in audit_entries(client) if e.get("result", "").startswith("refused") and needle in " ".join(e.values())
    ]
