"""A staged job runs only with the approvals the policy asks for today, checked again by the worker."""

from __future__ import annotations

from bot import errors
from bot.commands import Role
from bot.decision import Decision
from bot.jobs import APPROVER_GROUPS, JobRecord
from bot.policy import Identity
from bot.usecases.context import JobPorts, ResolvedCluster


def check_approvals(record: JobRecord, decision: Decision, ports: JobPorts, where: ResolvedCluster) -> None:
    """A confirmed job runs only with the approvals today's policy asks for (at least what intake asked), from
    people other than the one who asked who still hold the command's role on its cluster (their Slack groups
    as they were when they approved count)."""
    required = decision.approvals_required
    if decision.verb:
        required = max(required, ports.policy.approvals_required(decision.verb, where.cluster, where.alias)[0])
    if required <= 0:
        return
    needed = Role(decision.role)
    asker = {decision.user.casefold(), record.actor.casefold()}
    approvers = {a.strip().casefold() for a in record.approved_by.split(",") if a.strip()} - asker
    still = []
    for approver in sorted(approvers):
        groups = ports.jobs.get(record.job_id, APPROVER_GROUPS + approver) or ""
        identity = Identity(decision.platform, approver, frozenset(g for g in groups.split(",") if g))
        role = ports.policy.role_for(identity, where.cluster, where.alias)
        if role is not None and role.rank >= needed.rank:
            still.append(approver)
    if len(still) < required:
        raise errors.Forbidden(
            f"`{decision.verb}` on {where.label} needs {required} approval(s) from people other than the one "
            f"asking who hold {needed.value} there; it has {len(still)}",
            recommendation="send the command again and ask for approvals anew",
        )
