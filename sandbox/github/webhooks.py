"""Webhook deliveries as GitHub sends them: signed JSON POSTs with GitHub's headers, recorded, redeliverable.

A redelivery sends the very same bytes with the same ``X-GitHub-Delivery`` GUID (and so the same
signatures), as "Redeliver" in GitHub's UI does; receivers must dedupe on that GUID.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import aiohttp

from bot.models import Secret
from sandbox.github.payloads import now_iso
from sandbox.github.state import Attempt, Delivery, GitHubState

USER_AGENT = "GitHub-Hookshot/fluxops-sandbox"
#: GitHub gives a receiver ten seconds to answer
DELIVERY_TIMEOUT = 10.0


def signatures(secret: str, body: bytes) -> dict[str, str]:
    """``X-Hub-Signature-256`` (HMAC-SHA256) and the legacy ``X-Hub-Signature`` (HMAC-SHA1) of ``body``."""
    key = secret.encode()
    return {
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }


class Webhooks:
    """Builds, signs, sends and records deliveries to one ``url`` (None: recorded, not sent)."""

    def __init__(
        self,
        *,
        state: GitHubState,
        secret: Secret | None,
        hook_id: int,
        target_type: str,
        target_id: int | None,
    ) -> None:
        self.state = state
        self._secret = secret
        self.hook_id = hook_id
        self.target_type = target_type  # "repository" or "integration" (a GitHub App's webhook)
        self.target_id = target_id  # the app id for "integration"; None: the repository's id
        self.url: str | None = None
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, event: str, payload: dict[str, Any], *, repo: str) -> Delivery:
        """Record and send one delivery; returns it with the receiver's answer."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery_id = str(uuid.uuid4())
        repository = payload.get("repository") or {}
        target = self.target_id if self.target_id is not None else repository.get("id", 0)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id,
            "X-GitHub-Hook-ID": str(self.hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(target),
            "X-GitHub-Hook-Installation-Target-Type": self.target_type,
        }
        if self._secret is not None:
            headers.update(signatures(self._secret.reveal(), body))
        action = payload.get("action")
        delivery = Delivery(
            id=delivery_id,
            event=event,
            action=str(action) if action is not None else None,
            repo=repo,
            body=body,
            headers=headers,
        )
        self.state.deliveries[delivery_id] = delivery
        await self._attempt(delivery, redelivery=False)
        return delivery

    async def replay(self, delivery_id: str) -> Delivery | None:
        """Send a recorded delivery's bytes and signature again as a new delivery (new GUID)."""
        original = self.state.deliveries.get(delivery_id)
        if original is None:
            return None
        new_id = str(uuid.uuid4())
        delivery = Delivery(
            id=new_id,
            event=original.event,
            action=original.action,
            repo=original.repo,
            body=original.body,
            headers={**original.headers, "X-GitHub-Delivery": new_id},
        )
        self.state.deliveries[new_id] = delivery
        await self._attempt(delivery, redelivery=False)
        return delivery

    async def redeliver(self, delivery_id: str) -> Delivery | None:
        delivery = self.state.deliveries.get(delivery_id)
        if delivery is None:
            return None
        await self._attempt(delivery, redelivery=True)
        return delivery

    async def _attempt(self, delivery: Delivery, *, redelivery: bool) -> None:
        url = self.url
        if not url:
            delivery.attempts.append(Attempt(None, "no webhook URL is set", now_iso(), redelivery))
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT))
        try:
            async with self._session.post(url, data=delivery.body, headers=delivery.headers) as response:
                await response.read()
                delivery.attempts.append(Attempt(response.status, None, now_iso(), redelivery))
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            delivery.attempts.append(Attempt(None, detail, now_iso(), redelivery))
