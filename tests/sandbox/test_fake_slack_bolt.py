"""The fake Slack acting as Slack toward a real slack_bolt AsyncApp: signed commands, button presses,
response_url replies and the long-polled message feed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.slack import FakeSlack

TOKEN = "xoxb-sandbox-token"
SECRET = "sandbox-signing-secret"
CHANNEL = "C0SANDBOX"
USER = "U0SANDBOX"


def confirm_blocks() -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Delete flux configuration *apps*?"}},
        {
            "type": "actions",
            "block_id": "confirm",
            "elements": [
                {
                    "type": "button",
                    "action_id": "fluxops_confirm",
                    "text": {"type": "plain_text", "text": "Delete"},
                    "value": "job-42",
                    "style": "danger",
                },
                {"type": "button", "action_id": "fluxops_cancel", "text": {"type": "plain_text", "text": "Cancel"}},
            ],
        },
    ]


@dataclass
class World:
    fake: FakeSlack
    commands: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"{self.fake.base_url}{path}", json=body) as r,
        ):
            return r.status, await r.json()

    async def command(self, text: str, **extra: Any) -> dict[str, Any]:
        status, body = await self.call("POST", "_sandbox/command", {"text": text, **extra})
        assert status == 200, body
        assert isinstance(body, dict)
        return body

    async def press(self, **body: Any) -> tuple[int, dict[str, Any]]:
        return await self.call("POST", "_sandbox/press", body)

    async def feed(self, since: int = 0, wait: float = 0, **filters: str) -> dict[str, Any]:
        query = "&".join(f"{k}={v}" for k, v in {"since": since, "wait": wait, **filters}.items())
        status, body = await self.call("GET", f"_sandbox/messages?{query}")
        assert status == 200
        assert isinstance(body, dict)
        return body

    async def until(self, predicate: Any, *, seconds: float = 5.0) -> list[dict[str, Any]]:
        """Follow the feed (long-polling) until ``predicate(messages)`` holds; returns all messages seen."""
        seen: dict[str, dict[str, Any]] = {}
        since, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            body = await self.feed(since, wait=deadline - time.monotonic())
            for message in body["messages"]:
                seen[message["ts"]] = message
            since = body["seq"]
            if predicate(list(seen.values())):
                return list(seen.values())
        raise AssertionError(f"feed never matched; saw {list(seen.values())}")


def build_bolt(world: World, base_url: str) -> AsyncApp:
    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=base_url))

    @app.command("/flux")
    async def flux(ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        world.commands.append(command)
        if command["text"] == "silent":
            await ack()
            return
        if command["text"] == "loud":
            await ack(text="everyone sees this", response_type="in_channel")
            return
        await ack(f"on it: {command['text']}")
        if command["text"] == "delete apps":
            await client.chat_postMessage(channel=command["channel_id"], text="Delete apps?", blocks=confirm_blocks())
        elif command["text"] == "ask privately":
            await respond(text="Delete apps?", blocks=confirm_blocks())
        else:
            await respond(f"done: {command['text']}")

    @app.action("fluxops_confirm")
    async def confirm(ack: Any, body: dict[str, Any], respond: Any) -> None:
        world.actions.append(body)
        await ack()
        await respond(replace_original=True, text=f"confirmed by <@{body['user']['id']}>")

    return app


@pytest.fixture
async def world() -> AsyncIterator[World]:
    fake = FakeSlack(bot_token=TOKEN, signing_secret=SECRET, users={USER: "alice", "U0BOB": "bob"})
    await fake.start()
    state = World(fake)
    bolt = build_bolt(state, fake.api_url)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    yield state
    await runner.cleanup()
    await fake.stop()


async def test_signed_command_reaches_bolt_and_the_ack_is_shown_to_the_user(world: World):
    result = await world.command("status apps -c prod-weu", user_id=USER, channel_id=CHANNEL)
    assert result["status"] == 200
    assert result["body"] == "on it: status apps -c prod-weu"
    assert result["response_url"].startswith(f"{world.fake.base_url}_response/")
    [command] = world.commands
    assert command["command"] == "/flux" and command["text"] == "status apps -c prod-weu"
    assert command["user_id"] == USER and command["user_name"] == "alice"
    assert command["channel_id"] == CHANNEL and command["channel_name"] == "sandbox"
    assert command["team_id"] == "T0SANDBOX" and command["api_app_id"] == "A0FLUXOPS"
    assert command["response_url"] == result["response_url"] and command["trigger_id"] == result["trigger_id"]
    assert command["is_enterprise_install"] == "false"
    ack = result["message"]
    assert ack["ephemeral"] is True and ack["user"] == USER and ack["source"] == "ack"
    assert ack["text"] == "on it: status apps -c prod-weu" and ack["ts"].startswith("e")
    # bolt's respond() after the ack goes through the response_url
    messages = await world.until(lambda ms: any(m["text"] == "done: status apps -c prod-weu" for m in ms))
    reply = next(m for m in messages if m["source"] == "response_url")
    assert reply["ephemeral"] is True and reply["user"] == USER and reply["channel"] == CHANNEL


async def test_bolt_rejects_a_wrong_signing_secret_and_a_stale_timestamp(world: World):
    wrong = await world.command("status", signing_secret="not-the-secret")
    assert wrong["status"] == 401 and wrong["message"] is None and wrong["error"] == "http_service_error"
    stale = await world.command("status", timestamp=int(time.time()) - 600)
    assert stale["status"] == 401
    assert world.commands == [] and world.fake.state.messages == []


async def test_empty_ack_records_nothing_and_in_channel_ack_is_public(world: World):
    silent = await world.command("silent")
    assert silent["status"] == 200 and silent["body"] == "" and silent["message"] is None
    loud = await world.command("loud")
    assert loud["message"]["ephemeral"] is False and loud["message"]["text"] == "everyone sees this"


async def test_press_reaches_bolt_action_and_replace_original_edits_the_message(world: World):
    await world.command("delete apps")
    messages = await world.until(lambda ms: any(not m["ephemeral"] for m in ms))
    confirm = next(m for m in messages if not m["ephemeral"])
    status, result = await world.press(channel=CHANNEL, ts=confirm["ts"], action_id="fluxops_confirm", user_id="U0BOB")
    assert status == 200 and result["status"] == 200
    [body] = world.actions
    assert body["type"] == "block_actions"
    assert body["user"] == {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0SANDBOX"}
    assert body["container"] == {
        "type": "message",
        "message_ts": confirm["ts"],
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    assert body["channel"] == {"id": CHANNEL, "name": "sandbox"}
    assert body["message"]["ts"] == confirm["ts"] and body["message"]["blocks"][1]["block_id"] == "confirm"
    [action] = body["actions"]
    assert action["action_id"] == "fluxops_confirm" and action["block_id"] == "confirm"
    assert action["value"] == "job-42" and action["type"] == "button" and action["text"]["text"] == "Delete"
    assert body["response_url"] == result["response_url"] and body["trigger_id"] == result["trigger_id"]
    messages = await world.until(lambda ms: any(m["text"] == "confirmed by <@U0BOB>" for m in ms))
    replaced = next(m for m in messages if m["ts"] == confirm["ts"])
    assert replaced["edits"] == 1 and replaced["history"] == ["Delete apps?"] and replaced["blocks"] == []


async def test_press_on_an_ephemeral_message(world: World):
    await world.command("ask privately")
    messages = await world.until(lambda ms: any(m["source"] == "response_url" for m in ms))
    question = next(m for m in messages if m["source"] == "response_url")
    status, problem = await world.press(
        channel=CHANNEL, ephemeral_id=question["ts"], action_id="fluxops_confirm", user_id="U0BOB"
    )
    assert status == 409 and "U0SANDBOX" in problem["error"]
    status, result = await world.press(channel=CHANNEL, ephemeral_id=question["ts"], action_id="fluxops_confirm")
    assert status == 200 and result["status"] == 200
    [body] = world.actions
    assert "message" not in body  # Slack does not store ephemeral messages, so it cannot send them back
    assert body["container"]["is_ephemeral"] is True and body["container"]["message_ts"] == question["message_ts"]
    await world.until(lambda ms: any(m["ts"] == question["ts"] and m["edits"] == 1 for m in ms))
    replaced = world.fake.state.message(question["ts"])
    assert replaced is not None and replaced.text == "confirmed by <@U0SANDBOX>"


async def test_press_errors(world: World):
    status, body = await world.press(channel=CHANNEL, ts="1.000001", action_id="fluxops_confirm")
    assert status == 404
    posted = world.fake.state.post(channel=CHANNEL, text="no buttons", blocks=None, metadata=None, source="test")
    status, body = await world.press(channel=CHANNEL, ts=posted.ts, action_id="fluxops_confirm")
    assert status == 404 and "fluxops_confirm" in body["error"]


async def test_response_url_is_limited_to_five_uses(world: World):
    result = await world.command("silent")
    url = result["response_url"]
    async with aiohttp.ClientSession() as session:
        answers = []
        for i in range(6):
            async with session.post(url, json={"text": f"reply {i}", "response_type": "in_channel"}) as r:
                answers.append((r.status, await r.json()))
    assert answers[:5] == [(200, {"ok": True})] * 5
    assert answers[5] == (404, {"ok": False, "error": "used_url"})
    texts = [m.text for m in world.fake.state.messages]
    assert texts == [f"reply {i}" for i in range(5)]
    assert all(not m.ephemeral for m in world.fake.state.messages)


async def test_response_url_validation_replace_and_delete(world: World):
    url = (await world.command("silent"))["response_url"]
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"blocks": [{"type": "nope"}]}) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_blocks"
        async with session.post(url, json={}) as r:
            assert r.status == 400 and (await r.json())["error"] == "no_text"
        async with session.post(url, json={"text": "working"}) as r:
            assert r.status == 200
        async with session.post(url, json={"text": "finished", "replace_original": True}) as r:
            assert r.status == 200
        [message] = world.fake.state.messages
        assert message.text == "finished" and message.history[0].text == "working" and message.ephemeral
        async with session.post(url, json={"delete_original": True}) as r:
            assert r.status == 200
    assert message.deleted
    assert (await world.feed())["messages"][0]["deleted"] is True


async def test_webhook_client_turns_a_private_ack_into_one_public_message(world: World):
    result = await world.command("status")  # acks "on it: status" privately, then respond()s privately
    await world.until(lambda ms: len(ms) == 2)
    webhook = AsyncWebhookClient(result["response_url"])
    first = await webhook.send(text="job 1: running", response_type="in_channel", replace_original=True)
    second = await webhook.send(text="job 1: done", response_type="in_channel", replace_original=True)
    assert (first.status_code, second.status_code) == (200, 200)
    ack, reply, public = world.fake.state.messages
    assert ack.ephemeral and not ack.deleted
    assert reply.ephemeral and reply.deleted  # the command's last reply was replaced by a public message
    assert (
        not public.ephemeral and public.text == "job 1: done" and [v.text for v in public.history] == ["job 1: running"]
    )


async def parked(world: World, poll: asyncio.Task[Any]) -> None:
    """Return once the long poll has read every change so far and waits for the next one: the fake's
    change event is armed at the current sequence number (the feed route arms it only after finding
    nothing new). Fails if the poll answered instead."""
    state = world.fake.state
    deadline = time.monotonic() + 5
    while state._changed is None or state._changed.is_set():  # the route's own wait (sandbox/slack/state.py)
        assert not poll.done(), f"the long poll answered: {poll.result()!r}"
        assert time.monotonic() < deadline, "the long poll never waited for a change"
        await asyncio.sleep(0.005)  # a poll interval: the end is the event above
    assert not poll.done()


async def test_long_poll_returns_when_a_message_changes(world: World):
    client = AsyncWebClient(token=TOKEN, base_url=world.fake.api_url)
    posted = await client.chat_postMessage(channel=CHANNEL, text="v1")
    seq = (await world.feed())["seq"]
    started = time.monotonic()
    poll = asyncio.create_task(world.feed(since=seq, wait=10, channel=CHANNEL))
    await parked(world, poll)
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="v2")
    body = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 5
    [changed] = body["messages"]
    assert changed["text"] == "v2" and changed["edits"] == 1 and changed["history"] == ["v1"]
    assert body["seq"] == changed["seq"] > seq
    # nothing newer: a short wait comes back empty with the same sequence number
    empty = await world.feed(since=body["seq"], wait=0.1)
    assert empty == {"seq": body["seq"], "messages": []}


async def test_long_poll_ignores_changes_in_other_channels(world: World):
    client = AsyncWebClient(token=TOKEN, base_url=world.fake.api_url)
    poll = asyncio.create_task(world.feed(since=0, wait=10, channel="C0OTHER"))
    await client.chat_postMessage(channel=CHANNEL, text="elsewhere")
    await parked(world, poll)  # it looked at "elsewhere" and waits on
    await client.chat_postMessage(channel="C0OTHER", text="here")
    body = await asyncio.wait_for(poll, 5)
    assert [m["text"] for m in body["messages"]] == ["here"]


async def test_command_without_request_url_and_an_app_that_is_down(world: World):
    world.fake.request_url = None
    status, problem = await world.call("POST", "_sandbox/command", {"text": "status"})
    assert status == 409 and "request_url" in problem["error"]
    world.fake.request_url = "http://127.0.0.1:9/slack/events"
    result = await world.command("status")
    assert result["status"] is None and result["error"] == "dispatch_failed"


async def test_health_and_control_secrets_stay_out_of_answers(world: World):
    status, body = await world.call("GET", "_sandbox/health")
    assert (status, body) == (200, {"ok": True})
    result = await world.command("status")
    await world.until(lambda ms: len(ms) == 2)
    _, calls = await world.call("GET", "_sandbox/calls")
    everything = json.dumps([result, calls, (await world.feed())])
    assert SECRET not in everything and TOKEN not in everything
