"""Block Kit limits, v0 signing and rate-limit buckets of the fake Slack, without a server."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from sandbox.slack import limits, signing
from sandbox.slack.errors import SlackError
from sandbox.slack.ratelimit import Limit, RateLimiter
from sandbox.slack.state import find_button, stored_blocks


def text(kind: str, value: str) -> dict[str, Any]:
    return {"type": kind, "text": value}


def button(label: str = "Go", **extra: object) -> dict[str, Any]:
    return {"type": "button", "text": text("plain_text", label), **extra}


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (
            [{"type": "section", "text": text("mrkdwn", "x" * 3001)}],
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        ([{"type": "section"}], "must define either `text` or `fields` [json-pointer:/blocks/0/type]"),
        (
            [{"type": "section", "fields": [text("mrkdwn", "f")] * 11}],
            "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
        ),
        (
            [{"type": "section", "fields": [text("mrkdwn", "f" * 2001)]}],
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            [{"type": "header", "text": text("plain_text", "h" * 151)}],
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "context", "elements": [text("mrkdwn", "c")] * 11}],
            "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "actions", "elements": [button()] * 26}],
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "actions", "elements": [button("b" * 76)]}],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [{"type": "actions", "elements": [button(value="v" * 2001)]}],
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        (
            [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            [{"type": "divider", "block_id": "b" * 256}],
            "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
        ),
        ([{"type": "divider"}, {"type": "carousel"}], "unsupported type: carousel [json-pointer:/blocks/1/type]"),
        ([{"text": "no type"}], "missing required field: type [json-pointer:/blocks/0]"),
        (
            [{"type": "section", "text": text("plain_text", "")}],
            "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
        ),
    ],
)
def test_block_limits(blocks, expected):
    assert limits.block_errors(blocks) == [expected]
    with pytest.raises(SlackError) as err:
        limits.parse_blocks(blocks)
    assert err.value.error == "invalid_blocks" and err.value.body()["errors"] == [expected]


def test_blocks_at_the_limits_are_accepted():
    blocks = [
        {"type": "header", "text": text("plain_text", "h" * 150)},
        {"type": "section", "text": text("mrkdwn", "s" * 3000), "accessory": button("a" * 75, value="v" * 2000)},
        {"type": "section", "fields": [text("mrkdwn", "f" * 2000)] * 10},
        {"type": "context", "elements": [text("mrkdwn", "c")] * 10},
        {"type": "actions", "block_id": "b" * 255, "elements": [button(action_id="a" * 255)] * 25},
        {"type": "divider"},
        {"type": "rich_text", "elements": []},
    ]
    assert limits.block_errors(blocks) == []
    assert limits.block_errors([{"type": "divider"}] * 50) == []


def test_malformed_blocks_and_metadata():
    with pytest.raises(SlackError) as err:
        limits.parse_blocks('{"type": "divider"}')
    assert err.value.error == "invalid_blocks_format"
    assert limits.parse_blocks('[{"type": "divider"}]') == [{"type": "divider"}]
    assert limits.parse_metadata('{"event_type": "e", "event_payload": {}}') == {"event_type": "e", "event_payload": {}}
    with pytest.raises(SlackError) as err:
        limits.parse_metadata('{"event_type": 1}')
    assert err.value.error == "invalid_metadata_schema"
    with pytest.raises(SlackError) as err:
        limits.parse_metadata("{nope")
    assert err.value.error == "invalid_metadata_format"


def test_stored_blocks_get_stable_ids_and_buttons_are_found():
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "actions", "elements": [button("Yes"), button("No", action_id="no")]},
    ]
    first, second = stored_blocks(blocks), stored_blocks(blocks)
    assert first == second and "block_id" not in blocks[0]
    assert first[0]["block_id"] != first[1]["block_id"]
    generated = first[1]["elements"][0]["action_id"]
    assert find_button(first, generated) == (first[1], first[1]["elements"][0])
    assert find_button(first, "no") == (first[1], first[1]["elements"][1])
    assert find_button(first, "maybe") is None


def test_v0_signature_matches_slacks_recipe():
    body = "token=x&text=%2Fflux+status"
    expected = "v0=" + hmac.new(b"secret", b"v0:1700000000:" + body.encode(), hashlib.sha256).hexdigest()
    assert signing.signature("secret", "1700000000", body) == expected
    headers = signing.signed_headers("secret", body, timestamp="1700000000")
    assert headers == {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": expected}
    assert signing.verify("secret", "1700000000", body, expected, now=1700000100)
    assert not signing.verify("secret", "1700000000", body, expected, now=1700000301)
    assert not signing.verify("other", "1700000000", body, expected, now=1700000000)


def test_rate_limiter_buckets_refill():
    now = [0.0]
    limiter = RateLimiter(
        enabled=True, limits={"m": Limit(burst=2, per_second=0.5, per_channel=True)}, clock=lambda: now[0]
    )
    assert [limiter.check("m", "C1"), limiter.check("m", "C1")] == [0, 0]
    assert limiter.check("m", "C1") == 2  # one token takes two seconds at 0.5/s
    assert limiter.check("m", "C2") == 0
    now[0] = 2.0
    assert limiter.check("m", "C1") == 0
    assert limiter.check("other", "C1") == 0  # methods without a limit are never throttled
    assert RateLimiter(enabled=False).check("chat.postMessage", "C1") == 0
