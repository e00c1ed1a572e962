"""``/_sandbox/*``: the fake acting as Slack toward the app, and reading what the app posted.

- ``POST /_sandbox/command`` types a slash command: a signed form POST to the app's request URL.
- ``POST /_sandbox/press`` presses a button on a recorded message: a signed ``block_actions`` POST.
- ``GET /_sandbox/messages`` lists messages changed after a sequence number, long-polling with ``wait``.
- ``GET /_sandbox/calls`` lists every Web API call; ``GET /_sandbox/health`` says the fake is up.

Slack gives an app three seconds to answer (``ack_timeout``) and shows a command's answer body to the
user who typed it, as an ephemeral message; both are reproduced here.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from bot.models import Secret
from sandbox.slack import payloads
from sandbox.slack.errors import SlackError
from sandbox.slack.response_url import message_content
from sandbox.slack.signing import signed_headers
from sandbox.slack.state import Message, ResponseUrl, Workspace, find_button

DEFAULT_USER = "U0SANDBOX"
DEFAULT_CHANNEL = "C0SANDBOX"
DEFAULT_COMMAND = "/flux"
MAX_WAIT_SECONDS = 60.0
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class Host(Protocol):
    """Where the fake is served and where the app listens (both can change after construction)."""

    base_url: str
    request_url: str | None
    ack_timeout: float


@dataclass(frozen=True)
class Delivery:
    """How the app answered a request Slack sent it; ``error`` when it did not answer in time or at all."""

    status: int | None
    text: str
    content_type: str
    error: str | None = None

    def parsed(self) -> Any:
        if self.content_type == "application/json" or self.text.startswith("{"):
            try:
                return json.loads(self.text)
            except ValueError:
                return self.text
        return self.text


class Control:
    def __init__(self, *, state: Workspace, host: Host, signing_secret: Secret) -> None:
        self.state = state
        self.host = host
        self._signing_secret = signing_secret

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/_sandbox/health", self.health)
        app.router.add_get("/_sandbox/messages", self.messages)
        app.router.add_get("/_sandbox/calls", self.calls)
        app.router.add_post("/_sandbox/command", self.command)
        app.router.add_post("/_sandbox/press", self.press)

    # -- reading ---------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        calls = [c.as_json() for c in self.state.calls if method is None or c.method == method]
        return web.json_response({"calls": calls})

    async def messages(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
            wait = min(MAX_WAIT_SECONDS, max(0.0, float(request.query.get("wait", "0"))))
        except ValueError:
            return _problem(400, "since must be an integer and wait a number of seconds")
        channel = request.query.get("channel") or None
        user = request.query.get("user") or None
        deadline = time.monotonic() + wait
        while True:
            found = self.state.changes(since, channel=channel, user=user)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                break
            await self.state.wait_for_change(self.state.seq, remaining)
        return web.json_response({"seq": self.state.seq, "messages": [m.feed() for m in found]})

    # -- acting as Slack -------------------------------------------------------------------

    async def command(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        if body is None:
            return _problem(400, "the body must be a JSON object")
        request_url = self.host.request_url
        if not request_url:
            return _problem(409, "request_url is not set: tell the fake where the app's POST /slack/events is")
        command = str(body.get("command") or DEFAULT_COMMAND)
        if not command.startswith("/"):
            return _problem(400, "command must start with '/'")
        channel = self.state.channel(str(body.get("channel_id") or DEFAULT_CHANNEL))
        if channel is None:
            return _problem(400, "channel_id must be a channel id (C..., G... or D...) or a known channel name")
        user = self.state.ensure_user(str(body.get("user_id") or DEFAULT_USER))
        url = self.state.new_response_url(kind="command", channel=channel.id, user=user.id)
        response_url = self._absolute(request, f"_response/{url.id}")
        trigger_id = self.state.trigger_id()
        form = payloads.slash_command(
            self.state,
            command=command,
            text=str(body.get("text") or ""),
            user=user,
            channel=channel,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        delivery = await self._deliver(request_url, form, body)
        result = _delivered(delivery, response_url, trigger_id)
        result["message"] = None
        if "error" not in result:
            try:
                message = self._record_ack(delivery, url)
            except SlackError as err:
                result["error"] = err.error
            else:
                result["message"] = message.feed() if message is not None else None
        return web.json_response(result)

    async def press(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        if body is None:
            return _problem(400, "the body must be a JSON object")
        request_url = self.host.request_url
        if not request_url:
            return _problem(409, "request_url is not set: tell the fake where the app's POST /slack/events is")
        channel = self.state.channel(str(body.get("channel") or ""))
        action_id = str(body.get("action_id") or "")
        if channel is None or not action_id:
            return _problem(400, "channel and action_id are required, with ts or ephemeral_id")
        message = self._pressed_message(channel.id, body)
        if message is None:
            return _problem(404, f"no message in {channel.id} with that ts or ephemeral_id")
        user_id = str(body.get("user_id") or (message.user if message.ephemeral and message.user else DEFAULT_USER))
        if message.ephemeral and user_id != message.user:
            return _problem(409, f"only {message.user} sees ephemeral message {message.key} and can press its buttons")
        found = find_button(message.blocks, action_id)
        if found is None:
            return _problem(404, f"message {message.key} has no button with action_id {action_id!r}")
        block, button = found
        user = self.state.ensure_user(user_id)
        url = self.state.new_response_url(kind="action", channel=channel.id, user=user.id, origin=message.key)
        response_url = self._absolute(request, f"_response/{url.id}")
        trigger_id = self.state.trigger_id()
        form = payloads.block_actions(
            self.state,
            user=user,
            channel=channel,
            message=message,
            block=block,
            button=button,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        delivery = await self._deliver(request_url, form, body)
        result = _delivered(delivery, response_url, trigger_id)
        return web.json_response(result)

    # -- helpers ---------------------------------------------------------------------------

    def _pressed_message(self, channel: str, body: dict[str, Any]) -> Message | None:
        ephemeral_id = body.get("ephemeral_id")
        if ephemeral_id:
            message = self.state.message(str(ephemeral_id))
            if message is None or message.channel != channel or message.deleted:
                return None
            return message
        return self.state.message_at(channel, str(body.get("ts") or ""))

    def _record_ack(self, delivery: Delivery, url: ResponseUrl) -> Message | None:
        """Show a command's answer body as Slack does: ephemeral to its user, or in the channel if asked."""
        parsed = delivery.parsed()
        if isinstance(parsed, str):
            if not parsed.strip():
                return None
            parsed = {"text": parsed}
        if not isinstance(parsed, dict) or not (parsed.get("text") or parsed.get("blocks")):
            return None
        text, blocks = message_content(parsed)
        in_channel = parsed.get("response_type") == "in_channel"
        message = self.state.post(
            channel=url.channel,
            text=text,
            blocks=blocks,
            metadata=None,
            source="ack",
            ephemeral_to=None if in_channel else url.user,
        )
        url.origin = message.key
        return message

    async def _deliver(self, request_url: str, form: list[tuple[str, str]], options: dict[str, Any]) -> Delivery:
        """POST a signed form as Slack does; ``timestamp``/``signing_secret`` in ``options`` override signing."""
        body = urllib.parse.urlencode(form)
        secret = options.get("signing_secret")
        timestamp = options.get("timestamp")
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": USER_AGENT,
            "Accept": "application/json,*/*",
            **signed_headers(
                str(secret) if secret else self._signing_secret.reveal(),
                body,
                timestamp=str(timestamp) if timestamp is not None else None,
            ),
        }
        timeout = aiohttp.ClientTimeout(total=self.host.ack_timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(request_url, data=body.encode(), headers=headers) as response,
            ):
                return Delivery(response.status, await response.text(), response.content_type)
        except TimeoutError:
            return Delivery(None, "", "", error="operation_timeout")
        except aiohttp.ClientError:
            return Delivery(None, "", "", error="dispatch_failed")

    def _absolute(self, request: web.Request, path: str) -> str:
        base = self.host.base_url or f"{request.scheme}://{request.host}/"
        return base.rstrip("/") + "/" + path


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _delivered(delivery: Delivery, response_url: str, trigger_id: str) -> dict[str, Any]:
    """What a command or a press tells its caller: the app's answer, and Slack's error if it had one."""
    result: dict[str, Any] = {
        "status": delivery.status,
        "body": delivery.parsed(),
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    if delivery.error is not None:
        result["error"] = delivery.error
    elif delivery.status != 200:
        result["error"] = "http_service_error"  # what Slack tells the user when the app answers non-200
    return result


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
