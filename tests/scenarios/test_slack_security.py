"""Requests that are not Slack's own, current and first-time are rejected, and nothing is enqueued."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import redis
import requests

from sandbox.stack import CHANNEL, YOU, Stack
from tests.scenarios.conftest import job_keys


def signed_command(
    stack: Stack, text: str, *, trigger: str, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "token": "legacy-verification-token-unused",
            "team_id": "T0SANDBOX",
            "channel_id": CHANNEL,
            "user_id": YOU,
            "command": "/flux",
            "text": text,
            "response_url": f"{stack.slack_url}_response/none",
            "trigger_id": trigger,
        }
    ).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    mac = hmac.new(stack.signing_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={mac}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return body, headers


def post(stack: Stack, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{stack.web_url}/slack/events", data=body, headers=headers, timeout=10)


def test_a_bad_signature_is_rejected(stack: Stack, redis_client: redis.Redis) -> None:
    before = job_keys(redis_client)
    sent = requests.post(
        f"{stack.slack_url}_sandbox/command",
        json={"text": "config list -c demo-arc", "signing_secret": "not-the-secret"},
        timeout=10,
    ).json()
    assert sent["status"] == 401
    body, headers = signed_command(stack, "config list -c demo-arc", trigger="t-bad")
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    assert post(stack, body, headers).status_code == 401
    assert job_keys(redis_client) == before


def test_a_stale_timestamp_is_rejected(stack: Stack, redis_client: redis.Redis) -> None:
    before = job_keys(redis_client)
    six_minutes_ago = int(time.time()) - 360
    body, headers = signed_command(stack, "config list -c demo-arc", trigger="t-stale", timestamp=six_minutes_ago)
    assert post(stack, body, headers).status_code == 401
    sent = requests.post(
        f"{stack.slack_url}_sandbox/command",
        json={"text": "config list -c demo-arc", "timestamp": six_minutes_ago},
        timeout=10,
    ).json()
    assert sent["status"] == 401
    assert job_keys(redis_client) == before


def test_a_replayed_request_is_rejected(stack: Stack, redis_client: redis.Redis) -> None:
    before = job_keys(redis_client)
    body, headers = signed_command(stack, "config list -c demo-arc", trigger="t-replay")
    first = post(stack, body, headers)
    assert first.status_code == 200
    assert "job j-" in first.text
    replay = post(stack, body, headers)
    assert replay.status_code == 401
    assert "replay" in replay.text
    assert len(job_keys(redis_client) - before) == 1


def test_oversized_and_non_utf8_bodies_get_a_4xx(stack: Stack, redis_client: redis.Redis) -> None:
    before = job_keys(redis_client)
    body, headers = signed_command(stack, "x" * 70_000, trigger="t-big")
    assert post(stack, body, headers).status_code == 413
    body, headers = signed_command(stack, "config list -c demo-arc", trigger="t-latin1")
    assert post(stack, body + b"&x=\xff\xfe", headers).status_code == 400
    assert job_keys(redis_client) == before
