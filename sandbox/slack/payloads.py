"""What Slack sends an app: the slash-command form and the ``block_actions`` interaction payload.

Field names and order follow what Slack sends. Values that are only meaningful inside Slack (the legacy
verification token, team domain, trigger ids) are made up but shaped like Slack's.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.slack.state import Channel, Message, User, Workspace

#: the deprecated per-app verification token Slack still puts in payloads (not a credential here)
VERIFICATION_TOKEN = "sandboxVerificationToken0"


def slash_command(
    state: Workspace,
    *,
    command: str,
    text: str,
    user: User,
    channel: Channel,
    response_url: str,
    trigger_id: str,
) -> list[tuple[str, str]]:
    """The form fields of a slash command invocation, in Slack's order."""
    return [
        ("token", VERIFICATION_TOKEN),
        ("team_id", state.team_id),
        ("team_domain", state.team_domain),
        ("channel_id", channel.id),
        ("channel_name", channel.name),
        ("user_id", user.id),
        ("user_name", user.name),
        ("command", command),
        ("text", text),
        ("api_app_id", state.bot.app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]


def block_actions(
    state: Workspace,
    *,
    user: User,
    channel: Channel,
    message: Message,
    block: dict[str, Any],
    button: dict[str, Any],
    response_url: str,
    trigger_id: str,
) -> list[tuple[str, str]]:
    """The form of a button press: one ``payload`` field holding the JSON interaction payload.

    As Slack does, an ephemeral message's payload has no ``message`` (Slack does not store it), only
    the container's ``message_ts`` and ``is_ephemeral``.
    """
    action: dict[str, Any] = {
        "action_id": button["action_id"],
        "block_id": block["block_id"],
        "text": button.get("text"),
    }
    for key in ("value", "style", "url"):
        if key in button:
            action[key] = button[key]
    action.update({"type": "button", "action_ts": state.action_ts()})
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": state.team_id},
        "api_app_id": state.bot.app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": channel.id,
            "is_ephemeral": message.ephemeral,
        },
        "trigger_id": trigger_id,
        "team": {"id": state.team_id, "domain": state.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": channel.name},
    }
    if not message.ephemeral:
        payload["message"] = state.slack_message(message)
    payload.update({"state": {"values": {}}, "response_url": response_url, "actions": [action]})
    return [("payload", json.dumps(payload, separators=(",", ":")))]
