"""``POST /_response/{id}``: the response_url Slack hands an app with each slash command and button press.

The JSON body is a message: ``text``/``blocks``, ``response_type`` ("ephemeral", the default, shows it
to the one user; "in_channel" posts it to the channel), ``replace_original`` (edit the message the URL
belongs to: the pressed message, or the command's previous reply) or ``delete_original``. A private
message cannot be made public: replacing an ephemeral original "in_channel" removes it and posts the
reply to the channel, which the URL then acts on. A URL works five times within thirty minutes; after
that Slack answers 404.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.slack import limits
from sandbox.slack.errors import SlackError
from sandbox.slack.state import RESPONSE_URL_TTL, RESPONSE_URL_USES, Message, ResponseUrl, Workspace


class ResponseUrls:
    def __init__(self, *, state: Workspace) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/_response/{id}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            url = self._usable(request.match_info["id"])
            body = _json_body(await request.text())
            self.respond(url, body)
        except SlackError as err:
            return web.json_response(err.body(), status=err.status)
        return web.json_response({"ok": True})

    def _usable(self, url_id: str) -> ResponseUrl:
        url = self.state.response_urls.get(url_id)
        if url is None:
            raise SlackError("no_service", status=404)
        if self.state.clock() - url.created > RESPONSE_URL_TTL:
            raise SlackError("expired_url", status=404)
        if url.uses >= RESPONSE_URL_USES:
            raise SlackError("used_url", status=404)
        return url

    def respond(self, url: ResponseUrl, body: dict[str, Any]) -> Message | None:
        """Apply one response_url message; returns the message it created or changed."""
        original = self._original(url)
        if _flag(body.get("delete_original")):
            url.uses += 1
            if original is not None:
                self.state.delete(original)
            return original
        text, blocks = message_content(body)
        in_channel = body.get("response_type") == "in_channel"
        replaced = False
        if _flag(body.get("replace_original")) and original is not None:
            if not (original.ephemeral and in_channel):
                self.state.edit(original, text=text, blocks=blocks if blocks is not None else [], metadata=None)
                url.uses += 1
                return original
            # A private message cannot become public: it goes away and the reply is posted to the channel.
            self.state.delete(original)
            replaced = True
        message = self.state.post(
            channel=url.channel,
            text=text,
            blocks=blocks,
            metadata=None,
            thread_ts=str(body["thread_ts"]) if body.get("thread_ts") else None,
            source="response_url",
            ephemeral_to=None if in_channel else url.user,
        )
        url.uses += 1
        if url.kind == "command" or replaced:
            # A command's URL goes on acting on the last reply it made (replace_original replaces that).
            url.origin = message.key
        return message

    def _original(self, url: ResponseUrl) -> Message | None:
        if url.origin is None:
            return None
        message = self.state.message(url.origin)
        return None if message is None or message.deleted else message


def _json_body(raw: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise SlackError("invalid_payload", status=400) from None
    if not isinstance(body, dict):
        raise SlackError("invalid_payload", status=400)
    return body


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def message_content(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    """text and blocks of a message sent as a response (ack body or response_url), refused with HTTP 400."""
    try:
        blocks = limits.parse_blocks(body.get("blocks"))
        text = str(body.get("text") or "")
        if not text and not blocks and not body.get("attachments"):
            raise SlackError("no_text")
        limits.check_text(text)
    except SlackError as err:
        err.status = 400
        raise
    return text, blocks
