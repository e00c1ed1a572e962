"""`/flux doctor`: read what ARM (and, with cluster access, the cluster) says about a cluster and run the checks of
bot/doctor_checks.py over it. Read-only: no lock, no audit entry.

A check whose data cannot be read does not end the report: the report says which checks were skipped and why
(no cluster access, the API refused, a read failed), and shows the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from bot import doctor_checks as checks
from bot import errors
from bot.cluster_objects import FluxObject
from bot.commands import Doctor, DoctorFleet
from bot.fleet_decision import nothing_matched, selector_text
from bot.models import ExtensionState, V1Config
from bot.usecases.context import Job, ResolvedCluster
from bot.views import DoctorReport, Finding, Phase, Severity

T = TypeVar("T")

#: clusters one `doctor --clusters` checks at most (each costs a handful of ARM reads)
MAX_CLUSTERS = 50
#: clusters whose findings a fleet report shows in full (the rest are summed up)
SHOWN_IN_FULL = 5
CLUSTER_CHECKS = "controllers, CRDs, Flux v1 operators and multi-tenancy"


class _Reads:
    """What one report read, and what it could not (``skipped``)."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def attempt(self, what: str, read: Callable[[], T]) -> tuple[T | None, bool]:
        """(what ``read`` returned, True), or (None, False) with the reason kept in ``skipped``."""
        try:
            return read(), True
        except errors.FluxopsError as error:
            if error.retryable:
                raise
            self.skipped.append(f"{what}: {error.user_text()}")
            return None, False


def report(job: Job, where: ResolvedCluster) -> DoctorReport:
    """Every finding about one cluster."""
    ports = job.ports
    cluster, label = where.cluster, where.label
    ref = cluster.ref
    reads = _Reads()
    findings: list[Finding] = []

    if ports.inventory is not None:
        inventory = ports.inventory
        states, _ = reads.attempt("resource providers", lambda: inventory.provider_states(ref.subscription_id))
        findings += checks.providers(states or {}, ref.subscription_id) if states is not None else []
    else:
        reads.skipped.append("resource providers: this fluxops is not wired to read provider registration")

    v1: list[V1Config] = []
    if ports.v1 is not None:
        v1_port = ports.v1
        listed, read_v1 = reads.attempt("Flux v1 configurations", lambda: v1_port.list(ref))
        v1 = listed or []
        findings += checks.v1_leftovers(v1, label) if read_v1 else []
    else:
        reads.skipped.append("Flux v1 configurations: this fluxops is not wired to read them")

    ext, read_ext = reads.attempt("the flux extension", lambda: ports.extensions.find_flux(ref))
    if read_ext:
        train = (ext.release_train if ext else None) or "Stable"
        released, _ = reads.attempt(
            "released microsoft.flux versions", lambda: ports.extensions.versions(cluster, "microsoft.flux", train)
        )
        findings += checks.extension(ext, released or [], v1, label)

    configs, _ = reads.attempt("flux configurations", lambda: ports.flux.list(ref))
    findings += checks.configurations(configs or [], label, ports.pace.wall_clock()) if configs is not None else []
    findings += checks.identity(ext, configs or [], ref, label)

    findings += _on_the_cluster(job, where, ext, v1, reads)
    return DoctorReport(cluster=label, findings=checks.ordered(findings), skipped=tuple(reads.skipped))


def _on_the_cluster(
    job: Job, where: ResolvedCluster, ext: ExtensionState | None, v1: list[V1Config], reads: _Reads
) -> list[Finding]:
    """The checks that need the cluster's own API; skipped, saying why, without it."""
    api = job.ports.cluster_api
    ref, label = where.cluster.ref, where.label
    if api is None:
        reads.skipped.append(
            f"{CLUSTER_CHECKS}: fluxops has no access to the clusters' Kubernetes API (FLUXOPS_CLUSTER_ACCESS is off)"
        )
        return []
    try:
        workloads = api.workloads(ref, checks.FLUX_NAMESPACE) if ext is not None else []
        findings: list[Finding] = []
        if ext is not None:  # without the extension there are no controllers or CRDs to check: it says so
            findings += checks.controllers(workloads, ext, label)
            findings += checks.crds(api.custom_resource_definitions(ref), ext, label)
        operators = api.workloads(ref, None, selector=checks.V1_OPERATOR_SELECTOR)
        findings += checks.v1_operators(operators, v1, label)
        objects: list[FluxObject] = api.flux_objects(ref) if ext is not None else []
        findings += checks.multi_tenancy(objects, ext, label)
        return findings
    except (errors.ClusterAccessDenied, errors.ClusterUnreachable) as refused:
        reads.skipped.append(f"{CLUSTER_CHECKS}: {refused.user_text()}")
        return []


def doctor(job: Job, command: Doctor, where: ResolvedCluster) -> None:
    job.show(phase=Phase.RUNNING, note=f"checking {where.label}")
    found = report(job, where)
    job.show(phase=Phase.SUCCEEDED, note=_headline([found]), doctor=(found,))


def doctor_fleet(job: Job, command: DoctorFleet) -> None:
    """Every cluster the selector matches that the person may see (at most ``MAX_CLUSTERS``), worst first."""
    job.view = replace(job.view, title=f"doctor on clusters matching {selector_text(command.selector)}")
    rows = [r for r in job.ports.clusters.rows(command.selector) if job.may_see(r.cluster, r.alias)]
    if not rows:
        raise nothing_matched(command.selector)
    job.show(phase=Phase.RUNNING, note=f"checking {len(rows)} cluster{'s' if len(rows) != 1 else ''}")
    reports = [report(job, ResolvedCluster(r.cluster, r.alias)) for r in rows[:MAX_CLUSTERS]]
    reports.sort(key=lambda r: (-r.worst.rank, r.cluster))
    note = _headline(reports)
    if len(rows) > MAX_CLUSTERS:
        note += f"; checked the first {MAX_CLUSTERS} of {len(rows)} clusters (narrow the selector for the rest)"
    job.show(phase=Phase.SUCCEEDED, note=note, doctor=tuple(reports))


def _headline(reports: list[DoctorReport]) -> str:
    """ "2 errors, 1 warning" over every report; "no problems found" when there are none."""
    parts = []
    for severity, noun in ((Severity.ERROR, "error"), (Severity.WARNING, "warning")):
        count = sum(r.count(severity) for r in reports)
        if count:
            parts.append(f"{count} {noun}{'s' if count != 1 else ''}")
    unhealthy = sum(1 for r in reports if r.worst in (Severity.ERROR, Severity.WARNING))
    where = f" on {unhealthy} of {len(reports)} clusters" if len(reports) > 1 and parts else ""
    skipped = any(r.skipped for r in reports)
    tail = " (some checks were skipped: see below)" if skipped else ""
    return (", ".join(parts) + where if parts else "no problems found") + tail
