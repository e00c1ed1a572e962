"""Refusals are audited like mutations: who tried what, where, and why fluxops said no.

Every place that refuses a command (the policy, a scope check, an approval rule, a changed comment) ends
with ``audit_refusal``, so the audit log shows attempts as well as changes: one entry per job and refusal
(the audit log keeps one entry per job id and result kind).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.jobs import JobRecord
from bot.ports import AuditLog
from bot.redact import redact
from bot.views import AuditEntry


def refusal_entry(*, actor: str, origin: str, command: str, cluster: str, job_id: str, reason: str) -> AuditEntry:
    """The audit entry of one refusal (``actor`` as ``platform:id``; ``command`` is redacted here)."""
    return AuditEntry(
        id="",
        time=datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds"),
        actor=actor,
        origin=origin,
        command=redact(command)[:500],
        cluster=cluster,
        job_id=job_id,
        result=f"refused: {reason}"[:500],
    )


def audit_refusal(audit: AuditLog, record: JobRecord, reason: str, *, command: str = "", cluster: str = "") -> None:
    """Write the refusal of ``record``'s job: ``command`` defaults to the job's text."""
    audit.append(
        refusal_entry(
            actor=record.actor_id,
            origin=record.origin,
            command=command or f"/flux {record.text}",
            cluster=cluster,
            job_id=record.job_id,
            reason=reason,
        )
    )
