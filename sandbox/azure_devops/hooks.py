"""Service hook deliveries: one Web Hooks subscription per event type, POSTing JSON with Basic auth.

Each subscription has its own GUID. ``notificationId`` comes from one counter for the organization, so
it increases within every subscription and also names a delivery uniquely (for ``redeliver``). Every
delivery is recorded with the receiver's answer; a redelivery sends the very same bytes again.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.models import Secret
from sandbox.azure_devops import payloads

CONTENT_TYPE = "application/json; charset=utf-8"
USER_AGENT = "VSServices/16.255.0.0 (fluxops sandbox)"


@dataclass
class Attempt:
    status: int | None
    error: str | None
    body: str  # the receiver's answer, cut short


@dataclass
class Delivery:
    notification_id: int
    subscription_id: str
    event_type: str
    event_id: str
    body: bytes
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def summary(self) -> dict[str, Any]:
        return {
            "notification": self.notification_id,
            "subscription": self.subscription_id,
            "event_type": self.event_type,
            "id": self.event_id,
            "status": self.status,
            "attempts": [a.__dict__ for a in self.attempts],
            "body": self.payload(),
        }


class ServiceHooks:
    """Web Hooks subscriptions of the organization and what they delivered."""

    def __init__(self, *, org: str, timeout: float = 20.0) -> None:
        self.org = org
        self.url: str | None = None
        self.username = ""
        self._password = Secret("")
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._next = 1
        self._session: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[Delivery]] = set()

    def configure(self, *, url: str | None, username: str | None, password: str | None) -> None:
        self.url = url
        self.username = username or ""
        self._password = Secret(password or "")

    def subscription(self, event_type: str) -> str:
        return payloads.stable_id("subscription", self.org, event_type)

    def next_ids(self, event_type: str) -> tuple[str, int]:
        """(subscriptionId, notificationId) for the next event of ``event_type``."""
        notification = self._next
        self._next += 1
        return self.subscription(event_type), notification

    async def deliver(self, payload: dict[str, Any]) -> Delivery:
        delivery = Delivery(
            notification_id=int(payload["notificationId"]),
            subscription_id=str(payload["subscriptionId"]),
            event_type=str(payload["eventType"]),
            event_id=str(payload["id"]),
            body=json.dumps(payload).encode(),
        )
        self.deliveries.append(delivery)
        await self._send(delivery)
        return delivery

    def deliver_later(self, payload: dict[str, Any]) -> None:
        """Deliver without waiting, as Azure DevOps does for what a REST call caused."""
        task = asyncio.get_running_loop().create_task(self.deliver(payload))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def redeliver(self, notification_id: int) -> Delivery:
        delivery = self.find(notification_id)
        await self._send(delivery)
        return delivery

    def find(self, notification_id: int) -> Delivery:
        for delivery in self.deliveries:
            if delivery.notification_id == notification_id:
                return delivery
        raise KeyError(f"no delivery with notificationId {notification_id}")

    async def _send(self, delivery: Delivery) -> None:
        if not self.url:
            delivery.attempts.append(Attempt(status=None, error="no webhook_url configured", body=""))
            return
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        raw = base64.b64encode(f"{self.username}:{self._password.reveal()}".encode()).decode()
        headers = {"Content-Type": CONTENT_TYPE, "Authorization": f"Basic {raw}", "User-Agent": USER_AGENT}
        try:
            async with self._session.post(self.url, data=delivery.body, headers=headers) as response:
                text = await response.text(errors="replace")
                delivery.attempts.append(Attempt(status=response.status, error=None, body=text[:2000]))
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.attempts.append(Attempt(status=None, error=f"{type(exc).__name__}: {exc}", body=""))

    async def drain(self) -> None:
        """Wait for deliveries still under way."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        if self._session is not None:
            await self._session.close()
            self._session = None
