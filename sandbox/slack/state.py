"""The recorded workspace: users, user groups, channels, every message with its edits, and every call.

Everything here lives on the event loop that serves the fake; tests in the same process read it directly
(``fake.state.messages``). Every change to a message takes the next sequence number, so a reader can ask
for "what changed after N" and wait for the next change (``wait_for_change``).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: what Slack ids of conversations look like (public, private, direct)
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
#: Slack accepts a response_url five times within thirty minutes
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60


@dataclass
class User:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    #: the profile's email (users.lookupByEmail); people of the sandbox have ``{name}@{team domain}.example``
    email: str = ""

    def as_slack(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            "profile": {"real_name": self.real_name, "display_name": self.name, "email": self.email},
        }


def email_of(name: str, team_domain: str) -> str:
    """The email a person of the sandbox workspace has in their profile."""
    return f"{name}@{team_domain}.example"


@dataclass
class Channel:
    id: str
    name: str


@dataclass(frozen=True)
class Version:
    """A message as it was before an edit."""

    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    at: float


@dataclass
class Message:
    """A channel message (``key`` is its ts) or an ephemeral one (``key`` is ``e<n>``, ``ts`` its message_ts)."""

    key: str
    channel: str
    ts: str
    ephemeral: bool
    user: str | None  # the one person who sees an ephemeral message; None for channel messages
    author: str  # user id of who posted it (the bot for everything the app sends)
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    thread_ts: str | None
    source: str  # chat.postMessage | chat.postEphemeral | ack | response_url
    seq: int = 0
    edits: int = 0
    deleted: bool = False
    history: list[Version] = field(default_factory=list)

    def feed(self) -> dict[str, Any]:
        """The entry ``GET /_sandbox/messages`` shows for this message."""
        return {
            "seq": self.seq,
            "channel": self.channel,
            "ts": self.key,
            "message_ts": self.ts,
            "ephemeral": self.ephemeral,
            "user": self.user,
            "author": self.author,
            "text": self.text,
            "blocks": self.blocks,
            "metadata": self.metadata,
            "thread_ts": self.thread_ts,
            "source": self.source,
            "edits": self.edits,
            "deleted": self.deleted,
            "history": [v.text for v in self.history],
        }


@dataclass(frozen=True)
class CallRecord:
    """One Web API call as received (token removed) and how it was answered."""

    method: str
    args: dict[str, Any]
    at: float
    status: int
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "args": self.args, "at": self.at, "status": self.status, "error": self.error}


@dataclass
class ResponseUrl:
    """A response_url handed to the app with a slash command (kind "command") or a button press ("action")."""

    id: str
    kind: str
    channel: str
    user: str
    created: float
    #: the message replace_original/delete_original act on: the pressed message, or the command's last reply
    origin: str | None = None
    uses: int = 0


@dataclass(frozen=True)
class BotIdentity:
    user_id: str
    bot_id: str
    app_id: str
    name: str


class Workspace:
    """One Slack workspace with one installed app (the bot)."""

    def __init__(
        self,
        *,
        team_id: str,
        team_domain: str,
        bot: BotIdentity,
        users: dict[str, str],
        usergroups: dict[str, list[str]],
        channels: dict[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_domain.capitalize()
        self.bot = bot
        self.clock = clock
        self.users: dict[str, User] = {
            bot.user_id: User(bot.user_id, bot.name, bot.name, is_bot=True),
        }
        for user_id, name in users.items():
            self.users[user_id] = User(user_id, name, name, email=email_of(name, team_domain))
        self.usergroups: dict[str, list[str]] = {k: list(v) for k, v in usergroups.items()}
        self.channels: dict[str, Channel] = {cid: Channel(cid, name) for cid, name in channels.items()}
        self._messages: dict[str, Message] = {}
        self._by_ts: dict[str, Message] = {}
        self.calls: list[CallRecord] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self.seq = 0
        self._last_us = 0
        self._ephemeral_ids = itertools.count(1)
        self._url_ids = itertools.count(1)
        self._trigger_ids = itertools.count(1)
        self._changed: asyncio.Event | None = None

    # -- lookups ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Every message ever shown, in the order they were first posted (deleted ones flagged)."""
        return list(self._messages.values())

    def message(self, key: str) -> Message | None:
        """A message by its feed key: a channel message's ts or an ephemeral message's ``e<n>`` id."""
        return self._messages.get(key)

    def message_at(self, channel: str, ts: str) -> Message | None:
        """The message (channel or ephemeral) with this ts in this channel, deleted ones excluded."""
        found = self._by_ts.get(ts)
        if found is None or found.channel != channel or found.deleted:
            return None
        return found

    def channel(self, ref: str) -> Channel | None:
        """A channel by id or by name (``#name`` or ``name``). Unknown ids that look like Slack's are created."""
        if not ref:
            return None
        if ref in self.channels:
            return self.channels[ref]
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        if CHANNEL_ID.match(ref):
            created = Channel(ref, ref.lower())
            self.channels[ref] = created
            return created
        return None

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        folded = email.strip().casefold()
        return next((u for u in self.users.values() if u.email and u.email.casefold() == folded), None)

    def ensure_user(self, user_id: str) -> User:
        """The user, made up on the spot when a test speaks as someone not declared."""
        user = self.users.get(user_id)
        if user is None:
            user = User(user_id, user_id.lower(), user_id.lower())
            self.users[user_id] = user
        return user

    # -- identifiers -----------------------------------------------------------------------

    def next_ts(self) -> str:
        """A message timestamp as Slack writes them ("1700000000.000100"): wall clock, unique, increasing."""
        now_us = int(self.clock() * 1_000_000)
        self._last_us = max(self._last_us + 1, now_us)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def action_ts(self) -> str:
        now = self.clock()
        return f"{int(now)}.{int((now % 1) * 1_000_000):06d}"

    def trigger_id(self) -> str:
        return f"{next(self._trigger_ids)}.{int(self.clock())}.{secrets.token_hex(16)}"

    # -- changes ---------------------------------------------------------------------------

    def _changed_now(self, message: Message) -> None:
        self.seq += 1
        message.seq = self.seq
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_for_change(self, since: int, seconds: float) -> bool:
        """Wait until the sequence passes ``since`` or ``seconds`` pass; True when it did."""
        if self.seq > since:
            return True
        if self._changed is None:
            self._changed = asyncio.Event()
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return self.seq > since
        return True

    def changes(self, since: int, *, channel: str | None = None, user: str | None = None) -> list[Message]:
        """Messages changed after ``since``, oldest change first; ``user`` keeps channel messages and theirs."""
        found = [m for m in self._messages.values() if m.seq > since]
        if channel:
            found = [m for m in found if m.channel == channel]
        if user:
            found = [m for m in found if not m.ephemeral or m.user == user]
        return sorted(found, key=lambda m: m.seq)

    # -- writes ----------------------------------------------------------------------------

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None = None,
        source: str,
        author: str | None = None,
        ephemeral_to: str | None = None,
    ) -> Message:
        """Record a new message; an ephemeral one when ``ephemeral_to`` names its only reader."""
        ts = self.next_ts()
        key = f"e{next(self._ephemeral_ids)}" if ephemeral_to else ts
        message = Message(
            key=key,
            channel=channel,
            ts=ts,
            ephemeral=ephemeral_to is not None,
            user=ephemeral_to,
            author=author or self.bot.user_id,
            text=text,
            blocks=stored_blocks(blocks or []),
            metadata=metadata or None,
            thread_ts=thread_ts,
            source=source,
        )
        self._messages[key] = message
        self._by_ts[ts] = message
        self._changed_now(message)
        return message

    def edit(
        self,
        message: Message,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None,
    ) -> None:
        """Update in place. As chat.update: what is not given is kept; ``[]``/``{}`` clear blocks/metadata."""
        message.history.append(Version(message.text, message.blocks, message.metadata, self.clock()))
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = stored_blocks(blocks)
        if metadata is not None:
            message.metadata = metadata or None
        message.edits += 1
        self._changed_now(message)

    def delete(self, message: Message) -> None:
        message.deleted = True
        self._changed_now(message)

    def record_call(self, method: str, args: dict[str, Any], status: int, error: str | None) -> None:
        self.calls.append(CallRecord(method, args, self.clock(), status, error))

    def new_response_url(self, *, kind: str, channel: str, user: str, origin: str | None = None) -> ResponseUrl:
        url_id = f"{self.team_id}-{next(self._url_ids)}-{secrets.token_hex(8)}"
        url = ResponseUrl(id=url_id, kind=kind, channel=channel, user=user, created=self.clock(), origin=origin)
        self.response_urls[url_id] = url
        return url

    def slack_message(self, message: Message) -> dict[str, Any]:
        """The message object Slack returns from chat.* and puts in interaction payloads."""
        body: dict[str, Any] = {
            "user": message.author,
            "type": "message",
            "ts": message.ts,
            "text": message.text,
            "team": self.team_id,
        }
        if message.author == self.bot.user_id:
            body.update({"bot_id": self.bot.bot_id, "app_id": self.bot.app_id})
        if message.blocks:
            body["blocks"] = message.blocks
        if message.metadata:
            body["metadata"] = message.metadata
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        if message.edits:
            body["edited"] = {"user": message.author, "ts": message.ts}
        return body


def stored_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as Slack stores them: every block gets a block_id and every button an action_id.

    Slack makes up short random ids; the fake derives them from content and position so recorded
    messages stay the same from run to run (golden files).
    """
    stored = copy.deepcopy(blocks)
    for index, block in enumerate(stored):
        if "block_id" not in block:
            block["block_id"] = _short_id(index, block)
        for element in _interactive(block):
            if "action_id" not in element:
                element["action_id"] = _short_id(index, element)
    return stored


def _interactive(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if block.get("type") == "actions":
        found.extend(e for e in block.get("elements", []) if isinstance(e, dict))
    accessory = block.get("accessory")
    if isinstance(accessory, dict) and accessory.get("type") != "image":
        found.append(accessory)
    return found


def _short_id(index: int, obj: dict[str, Any]) -> str:
    digest = hashlib.sha1(f"{index}:{json.dumps(obj, sort_keys=True)}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest[:3]).decode().replace("/", "=")


def find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (block, button) pair whose button has ``action_id``."""
    for block in blocks:
        for element in _interactive(block):
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return block, element
    return None
