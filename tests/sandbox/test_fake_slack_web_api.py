"""The fake Slack Web API, spoken to by slack_sdk's real WebClient and AsyncWebClient."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import FakeSlack

TOKEN = "xoxb-sandbox-token"
SECRET = "sandbox-signing-secret"
CHANNEL = "C0SANDBOX"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(
        bot_token=TOKEN,
        signing_secret=SECRET,
        users={"U0SANDBOX": "alice", "U0BOB": "bob"},
        usergroups={"S0OPS": ["U0SANDBOX", "U0BOB"]},
    )
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.api_url)


@pytest.fixture
def aclient(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


async def raw(fake: FakeSlack, method: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.post(f"{fake.api_url}{method}", **kw) as r:
        return r.status, await r.json(), dict(r.headers)


async def test_auth_test_with_sync_and_async_clients(client: WebClient, aclient: AsyncWebClient):
    sync = await asyncio.to_thread(client.auth_test)
    asynchronous = await aclient.auth_test()
    for response in (sync, asynchronous):
        assert response["ok"] is True
        assert response["team_id"] == "T0SANDBOX"
        assert response["user_id"] == "U0FLUXOPS"
        assert response["bot_id"] == "B0FLUXOPS"
        assert response["url"] == "https://sandbox.slack.com/"
        assert response["team"] and response["user"] == "fluxops"


async def test_post_message_returns_slack_shape_with_increasing_ts(fake: FakeSlack, client: WebClient):
    blocks = [section("*hello*")]
    metadata = {"event_type": "fluxops_job", "event_payload": {"job": "j1"}}
    first = await asyncio.to_thread(client.chat_postMessage, channel=CHANNEL, text="hello", blocks=blocks)
    second = await asyncio.to_thread(client.chat_postMessage, channel="#sandbox", text="again", metadata=metadata)
    assert first["channel"] == CHANNEL and second["channel"] == CHANNEL
    assert float(second["ts"]) > float(first["ts"])
    assert len(first["ts"].split(".")[1]) == 6
    message = first["message"]
    assert message["type"] == "message" and message["bot_id"] == "B0FLUXOPS" and message["ts"] == first["ts"]
    assert message["text"] == "hello"
    assert message["blocks"][0]["text"] == {"type": "mrkdwn", "text": "*hello*"}
    assert message["blocks"][0]["block_id"]  # Slack gives every block an id
    assert second["message"]["metadata"] == metadata
    assert [m.text for m in fake.state.messages] == ["hello", "again"]


async def test_async_client_posts_and_updates_with_history(fake: FakeSlack, aclient: AsyncWebClient):
    posted = await aclient.chat_postMessage(channel=CHANNEL, text="step 1", blocks=[section("step 1")])
    await aclient.chat_update(channel=CHANNEL, ts=posted["ts"], text="step 2")
    updated = await aclient.chat_update(channel=CHANNEL, ts=posted["ts"], text="step 3", blocks=[section("done")])
    assert updated["ok"] and updated["ts"] == posted["ts"] and updated["text"] == "step 3"
    [message] = fake.state.messages
    assert message.edits == 2
    assert [v.text for v in message.history] == ["step 1", "step 2"]
    # chat.update without blocks keeps the blocks, as Slack does
    assert message.history[1].blocks[0]["text"]["text"] == "step 1"
    assert message.blocks[0]["text"]["text"] == "done"
    assert message.feed()["history"] == ["step 1", "step 2"]


async def test_update_errors(fake: FakeSlack, aclient: AsyncWebClient):
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"
    ephemeral = await aclient.chat_postEphemeral(channel=CHANNEL, user="U0BOB", text="only bob")
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_update(channel=CHANNEL, ts=ephemeral["message_ts"], text="x")
    assert err.value.response["error"] == "cant_update_message"


async def test_post_ephemeral(fake: FakeSlack, client: WebClient):
    response = await asyncio.to_thread(
        client.chat_postEphemeral, channel=CHANNEL, user="U0BOB", text="psst", blocks=[section("psst")]
    )
    assert response["ok"] is True and "." in response["message_ts"]
    [message] = fake.state.messages
    assert message.ephemeral and message.user == "U0BOB" and message.key.startswith("e")
    assert message.ts == response["message_ts"]
    with pytest.raises(SlackApiError) as err:
        await asyncio.to_thread(client.chat_postEphemeral, channel=CHANNEL, user="U0NOBODY", text="x")
    assert err.value.response["error"] == "user_not_in_channel"


async def test_wrong_or_missing_token(fake: FakeSlack):
    bad = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    with pytest.raises(SlackApiError) as err:
        await bad.chat_postMessage(channel=CHANNEL, text="x")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "invalid_auth"
    status, body, _ = await raw(fake, "auth.test")
    assert (status, body) == (200, {"ok": False, "error": "not_authed"})
    assert fake.state.messages == []


async def test_invalid_blocks_51_blocks(aclient: AsyncWebClient):
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("b")] * 51)
    response = err.value.response
    assert response["error"] == "invalid_blocks"
    assert response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert response["response_metadata"]["messages"] == ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    assert (await aclient.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("b")] * 50))["ok"]


async def test_invalid_blocks_3001_char_section(aclient: AsyncWebClient):
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("y" * 3001)])
    assert err.value.response["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]
    assert (await aclient.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("y" * 3000)]))["ok"]


async def test_unknown_block_type_and_invalid_update(fake: FakeSlack, aclient: AsyncWebClient):
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_postMessage(channel=CHANNEL, text="x", blocks=[{"type": "sections"}])
    assert err.value.response["errors"] == ["unsupported type: sections [json-pointer:/blocks/0/type]"]
    posted = await aclient.chat_postMessage(channel=CHANNEL, text="x")
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_update(channel=CHANNEL, ts=posted["ts"], text="y", blocks=[{"type": "header", "text": None}])
    assert err.value.response["error"] == "invalid_blocks"
    assert fake.state.messages[0].edits == 0


async def test_msg_too_long_no_text_and_channel_not_found(aclient: AsyncWebClient):
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_postMessage(channel=CHANNEL, text="z" * 40_001)
    assert err.value.response["error"] == "msg_too_long"
    assert (await aclient.chat_postMessage(channel=CHANNEL, text="z" * 40_000))["ok"]
    with pytest.raises(SlackApiError) as err:
        await aclient.api_call("chat.postMessage", json={"channel": CHANNEL})
    assert err.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as err:
        await aclient.api_call("chat.postMessage", json={"text": "x"})
    assert err.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as err:
        await aclient.chat_postMessage(channel="#no-such-channel", text="x")
    assert err.value.response["error"] == "channel_not_found"


async def test_usergroups_and_users(client: WebClient, aclient: AsyncWebClient):
    members = await asyncio.to_thread(client.usergroups_users_list, usergroup="S0OPS")
    assert members["users"] == ["U0SANDBOX", "U0BOB"]
    with pytest.raises(SlackApiError) as err:
        await aclient.usergroups_users_list(usergroup="S0NOPE")
    assert err.value.response["error"] == "no_such_subteam"
    info = await aclient.users_info(user="U0BOB")
    assert info["user"]["id"] == "U0BOB" and info["user"]["name"] == "bob" and info["user"]["real_name"] == "bob"
    with pytest.raises(SlackApiError) as err:
        await aclient.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"


async def test_unknown_method(fake: FakeSlack, aclient: AsyncWebClient):
    with pytest.raises(SlackApiError) as err:
        await aclient.api_call("chat.frobnicate", json={})
    assert err.value.response["error"] == "unknown_method"


async def test_form_encoded_call_with_token_argument_and_json_blocks(fake: FakeSlack):
    form = {"token": TOKEN, "channel": CHANNEL, "text": "form", "blocks": json.dumps([section("from a form")])}
    status, body, headers = await raw(fake, "chat.postMessage", data=form)
    assert status == 200 and body["ok"] is True
    assert body["message"]["blocks"][0]["text"]["text"] == "from a form"
    assert headers["Content-Type"].startswith("application/json")
    status, body, _ = await raw(fake, "chat.postMessage", data={**form, "blocks": "[not json"})
    assert body == {"ok": False, "error": "invalid_blocks_format"}


async def test_calls_are_recorded_without_token(fake: FakeSlack, aclient: AsyncWebClient):
    await aclient.chat_postMessage(channel=CHANNEL, text="recorded")
    await raw(fake, "chat.postMessage", data={"token": TOKEN, "channel": CHANNEL, "text": "form"})
    async with aiohttp.ClientSession() as session, session.get(f"{fake.base_url}_sandbox/calls") as r:
        calls = (await r.json())["calls"]
    assert [c["method"] for c in calls] == ["chat.postMessage", "chat.postMessage"]
    assert calls[0]["args"] == {"channel": CHANNEL, "text": "recorded"}
    assert calls[0]["status"] == 200 and calls[0]["error"] is None and calls[0]["at"] > 0
    assert TOKEN not in json.dumps(calls) and SECRET not in repr(fake) and TOKEN not in repr(fake)


async def test_rate_limit_answers_429_with_retry_after(fake: FakeSlack):
    fake.limiter.enabled = True
    fake.limiter.drain("chat.postMessage", CHANNEL)
    status, body, headers = await raw(
        fake, "chat.postMessage", json={"channel": CHANNEL, "text": "x"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 429
    assert body == {"ok": False, "error": "ratelimited"}
    assert int(headers["Retry-After"]) >= 1
    # other channels have their own bucket
    status, _, _ = await raw(
        fake, "chat.postMessage", json={"channel": "C0OTHER", "text": "x"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200


async def test_rate_limited_posts_are_retried_by_slack_sdk(fake: FakeSlack):
    fake.limiter.enabled = True
    client = WebClient(
        token=TOKEN, base_url=fake.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    fake.limiter.drain("chat.postMessage", CHANNEL)  # as after a burst: the next post to this channel waits
    response = await asyncio.to_thread(client.chat_postMessage, channel=CHANNEL, text="after the wait")
    assert response["ok"] is True
    assert [(c.method, c.status, c.error) for c in fake.state.calls] == [
        ("chat.postMessage", 429, "ratelimited"),
        ("chat.postMessage", 200, None),
    ]
    assert [m.text for m in fake.state.messages] == ["after the wait"]


async def test_posting_bursts_are_limited_per_channel(fake: FakeSlack, aclient: AsyncWebClient):
    fake.limiter.enabled = True
    for i in range(3):  # Slack allows short bursts over one message a second
        await aclient.chat_postMessage(channel=CHANNEL, text=f"m{i}")

    async def keep_posting() -> None:
        for i in range(3, 10):
            await aclient.chat_postMessage(channel=CHANNEL, text=f"m{i}")

    with pytest.raises(SlackApiError) as err:
        await keep_posting()
    assert err.value.response.status_code == 429 and err.value.response["error"] == "ratelimited"
    assert int(err.value.response.headers["Retry-After"]) >= 1


async def test_users_lookup_by_email_finds_a_person_by_their_profile_email(aclient: AsyncWebClient):
    found = await aclient.users_lookupByEmail(email="Alice@sandbox.example")
    assert found["user"]["id"] == "U0SANDBOX" and found["user"]["profile"]["email"] == "alice@sandbox.example"
    with pytest.raises(SlackApiError) as missing:
        await aclient.users_lookupByEmail(email="mallory@elsewhere.example")
    assert missing.value.response["error"] == "users_not_found"
