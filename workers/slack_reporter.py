"""A job's messages in Slack: one channel message edited in place, errors shown only to the caller.

The message's ts is kept in the job store, so a job picked up again by another worker edits the same
message. Edits are paced (at most one per ``min_interval`` seconds per message, identical content is
not re-sent) to stay inside chat.update's rate tier; slack_sdk's retry handlers honour Retry-After on 429.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.jobs import JobRecord
from bot.ports import JobStore
from bot.render.slack import SlackMessage, render
from bot.views import ConfirmView, FleetRunView, JobView, PushView, TextView
from workers.slack_metering import MeteredRateLimitHandler, MeteredWebClient

log = logging.getLogger(__name__)

#: chat.postMessage errors that mean "the bot cannot post in this conversation": reply through response_url
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


def slack_client(*, token: str, base_url: str) -> WebClient:
    """The Slack client of a job's messages: it counts its calls and 429s (workers/slack_metering.py)."""
    client = MeteredWebClient(token=token, base_url=base_url, timeout=15)
    client.retry_handlers.append(MeteredRateLimitHandler(max_retry_count=3))
    client.retry_handlers.append(ConnectionErrorRetryHandler(max_retry_count=2))
    return client


def _fingerprint(messages: list[SlackMessage]) -> str:
    payload = [[m.text, list(m.blocks), m.metadata] for m in messages]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class SlackReporter:
    """bot.ports.Reporter for one job whose command came from Slack."""

    def __init__(
        self,
        *,
        client: WebClient,
        jobs: JobStore,
        record: JobRecord,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        key_prefix: str = "",
    ) -> None:
        """``key_prefix`` keeps this message's progress apart when one job posts in several channels."""
        self._client = client
        self._ts_key = f"{key_prefix}slack_ts"
        self._mode_key = f"{key_prefix}slack_mode"
        self._fingerprint_key = f"{key_prefix}slack_fingerprint"
        self._jobs = jobs
        self._record = record
        self._min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._last_sent = -1e9
        self._last_fingerprint = jobs.get(record.job_id, self._fingerprint_key)

    # -- Reporter ---------------------------------------------------------------------------------

    def show(self, view: JobView | ConfirmView | PushView | FleetRunView) -> None:
        messages = render(view)
        fingerprint = _fingerprint(messages)
        if fingerprint == self._last_fingerprint:
            return
        wait = self._min_interval - (self._clock() - self._last_sent)
        if wait > 0:
            self._sleep(wait)
        if self._jobs.get(self._record.job_id, self._mode_key) == "response_url":
            self._respond(messages, response_type="in_channel")
        else:
            self._post_or_update(messages)
        self._last_sent = self._clock()
        self._last_fingerprint = fingerprint
        self._jobs.put(self._record.job_id, self._fingerprint_key, fingerprint)

    def private(self, view: TextView | JobView) -> None:
        messages = render(view)
        if self._record.response_url:
            self._respond(messages, response_type="ephemeral")
            return
        for message in messages:
            self._client.chat_postEphemeral(
                channel=self._record.channel,
                user=self._record.actor,
                text=message.text,
                blocks=list(message.blocks),
            )

    # -- internals --------------------------------------------------------------------------------

    def _post_or_update(self, messages: list[SlackMessage]) -> None:
        job_id = self._record.job_id
        saved = json.loads(self._jobs.get(job_id, self._ts_key) or "[]")
        tss: list[str] = list(saved)
        try:
            for index, message in enumerate(messages):
                if index < len(tss):
                    self._client.chat_update(channel=self._record.channel, ts=tss[index], **self._args(message))
                    continue
                response = self._client.chat_postMessage(
                    channel=self._record.channel, thread_ts=tss[0] if tss else None, **self._args(message)
                )
                tss.append(str(response["ts"]))
                self._jobs.put(job_id, self._ts_key, json.dumps(tss))
            for stale in tss[len(messages) :]:
                self._client.chat_update(channel=self._record.channel, ts=stale, text="(moved into the message above)")
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code in CANNOT_POST and self._record.response_url and not tss:
                log.info(
                    "job %s: cannot post in %s (%s); replying through response_url", job_id, self._record.channel, code
                )
                self._jobs.put(job_id, self._mode_key, "response_url")
                self._respond(messages, response_type="in_channel")
                return
            raise

    def _respond(self, messages: list[SlackMessage], *, response_type: str) -> None:
        webhook = WebhookClient(self._record.response_url, timeout=15)
        for index, message in enumerate(messages):
            webhook.send(
                text=message.text,
                blocks=list(message.blocks),
                response_type=response_type,
                replace_original=response_type == "in_channel" and index == 0,
            )

    @staticmethod
    def _args(message: SlackMessage) -> dict[str, Any]:
        args: dict[str, Any] = {"text": message.text, "blocks": list(message.blocks)}
        if message.metadata is not None:
            args["metadata"] = message.metadata
        return args
