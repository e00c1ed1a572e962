"""Read-only use-cases: show, list, status, clusters, audit. No lock, no audit entry."""

from __future__ import annotations

from bot.commands import (
    Audit,
    ConfigList,
    ConfigShow,
    KustomizationList,
    KustomizationShow,
    ListClusters,
    Status,
)
from bot.usecases.configs import no_kustomization
from bot.usecases.context import Job, ResolvedCluster
from bot.views import Phase


def config_show(job: Job, command: ConfigShow | Status, where: ResolvedCluster) -> None:
    if command.name is None:
        configs = tuple(job.ports.flux.list(where.cluster.ref))
        job.show(
            phase=Phase.SUCCEEDED, configs=configs, note="" if configs else f"no flux configurations on {where.label}"
        )
        return
    job.show(phase=Phase.SUCCEEDED, config=job.ports.flux.get(where.cluster.ref, command.name))


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
    rows = tuple(job.ports.cluster_rows(command.selector))
    job.show(phase=Phase.SUCCEEDED, clusters=rows, note="" if rows else "no cluster matches")


def audit(job: Job, command: Audit) -> None:
    entries = job.ports.audit.read(since_seconds=command.since_seconds, cluster=command.cluster, limit=command.limit)
    job.show(phase=Phase.SUCCEEDED, audit=tuple(entries), note="" if entries else "no audit entries in that window")
