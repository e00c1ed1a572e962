"""Applying a fleet pull request's plan: each operation once (its ARM operation token saved, so a restarted
worker resumes), under the (cluster, configuration) lock, then reconciliation followed to Compliant, and one
audit entry for the whole apply."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot import errors
from bot.fleet import (
    CreateConfig,
    InstallExtension,
    Operation,
    UpdateConfig,
    UpdateExtension,
)
from bot.gitevents import PullRequestEvent
from bot.models import Compliance, Provisioning
from bot.ports import LongRunning
from bot.usecases import scope_checks
from bot.usecases.configs import lock_key, protected_settings, with_known_hosts
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.fleet_apply_checks import FleetApplyChecks
from bot.usecases.fleet_pull_request import Planned
from bot.views import AuditEntry, ErrorInfo, Phase, StepState

SETTLED = (Compliance.COMPLIANT, Compliance.NON_COMPLIANT, Compliance.SUSPENDED)


class FleetApply(FleetApplyChecks):
    """The apply job: checked (``FleetApplyChecks``), then the plan's operations run and followed."""

    def apply(self) -> Phase:
        phase = self._apply()
        if isinstance(self.event, PullRequestEvent) and self.ports.claims is not None:
            self.ports.claims.release_all(self.holder)  # merged: the PR is done with its clusters
        return phase

    def _apply(self) -> Phase:
        fleet = self.verified_fleet(
            ": `/flux apply` applies a fleet repository's plan (FLUXOPS_CONFIG `fleet_repositories`)."
        )
        if isinstance(fleet, Phase):
            return fleet
        job = Job(self.record, self.ports, self.reporter, f"apply {self.holder}")
        if self.ports.jobs.get(self.record.job_id, "apply:planned") is None:
            verdict = self.check(fleet)
            if isinstance(verdict, Phase):
                return verdict
            planned = verdict
            self.ports.jobs.put(self.record.job_id, "apply:planned", planned.head_sha)
        else:
            # a resumed run: plan again at the same commit (what ran already is marked done)
            head = self.ports.jobs.get(self.record.job_id, "apply:planned") or ""
            planned = self.compute(fleet, head, None)
        try:
            self.run_operations(job, planned)
        except errors.FluxopsError as error:
            if error.retryable:
                raise
            job.fail_running_steps()
            job.show(
                phase=Phase.FAILED,
                note="",
                error=ErrorInfo(
                    doing=f"applying the plan of {self.holder}",
                    message=error.message,
                    recommendation=error.recommendation,
                ),
            )
        self.audit(job, planned)
        return self.end(job.view.phase)

    def run_operations(self, job: Job, planned: Planned) -> None:
        ports = self.ports
        job.show(phase=Phase.RUNNING, note=f"planned at {planned.head_sha[:12]}")
        written: list[tuple[ResolvedCluster | None, str, str]] = []
        for op in planned.plan.operations():
            text = op.describe()
            # keyed by what it does, not by position: a resumed run plans again, and what already ran drops out
            key = "op:" + hashlib.sha256(f"{op.cluster.arm_id.lower()}|{text}".encode()).hexdigest()[:16]
            if not job.done(key):
                scope_checks.check_fleet_operation(job, op, planned.resolved.get(op.cluster_key))
                job.step(text)
            with ports.locks.hold(lock_key(op.cluster, op.lock_name), job.job_id):
                job.operation(key, self._begin(op), self._resume(op))
            job.finish_step(text)
            if isinstance(op, (CreateConfig, UpdateConfig)):
                name = op.spec.name if isinstance(op, CreateConfig) else op.name
                written.append((planned.resolved.get(op.cluster_key), op.label, name))
        ports.jobs.put(self.store, "managed", json.dumps(sorted(planned.declared)))
        ports.jobs.put(self.store, "applied", planned.head_sha)
        failed = False
        for where, label, name in written:
            if where is None:
                continue
            failed |= not self.follow(job, where, label, name)
        job.show(phase=Phase.FAILED if failed else Phase.SUCCEEDED, note="")

    def follow(self, job: Job, where: ResolvedCluster, label: str, name: str) -> bool:
        """Wait until Flux settles configuration ``name``; True when it is Compliant."""
        ports = self.ports
        text = f"{name} on {label}: reconciling"
        job.step(text)
        deadline = ports.pace.clock() + ports.pace.watch.timeout
        delay = ports.pace.watch.first
        while True:
            ports.pace.heartbeat(job.job_id)
            state = ports.flux.get(where.cluster.ref, name)
            if state.provisioning_state in ("Failed", "Canceled"):
                job.step(text, StepState.FAILED)
                job.finish_step(text, f"{name} on {label}: provisioning {state.provisioning_state}")
                return False
            if state.provisioning_state == Provisioning.SUCCEEDED and state.compliance_state in SETTLED:
                ok = state.compliance_state != Compliance.NON_COMPLIANT
                done = f"{name} on {label}: {state.compliance_state}"
                job.finish_step(text, done)
                if not ok:
                    job.step(done, StepState.FAILED)
                return ok
            if ports.pace.clock() >= deadline:
                job.step(text, StepState.FAILED)
                return False
            ports.pace.sleep(delay)
            delay = min(delay * ports.pace.watch.factor, ports.pace.watch.longest)

    def _begin(self, op: Operation) -> Callable[[], LongRunning[object]]:
        ports = self.ports
        if isinstance(op, InstallExtension):
            return lambda: ports.extensions.begin_create(op.cluster, op.spec)
        if isinstance(op, UpdateExtension):
            return lambda: ports.extensions.begin_update(op.cluster, op.name, op.patch)
        if isinstance(op, CreateConfig):
            protected = protected_settings(ports.keys.credentials, op.credentials)
            spec = with_known_hosts(op.spec, ports.keys.credentials, op.credentials)
            return lambda: ports.flux.begin_create_or_update(op.cluster, spec, protected)
        if isinstance(op, UpdateConfig):
            return lambda: ports.flux.begin_update(op.cluster, op.name, op.patch)
        return lambda: ports.flux.begin_delete(op.cluster, op.name)

    def _resume(self, op: Operation) -> Callable[[str], LongRunning[object]]:
        if isinstance(op, (InstallExtension, UpdateExtension)):
            return self.ports.extensions.resume
        return self.ports.flux.resume

    def audit(self, job: Job, planned: Planned) -> None:
        view = job.view
        result = "succeeded" if view.phase is Phase.SUCCEEDED else f"{view.phase.value}"
        if view.error is not None:
            result = f"{result}: {view.error.message}"
        labels = sorted({op.label for op in planned.plan.operations()})
        how = "on merge" if isinstance(self.event, PullRequestEvent) else "/flux apply"
        actor = self.record.actor_id if self.merger is None else f"{self.merger.platform}:{self.merger.user}"
        self.ports.audit.append(
            AuditEntry(
                id="",
                time=datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds"),
                actor=actor,
                origin=f"{self.repo.provider}:{self.holder}",
                command=f"{how} {self.holder} at {planned.head_sha[:12]}",
                cluster=", ".join(labels),
                job_id=self.record.job_id,
                result=result[:500],
            )
        )
