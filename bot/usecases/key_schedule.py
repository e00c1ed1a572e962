"""Scheduled rotation: which keys are older than ``deploy_keys.max_age``, and the job that rotates each.

Beat calls ``due_rotations`` every FLUXOPS_KEY_ROTATION_CHECK_INTERVAL and starts each returned job (its
id names the key and the day, so a key is tried at most once a day, and a failed rotation is tried
again the next day). The job is an ordinary ``key rotate --key ID`` run by fluxops itself: it reports
in the policy's ``deploy_keys.channel``.
"""

from __future__ import annotations

import time

from bot.command_codec import encode
from bot.commands import KeyRotate
from bot.config_file import DeployKeyPolicy
from bot.jobs import SCHEDULE, SCHEDULER, JobRecord
from bot.key_records import ACTIVE, DeployKeyRecord


def due(records: list[DeployKeyRecord], policy: DeployKeyPolicy, now: float) -> list[DeployKeyRecord]:
    """Keys in use that are older than the policy's max age (none when it sets no max age)."""
    max_age = policy.max_age_seconds
    if max_age is None:
        return []
    return [r for r in records if r.state == ACTIVE and r.users and now - r.created_at >= max_age]


def due_rotations(records: list[DeployKeyRecord], policy: DeployKeyPolicy, now: float) -> list[JobRecord]:
    """One rotation job per due key."""
    day = time.strftime("%Y%m%d", time.gmtime(now))
    return [
        JobRecord(
            job_id=f"rotate-{record.key_id}-{day}",
            text=f"key rotate --key {record.key_id}",
            command=encode(KeyRotate(key_id=record.key_id)),
            platform=SCHEDULE,
            actor=SCHEDULER,
            channel=policy.channel or "",
            created_at=now,
        )
        for record in due(records, policy, now)
    ]
