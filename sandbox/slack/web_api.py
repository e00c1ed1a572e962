"""The Web API at ``/api/<method>``, answering as slack.com/api does.

Arguments come from the query string and from a JSON or form-encoded body. The token comes from
``Authorization: Bearer`` or, for form and query calls, a ``token`` argument (Slack ignores a token
inside a JSON body). Refusals are HTTP 200 with ``{"ok": false, "error": ...}`` except ``ratelimited``
(429 + ``Retry-After``) and ``unknown_method`` (404).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.slack import limits
from sandbox.slack.errors import SlackError
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.state import Message, Workspace

logger = logging.getLogger(__name__)

Method = Callable[[dict[str, Any]], dict[str, Any]]
#: the scopes the sandbox app was installed with (Slack reports them on every response)
SCOPES = "chat:write,commands,usergroups:read,users:read,users:read.email"


class WebApi:
    """Serves the Web API methods the bot uses against one workspace."""

    def __init__(self, *, state: Workspace, bot_token: Callable[[], str], limiter: RateLimiter) -> None:
        self.state = state
        self._bot_token = bot_token
        self.limiter = limiter
        self.methods: dict[str, Method] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "usergroups.users.list": self.usergroups_users_list,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        args: dict[str, Any] = {}
        status, headers = 200, {"X-OAuth-Scopes": SCOPES, "X-Accepted-OAuth-Scopes": ""}
        try:
            method = self.methods.get(name)
            if method is None:
                raise SlackError("unknown_method", status=404, extra={"req_method": name})
            args, token = await _arguments(request)
            self._authenticate(token)
            wait = self.limiter.check(name, str(args.get("channel", "")))
            if wait:
                raise SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})
            body = method(args)
            error = None
        except SlackError as err:
            status, body, error = err.status, err.body(), err.error
            headers.update(err.headers)
        except Exception:
            # A bug in the fake must still answer in Slack's shape, or the SDK reports a parse error instead.
            logger.exception("fake Slack failed on %s", name)
            status, body, error = 500, {"ok": False, "error": "internal_error"}, "internal_error"
        self.state.record_call(name, args, status, error)
        return web.json_response(body, status=status, headers=headers)

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if not hmac.compare_digest(token.encode(), self._bot_token().encode()):
            raise SlackError("invalid_auth")

    # -- methods ---------------------------------------------------------------------------

    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        bot = self.state.bot
        return {
            "ok": True,
            "url": f"https://{self.state.team_domain}.slack.com/",
            "team": self.state.team_name,
            "user": bot.name,
            "team_id": self.state.team_id,
            "user_id": bot.user_id,
            "bot_id": bot.bot_id,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        text, blocks, metadata = _content(args, required=True)
        thread_ts = args.get("thread_ts") or None
        message = self.state.post(
            channel=channel,
            text=text or "",
            blocks=blocks,
            metadata=metadata,
            thread_ts=str(thread_ts) if thread_ts else None,
            source="chat.postMessage",
        )
        return {"ok": True, "channel": channel, "ts": message.ts, "message": self.state.slack_message(message)}

    def chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = self._existing(channel, args, cant="cant_update_message")
        text, blocks, metadata = _content(args, required=False)
        if text is None and blocks is None and metadata is None and "attachments" not in args:
            raise SlackError("no_text")
        self.state.edit(message, text=text, blocks=blocks, metadata=metadata)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": self.state.slack_message(message),
        }

    def chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = self._existing(channel, args, cant="cant_delete_message")
        self.state.delete(message)
        return {"ok": True, "channel": channel, "ts": message.ts}

    def chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        user = self.state.user(str(args.get("user", "")))
        if user is None:
            raise SlackError("user_not_in_channel")
        text, blocks, metadata = _content(args, required=True)
        thread_ts = args.get("thread_ts") or None
        message = self.state.post(
            channel=channel,
            text=text or "",
            blocks=blocks,
            metadata=metadata,
            thread_ts=str(thread_ts) if thread_ts else None,
            source="chat.postEphemeral",
            ephemeral_to=user.id,
        )
        return {"ok": True, "message_ts": message.ts}

    def usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.state.usergroups.get(str(args.get("usergroup", "")))
        if members is None:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(members)}

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.state.user(str(args.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": user.as_slack(self.state.team_id)}

    def users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.state.user_by_email(str(args.get("email", "")))
        if user is None:
            raise SlackError("users_not_found")
        return {"ok": True, "user": user.as_slack(self.state.team_id)}

    # -- helpers ---------------------------------------------------------------------------

    def _channel(self, args: dict[str, Any]) -> str:
        channel = self.state.channel(str(args.get("channel") or ""))
        if channel is None:
            raise SlackError("channel_not_found")
        return channel.id

    def _existing(self, channel: str, args: dict[str, Any], *, cant: str) -> Message:
        message = self.state.message_at(channel, str(args.get("ts") or ""))
        if message is None:
            raise SlackError("message_not_found")
        if message.ephemeral or message.author != self.state.bot.user_id:
            raise SlackError(cant)
        return message


def _content(
    args: dict[str, Any], *, required: bool
) -> tuple[str | None, list[dict[str, Any]] | None, dict[str, Any] | None]:
    """text, blocks and metadata of a chat.* call, checked as Slack checks them (None: not given)."""
    raw_text = args.get("text")
    text = None if raw_text is None else str(raw_text)
    blocks = limits.parse_blocks(args.get("blocks"))
    metadata = limits.parse_metadata(args.get("metadata"))
    if required and not text and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    if text is not None:
        limits.check_text(text)
    return text, blocks, metadata


async def _arguments(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """All arguments of a call (query, then body) without the token, and the token."""
    args: dict[str, Any] = dict(request.query)
    token = args.pop("token", None)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            body.pop("token", None)  # not read from JSON bodies, and never recorded
            args.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    args[key] = value
            token = args.pop("token", token)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth[len("Bearer ") :].strip()
    return args, token
