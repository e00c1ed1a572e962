"""Read-only use-cases: show, list, status, clusters, audit. No lock, no audit entry; what a read lists is
filtered by what the person asking may see (a role on the cluster)."""

from __future__ import annotations

from bot.commands import (
    Audit,
    ClusterTarget,
    ConfigList,
    ConfigShow,
    KustomizationList,
    KustomizationShow,
    ListClusters,
    Role,
    Status,
)
from bot.decision import unseen
from bot.models import Compliance
from bot.usecases.configs import no_kustomization
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.failure_events import failure_events
from bot.views import AuditEntry, Phase


def config_show(job: Job, command: ConfigShow | Status, where: ResolvedCluster) -> None:
    if command.name is None:
        configs = tuple(job.ports.flux.list(where.cluster.ref))
        job.show(
            phase=Phase.SUCCEEDED, configs=configs, note="" if configs else f"no flux configurations on {where.label}"
        )
        return
    state = job.ports.flux.get(where.cluster.ref, command.name)
    # a Non-Compliant configuration shows why, from the cluster's events (when fluxops can read them)
    why = (
        failure_events(job.ports, where.cluster.ref, state)
        if state.compliance_state == Compliance.NON_COMPLIANT
        else None
    )
    job.show(phase=Phase.SUCCEEDED, config=state, failure_events=why)


def config_list(job: Job, command: ConfigList, where: ResolvedCluster) -> None:
    configs = tuple(job.ports.flux.list(where.cluster.ref))
    job.show(phase=Phase.SUCCEEDED, configs=configs, note="" if configs else f"no flux configurations on {where.label}")


def kustomizations(job: Job, command: KustomizationList | KustomizationShow, where: ResolvedCluster) -> None:
    state = job.ports.flux.get(where.cluster.ref, command.config)
    focus = getattr(command, "name", None)
    if focus is not None and state.spec and not any(k.name == focus for k in state.spec.kustomizations):
        raise no_kustomization(command.config, focus, where.label)
    job.show(phase=Phase.SUCCEEDED, config=state, focus=focus)


def clusters(job: Job, command: ListClusters) -> None:
    """The clusters matching the selector that the person asking has a role on (no others are named)."""
    rows = tuple(r for r in job.ports.clusters.rows(command.selector) if job.may_see(r.cluster, r.alias))
    job.show(phase=Phase.SUCCEEDED, clusters=rows, note="" if rows else "no cluster you have a role on matches")


def audit(job: Job, command: Audit) -> None:
    """Entries about clusters the person asking has a role on (every cluster an entry names), and their own
    entries that name no cluster; ``--cluster`` must be one they may see."""
    identity = job.identity
    if command.cluster is not None and not job.may_see_named(command.cluster):
        assert identity is not None  # a job no person asked for sees every cluster
        raise unseen(ClusterTarget(command.cluster), identity)
    # read more than asked for: some entries may be about clusters this person does not see
    entries = job.ports.audit.read(
        since_seconds=command.since_seconds, cluster=command.cluster, limit=command.limit * 4
    )
    admin = identity is None or job.ports.policy.role_anywhere(identity) is Role.ADMIN

    def shown(entry: AuditEntry) -> bool:
        names = [n.strip() for n in entry.cluster.split(",") if n.strip()]
        if not names:
            return admin or entry.actor.casefold() == job.record.actor_id.casefold()  # their own
        return all(job.may_see_named(name) for name in names)

    visible = tuple(e for e in entries if shown(e))[: command.limit]
    job.show(phase=Phase.SUCCEEDED, audit=visible, note="" if visible else "no audit entries in that window")
