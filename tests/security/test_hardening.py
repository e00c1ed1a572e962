"""Attacks 10 and 11 of docs/security.md at the edges: workspaces, rate limits, failpoints.

- A slash command signed with the app's secret but sent from another Slack workspace is refused (and
  audited): the signing secret is per app, an app can be installed in several workspaces.
- One person cannot flood fluxops: past FLUXOPS_RATE_LIMIT commands a minute, commands are refused at
  intake with how long to wait, and nothing is stored for them.
- Failpoints (a test facility that pauses or kills workers) refuse to run against a real ARM endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
import redis
import requests

from bot.errors import ConfigurationError
from bot.settings import Settings
from cli.chat import Chat
from sandbox.stack import CHANNEL, OPERATOR, Stack
from tests.security.conftest import ArmWrites, refusals
from workers.wiring import require_sandbox_for_failpoints

#: a small limit, so the flood test stays short
EXTRA_ENV = {"FLUXOPS_RATE_LIMIT": "5"}


def job_keys(client: redis.Redis) -> set[str]:
    return {str(k) for k in client.scan_iter("fluxops:job:*")}


def signed(stack: Stack, text: str, *, team: str, user: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "team_id": team,
            "channel_id": CHANNEL,
            "user_id": user,
            "command": "/flux",
            "text": text,
            "response_url": f"{stack.slack_url}_response/none",
            "trigger_id": f"t-{time.time_ns()}",
        }
    ).encode()
    ts = str(int(time.time()))
    mac = hmac.new(stack.signing_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return body, {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={mac}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_a_command_from_another_workspace_is_refused(
    stack: Stack, redis_client: redis.Redis, arm_writes: ArmWrites
) -> None:
    before = job_keys(redis_client)
    body, headers = signed(stack, "suspend anything -c flux-demo-arc", team="T0ELSEWHERE", user="U0SANDBOX")
    answer = requests.post(f"{stack.web_url}/slack/events", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200 and "not one fluxops serves" in answer.text
    assert job_keys(redis_client) == before
    assert refusals(redis_client, "SLACK_ALLOWED_TEAMS")
    assert arm_writes.since() == []


def test_one_person_cannot_flood_fluxops(
    stack: Stack, chat_as: Callable[[str], Chat], redis_client: redis.Redis
) -> None:
    flooder = chat_as(OPERATOR)
    before = job_keys(redis_client)
    answers = [str(flooder.send("/flux clusters").get("body")) for _ in range(8)]
    started = [a for a in answers if "On it" in a]
    limited = [a for a in answers if "more than 5 fluxops commands in a minute" in a]
    # a minute boundary may fall inside the burst: at most two windows' worth get through
    assert 5 <= len(started) <= 8 and len(started) + len(limited) == 8
    if len(started) == 5:
        assert len(limited) == 3 and "Try again in" in limited[0]
    assert len(job_keys(redis_client) - before) == len(started)
    if limited:
        assert refusals(redis_client, "FLUXOPS_RATE_LIMIT")
    # someone else is not held back by it
    assert "On it" in str(chat_as("U0VIEWER").send("/flux clusters").get("body"))


@pytest.mark.parametrize("endpoint", ["https://management.azure.com", "https://arm.example.org:8443"])
def test_failpoints_refuse_a_real_arm_endpoint(endpoint: str) -> None:
    settings = Settings(FLUXOPS_FAILPOINTS="1", AZURE_ARM_ENDPOINT=endpoint)
    with pytest.raises(ConfigurationError, match="test facility of the sandbox"):
        require_sandbox_for_failpoints(settings)
    require_sandbox_for_failpoints(Settings(FLUXOPS_FAILPOINTS="1", AZURE_ARM_ENDPOINT="https://127.0.0.1:4443"))
    require_sandbox_for_failpoints(Settings(AZURE_ARM_ENDPOINT=endpoint))  # off: nothing to refuse
