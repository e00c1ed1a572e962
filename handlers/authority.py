"""Intake's side of bot.decision, shared by the Slack and Git receivers.

- ``decide``: resolve a command's cluster against the inventory the workers publish and check the policy,
  once, before anything is stored (bot.decision.decide);
- ``rate_limited``: per-person limits, counted in Redis so every web replica shares them;
- ``audit_refusal``: refusals at the edge go to the same audit stream as the workers' entries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis

from bot.commands import ClusterTarget, Command
from bot.decision import Decision, Placed, Resolve, decide
from bot.errors import FluxopsError
from bot.fleet_decision import FleetWrite, Matched, Select, is_fleet_write
from bot.inventory import Inventory
from bot.policy import Identity, Policy
from bot.usecases.refusals import refusal_entry
from bot.views import AuditEntry
from workers.audit_log import stream_fields
from workers.redis_names import INVENTORY_KEY

RATE_WINDOW_SECONDS = 60
AUDIT_STREAM = "fluxops:audit"
AUDIT_MAXLEN = 100_000


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class EdgeAuthority:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        policy: Policy,
        rate_limit: int = 30,
        audit_stream: str = AUDIT_STREAM,
        audit_maxlen: int = AUDIT_MAXLEN,
    ) -> None:
        """``rate_limit``: commands one person may send per minute (0: no limit)."""
        self.redis = redis
        self.policy = policy
        self.rate_limit = rate_limit
        self._stream = audit_stream
        self._maxlen = audit_maxlen

    async def inventory(self) -> Inventory:
        snapshot = await self.redis.get(INVENTORY_KEY)
        if snapshot is None:
            raise FluxopsError(
                "fluxops has not listed the clusters yet (a worker publishes them when it starts)",
                recommendation="try again in a minute; if it persists, check that a fluxops worker is running",
            )
        return Inventory.from_json(_text(snapshot))

    async def decide(self, identity: Identity, command: Command, text: str, *, comment_digest: str = "") -> Decision:
        """What the policy says of ``identity`` running ``command`` (typed as ``text``); refusals included."""
        resolve: Resolve = Inventory([]).resolve
        select: Select | None = None
        if command.cluster_target is not None or is_fleet_write(command):
            try:
                inventory = await self.inventory()
            except FluxopsError as error:
                resolve, select = _raising(error), _raising_select(error)
            else:
                # resolved among the clusters this person may see: no name, alias or ambiguity of the others;
                # a fleet run's selector matches among them too, so it tells nothing of the others either
                visible = inventory.seen_by(lambda e: self.policy.role_for(identity, e.cluster, e.alias) is not None)
                resolve, select = visible.resolve, visible.select
        return decide(
            self.policy, identity, command, text, resolve=resolve, select=select, comment_digest=comment_digest
        )

    async def fleet_clusters(self, asker: Identity, command: FleetWrite) -> Sequence[Matched]:
        """The clusters fleet run ``command`` matches among those ``asker`` may see: what it was decided over,
        and what a person confirming or approving it must hold the command's role on."""
        inventory = await self.inventory()
        visible = inventory.seen_by(lambda e: self.policy.role_for(asker, e.cluster, e.alias) is not None)
        return visible.select(command.selector)

    async def rate_limited(self, who: str, what: str) -> int | None:
        """Count command ``what`` for ``who`` (``platform:id``) in this minute; the seconds to wait when over
        the limit, else None. Copies of one request (redeliveries, the same comment) count once."""
        if self.rate_limit <= 0:
            return None
        now = time.time()
        window = int(now // RATE_WINDOW_SECONDS)
        key = f"fluxops:rate:{who}:{window}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, what)
            pipe.scard(key)
            pipe.expire(key, RATE_WINDOW_SECONDS * 2)
            _, count, _ = await pipe.execute()
        if int(count) <= self.rate_limit:
            return None
        return max(1, int((window + 1) * RATE_WINDOW_SECONDS - now))

    async def audit_refusal(
        self, *, actor: str, origin: str, command: str, reason: str, cluster: str = "", job_id: str = ""
    ) -> None:
        entry = refusal_entry(
            actor=actor, origin=origin, command=command, cluster=cluster, job_id=job_id, reason=reason
        )
        await self._append(entry)

    async def audit_note(
        self, *, actor: str, origin: str, command: str, result: str, cluster: str = "", job_id: str = ""
    ) -> None:
        """An entry that is not a refusal (an approval, say)."""
        entry = refusal_entry(actor=actor, origin=origin, command=command, cluster=cluster, job_id=job_id, reason="")
        await self._append(replace(entry, result=result[:500]))

    async def _append(self, entry: AuditEntry) -> None:
        fields: dict[Any, Any] = dict(stream_fields(entry))  # redis-py's invariant dict type wants its own union
        await self.redis.xadd(self._stream, fields, maxlen=self._maxlen, approximate=True)


def _raising(error: FluxopsError) -> Resolve:
    def resolve(target: ClusterTarget) -> Placed:
        raise error

    return resolve


def _raising_select(error: FluxopsError) -> Select:
    def select(selector: Sequence[tuple[str, str]]) -> Sequence[Matched]:
        raise error

    return select


def rate_message(wait: int, limit: int) -> str:
    return (
        f"You have sent more than {limit} fluxops commands in a minute, so this one was not run. "
        f"Try again in {wait} s (the limit is FLUXOPS_RATE_LIMIT)."
    )
