"""What the status page reads from Redis: only what the workers already publish, never ARM.

The inventory (``fluxops:inventory``), the fleet snapshot (``fluxops:fleet:snapshot``), the claims of the shown
clusters (one MGET), fleet runs in flight (their job records), deploy key records and the newest audit entries.
Each read is a few Redis round trips whatever the fleet's size, apart from the MGETs, which grow with it.
Anything malformed in Redis is skipped, not shown and not fatal: the page is a view, not a source of truth.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.fleet_snapshot import FleetSnapshot
from bot.inventory import Inventory, Resolved
from bot.key_records import DeployKeyRecord
from bot.rollout import snapshot as run_snapshot
from bot.rollout.progress import PLAN_FIELD
from bot.status_page import RunInfo
from bot.views import AuditEntry, Phase
from workers.audit_log import FIELDS as AUDIT_FIELDS
from workers.redis_claims import claim_key
from workers.redis_fleet_runs import RUNS_KEY
from workers.redis_jobs import JOB_KEY_PREFIX, PROGRESS_PREFIX
from workers.redis_key_registry import ALL_KEYS, record_key
from workers.redis_names import FLEET_SNAPSHOT_KEY, INVENTORY_KEY

log = logging.getLogger(__name__)

AUDIT_STREAM = "fluxops:audit"
#: audit entries searched for each configuration's last change (newest first)
AUDIT_SCANNED = 1000
#: recent fleet runs looked at for those still in flight
RUNS_SCANNED = 50


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@dataclass
class FleetReads:
    redis: aioredis.Redis

    async def inventory(self) -> Inventory | None:
        raw = await self.redis.get(INVENTORY_KEY)
        if raw is None:
            return None
        return Inventory.from_json(_text(raw))

    async def snapshot(self) -> FleetSnapshot | None:
        raw = await self.redis.get(FLEET_SNAPSHOT_KEY)
        if raw is None:
            return None
        try:
            return FleetSnapshot.from_json(raw)
        except ValueError:
            log.warning("the fleet snapshot in Redis is malformed; showing none")
            return None

    async def claims(self, clusters: Sequence[Resolved]) -> dict[str, str]:
        ids = [e.cluster.ref.arm_id.lower() for e in clusters]
        if not ids:
            return {}
        holders = await self.redis.mget([claim_key(i) for i in ids])
        return {i: _text(h) for i, h in zip(ids, holders, strict=True) if h is not None}

    async def runs_in_flight(self) -> list[RunInfo]:
        run_ids = [_text(r) for r in await self.redis.zrevrange(RUNS_KEY, 0, RUNS_SCANNED - 1)]
        fields = [PROGRESS_PREFIX + "phase", PROGRESS_PREFIX + PLAN_FIELD, PROGRESS_PREFIX + run_snapshot.VIEW_FIELD]
        async with self.redis.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.hmget(JOB_KEY_PREFIX + run_id, [*fields, "text", "actor"])
            answers = await pipe.execute()
        runs = []
        for run_id, values in zip(run_ids, answers, strict=True):
            phase_text, plan, view_text, text, actor = (_text(v) for v in values)
            try:
                phase = Phase(phase_text)
            except ValueError:
                continue
            if phase.terminal or phase is Phase.AWAITING_CONFIRMATION:
                continue
            try:
                targets = tuple(str(item[0]) for item in json.loads(plan)["targets"])
            except (ValueError, TypeError, KeyError, IndexError):
                continue  # no plan: nothing says whose clusters it touches, so it is nobody's to see
            view = run_snapshot.decode(view_text)
            runs.append(
                RunInfo(
                    run_id=run_id,
                    title=view.title if view else text,
                    phase=phase.value,
                    actor=view.actor if view else actor,
                    done=view.done if view else 0,
                    total=view.total if view else len(targets),
                    cluster_ids=targets,
                )
            )
        return runs

    async def deploy_keys(self) -> list[DeployKeyRecord]:
        ids = [_text(k) for k in await self.redis.zrange(ALL_KEYS, 0, -1)]
        if not ids:
            return []
        records = []
        for raw in await self.redis.mget([record_key(k) for k in ids]):
            if raw is None:
                continue
            try:
                records.append(DeployKeyRecord.from_json(_text(raw)))
            except (ValueError, TypeError, KeyError):
                continue
        return records

    async def audit(self) -> list[AuditEntry]:
        """The newest entries, newest first."""
        entries = []
        for raw_id, raw_fields in await self.redis.xrevrange(AUDIT_STREAM, count=AUDIT_SCANNED) or []:
            if raw_fields is None:
                continue
            fields = {_text(k): _text(v) for k, v in raw_fields.items()}
            values = {name: fields.get(name, "") for name in AUDIT_FIELDS}
            entries.append(AuditEntry(id=_text(raw_id), **values))
        return entries
