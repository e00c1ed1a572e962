"""Watch alerts in Slack (implements bot.ports.AlertNotifier): chat.postMessage, chat.update, thread replies.

An alert is one message; when its document takes several (Slack's limits), the rest go in its thread and
edits change only the first (the alert's own text is kept short: at most ten failing objects and events).
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.alert_views import AlertReply, AlertView
from bot.render.documents.alerts import alert_document, reply_document
from bot.render.slack import SlackMessage, render_document


def _args(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": list(message.blocks)}


class SlackAlertNotifier:
    def __init__(self, *, client: WebClient) -> None:
        self._client = client

    def post(self, channel: str, view: AlertView) -> str:
        first, *rest = render_document(alert_document(view))
        ts = str(self._client.chat_postMessage(channel=channel, **_args(first))["ts"])
        for message in rest:
            self._client.chat_postMessage(channel=channel, thread_ts=ts, **_args(message))
        return ts

    def update(self, channel: str, ts: str, view: AlertView) -> None:
        first = render_document(alert_document(view))[0]
        self._client.chat_update(channel=channel, ts=ts, **_args(first))

    def reply(self, channel: str, ts: str, view: AlertReply) -> str:
        message = render_document(reply_document(view))[0]
        return str(self._client.chat_postMessage(channel=channel, thread_ts=ts, **_args(message))["ts"])
