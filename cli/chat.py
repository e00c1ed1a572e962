"""`fluxops chat "/flux ..."`: one slash command to a running sandbox, and the bot's replies as text.

The command goes to the sandbox's fake Slack, which signs it and delivers it to fluxops exactly as
Slack would. The replies are followed as they change (the job's message is edited in place) until
the job ends; `--yes` presses the Confirm button of a destructive command.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from cli.slack_text import blocks_to_text

JOB_ID = re.compile(r"\bjob (j-[0-9a-f]{12})\b")
EXIT = {"succeeded": 0, "awaiting_confirmation": 3}


@dataclass(frozen=True)
class Target:
    slack_url: str
    user: str
    channel: str


def find_sandbox(discovery: Path) -> Target:
    try:
        info = json.loads(discovery.read_text())
    except (OSError, ValueError):
        raise SystemExit(
            f"fluxops chat: no running sandbox found ({discovery} is missing) — start one with `fluxops sandbox up`"
        ) from None
    return Target(slack_url=str(info["slack_url"]), user=str(info["user"]), channel=str(info["channel"]))


class Chat:
    """Talks to the fake Slack as a person in the sandbox workspace would."""

    def __init__(self, target: Target, *, out: Callable[[str], None] = print, timeout: float = 900.0) -> None:
        self.target = target
        self.out = out
        self.timeout = timeout
        self.http = requests.Session()
        self.seen: dict[str, int] = {}
        self.last_job_id: str | None = None
        self.printed: dict[str, str] = {}

    def _url(self, path: str) -> str:
        return self.target.slack_url.rstrip("/") + path

    def send(self, text: str) -> dict[str, Any]:
        text = text.strip()
        if text.startswith("/flux"):
            text = text[len("/flux") :].strip()
        body = {"text": text, "user_id": self.target.user, "channel_id": self.target.channel, "command": "/flux"}
        response = self.http.post(self._url("/_sandbox/command"), json=body, timeout=30)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def press(self, message: dict[str, Any], action_id: str) -> None:
        body = {"channel": message["channel"], "action_id": action_id, "user_id": self.target.user}
        if message.get("ephemeral"):
            body["ephemeral_id"] = message["ts"]
        else:
            body["ts"] = message["ts"]
        self.http.post(self._url("/_sandbox/press"), json=body, timeout=30).raise_for_status()

    def messages(self, since: int, wait: float) -> tuple[int, list[dict[str, Any]]]:
        params: dict[str, str | int | float] = {"since": since, "channel": self.target.channel, "wait": wait}
        response = self.http.get(self._url("/_sandbox/messages"), params=params, timeout=wait + 30)
        response.raise_for_status()
        data = response.json()
        return int(data["seq"]), list(data["messages"])

    def job_messages(self, job_id: str) -> list[dict[str, Any]]:
        """Every message of the conversation that belongs to job ``job_id``, in the order first posted."""
        _, messages = self.messages(0, 0)
        return [m for m in messages if ((m.get("metadata") or {}).get("event_payload") or {}).get("job_id") == job_id]

    def print_message(self, message: dict[str, Any]) -> None:
        """The whole message the first time; after an edit, only the lines that changed."""
        stamp = time.strftime("%H:%M:%S")
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        phase = payload.get("phase", "reply" if message.get("ephemeral") else "message")
        text = blocks_to_text(message.get("blocks") or [], fallback=str(message.get("text") or ""))
        key = f"{message['channel']}/{message['ts']}"
        previous = self.printed.get(key)
        self.printed[key] = text
        if previous is None:
            self.out(f"── {stamp} · {phase} " + "─" * 40)
            self.out(text)
            return
        old = set(previous.splitlines())
        changed = [line for line in text.splitlines() if line not in old and line.strip()]
        self.out(f"── {stamp} · {phase} (edited) " + "─" * 31)
        self.out("\n".join(changed) if changed else "(no visible change)")

    def run(self, text: str, *, confirm: bool = False) -> int:
        seq, _ = self.messages(0, 0)
        ack = self.send(text)
        if ack.get("status") != 200:
            self.out(f"fluxops answered HTTP {ack.get('status')}: {ack.get('body')}")
            return 1
        body = ack.get("body")
        ack_text = (
            blocks_to_text(body.get("blocks") or [], fallback=body.get("text", ""))
            if isinstance(body, dict)
            else str(body or "")
        )
        self.out(ack_text)
        match = JOB_ID.search(ack_text)
        if match is None:
            return 1 if ":warning:" in json.dumps(body) or "⚠" in ack_text else 0
        job_id = self.last_job_id = match.group(1)
        return self.follow(job_id, since=seq, confirm=confirm)

    def follow(self, job_id: str, *, since: int = 0, confirm: bool = False) -> int:
        """Print job ``job_id``'s messages as they change until it ends; the exit code says how it ended."""
        seq = since
        deadline = time.monotonic() + self.timeout
        pressed = False
        while time.monotonic() < deadline:
            seq, changed = self.messages(seq, wait=10)
            for message in changed:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                mine = payload.get("job_id") == job_id or (message.get("ephemeral") and job_id in json.dumps(message))
                if not mine or message.get("source") == "ack":
                    continue
                key = f"{message['channel']}/{message['ts']}"
                if self.seen.get(key) == message.get("seq"):
                    continue
                self.seen[key] = int(message.get("seq", 0))
                self.print_message(message)
                phase = str(payload.get("phase", ""))
                if phase == "awaiting_confirmation" and not pressed:
                    if not confirm:
                        self.out("This command needs confirmation: press Confirm in Slack, or run it with --yes.")
                        return EXIT["awaiting_confirmation"]
                    self.out("(pressing Confirm: --yes)")
                    self.press(message, "fluxops_confirm")
                    pressed = True
                if payload.get("terminal") and payload.get("part", 1) == payload.get("parts", 1):
                    return EXIT.get(phase, 1)
        self.out(f"gave up following job {job_id} after {int(self.timeout)} s; it goes on in the sandbox")
        return 1


def run_chat(text: str, *, confirm: bool, discovery: Path, timeout: float, user: str | None = None) -> int:
    target = find_sandbox(discovery)
    if user:
        target = Target(target.slack_url, user, target.channel)
    chat = Chat(target, timeout=timeout, out=lambda line: print(line, flush=True))
    try:
        return chat.run(text, confirm=confirm)
    except requests.RequestException as error:
        print(f"fluxops chat: cannot reach the sandbox's Slack: {error}", file=sys.stderr)
        return 1
