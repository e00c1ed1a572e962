"""A burst of signed slash commands and GitHub push deliveries spread over several web replicas, as a load
balancer in front of them would, recording which requests fluxops accepted and under which job id.

The balancer sends each request to the next live web in turn. A web that refuses the connection is taken out
and the request goes to another (it never reached the dead one). A request a web took but never answered
(killed mid-request) is not accepted; Slack shows its user an error, while GitHub's delivery is sent again,
with the same delivery id, to a live web: dedupe must answer it with the job the first attempt may have started.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from sandbox.github import payloads
from sandbox.slack.payloads import slash_command
from sandbox.slack.signing import signed_headers
from sandbox.stack import CHANNEL, YOU, Stack

JOB_ID = re.compile(r"\bjob (j-[0-9a-f]{12})\b")
#: a repository no Flux configuration tracks: its push jobs look for configurations, find none, and succeed
PUSHED_REPO = "fluxops-sandbox/replica-burst"


@dataclass(frozen=True)
class Request:
    """One request of the burst: ``kind`` is ``slack`` or ``github``; ``key`` names it in the results."""

    kind: str
    key: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Answer:
    """What one request came to: the web that answered, its status, and the job id it acknowledged."""

    request: Request
    web: str = ""
    status: int = 0
    job_id: str | None = None
    duplicate: bool = False
    #: webs that took the request and died before answering
    unanswered: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.job_id is not None


def slack_command(stack: Stack, text: str, *, user_id: str = YOU) -> Request:
    """``/flux {text}`` typed by ``user_id`` in the sandbox channel, signed as the fake Slack signs it (call it on
    the stack's loop: it adds to the fake's state)."""
    state = stack.slack.state
    channel = state.channel(CHANNEL)
    user = state.ensure_user(user_id)
    assert channel is not None
    reply = state.new_response_url(kind="command", channel=channel.id, user=user.id)
    form = slash_command(
        state,
        command="/flux",
        text=text,
        user=user,
        channel=channel,
        response_url=f"{stack.slack.base_url}_response/{reply.id}",
        trigger_id=state.trigger_id(),
    )
    body = urllib.parse.urlencode(form)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(stack.signing_secret, body)}
    return Request("slack", text, "/slack/events", body.encode(), headers)


def github_push(stack: Stack, number: int, *, delivery: str | None = None) -> Request:
    """GitHub's ``push`` of commit number ``number`` to main, signed with the webhook secret."""
    repo = payloads.repository(full_name=PUSHED_REPO, repo_id=77_000)
    sha = hashlib.sha1(f"replica-burst-{number}".encode()).hexdigest()  # noqa: S324 - a commit id
    before = hashlib.sha1(f"replica-burst-{number - 1}".encode()).hexdigest()  # noqa: S324
    commit = payloads.commit(
        sha=sha, message=f"burst commit {number}", author="sandbox-admin", timestamp=payloads.now_iso(), repo=repo
    )
    body = json.dumps(
        payloads.push(
            repo=repo, ref="refs/heads/main", before=before, after=sha, pusher="sandbox-admin", commits=[commit]
        )
    ).encode()
    delivery = delivery or str(uuid.uuid4())
    signature = "sha256=" + hmac.new(stack.github_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-ID": "7",
        "X-Hub-Signature-256": signature,
    }
    return Request("github", delivery, "/webhooks/github", body, headers)


class Balancer:
    """Round robin over the webs still taking connections."""

    def __init__(self, web_urls: dict[str, str], session: aiohttp.ClientSession) -> None:
        self.urls = dict(web_urls)
        self.live = list(web_urls)
        self.session = session
        self._next = 0

    def pick(self, avoid: set[str]) -> str:
        candidates = [name for name in self.live if name not in avoid] or list(self.live)
        if not candidates:
            raise RuntimeError("no web replica is taking connections")
        self._next += 1
        return candidates[self._next % len(candidates)]

    async def send(self, request: Request) -> Answer:
        answer = Answer(request)
        tried: set[str] = set()
        while True:
            web = self.pick(tried)
            tried.add(web)
            try:
                async with self.session.post(
                    self.urls[web] + request.path, data=request.body, headers=request.headers
                ) as response:
                    text = await response.text()
                    answer.web, answer.status = web, response.status
                    _read_ack(answer, text)
                    return answer
            except aiohttp.ClientConnectorError:
                # refused: it never reached that web; take the web out and send the request elsewhere
                if web in self.live:
                    self.live.remove(web)
            except (TimeoutError, aiohttp.ClientError):
                answer.unanswered.append(web)
                if request.kind != "github":
                    return answer  # Slack does not send a slash command twice: its user sees an error
                # GitHub's redelivery: the same delivery id again, to another web


def _read_ack(answer: Answer, text: str) -> None:
    if answer.request.kind == "github":
        if answer.status == 202:
            body = json.loads(text)
            answer.job_id = body.get("job")
            answer.duplicate = bool(body.get("duplicate"))
        return
    match = JOB_ID.search(text) if answer.status == 200 else None
    if match is not None:
        answer.job_id = match.group(1)
        answer.duplicate = "already job" in text


async def burst(
    balancer: Balancer,
    requests: list[Request],
    *,
    concurrency: int,
    events: dict[int, Callable[[], Awaitable[None]]] | None = None,
) -> list[Answer]:
    """Send ``requests`` in order, ``concurrency`` at a time; ``events[n]`` runs once ``n`` requests were sent
    (and before the next), while earlier ones may still be in flight."""
    gate = asyncio.Semaphore(concurrency)
    tasks: list[asyncio.Task[Answer]] = []

    async def one(request: Request) -> Answer:
        try:
            return await balancer.send(request)
        finally:
            gate.release()

    for index, request in enumerate(requests):
        event = (events or {}).get(index)
        if event is not None:
            await event()
        await gate.acquire()
        tasks.append(asyncio.create_task(one(request)))
    return list(await asyncio.gather(*tasks))
