"""Applying a fleet pull request's plan through the wave engine (bot.rollout): each operation written once (its
progress saved, so a restarted worker carries on), every written cluster followed to its goal in bulk, the
first failure halting the rest, the run shown in the pull request; and one audit entry for the whole apply."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from functools import partial

from bot import errors
from bot.commands.fleet import DEFAULT_MAX_PARALLEL
from bot.fleet import (
    CreateConfig,
    InstallExtension,
    Operation,
)
from bot.gitevents import PullRequestEvent
from bot.models import Compliance
from bot.rollout.engine import Rollout
from bot.rollout.plan import RolloutPlan, Target
from bot.rollout.report import RunReport
from bot.usecases import fleet_freeze, fleet_io, scope_checks
from bot.usecases.context import Job
from bot.usecases.fleet_apply_checks import FleetApplyChecks
from bot.usecases.fleet_pull_request import Planned
from bot.views import AuditEntry, ErrorInfo, Phase

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
        """The plan's operations through the wave engine (bot.rollout): one wave, every cluster's writes in the
        plan's order (the extension first), each followed to its goal; the first failure halts the rest."""
        ports = self.ports
        ops = planned.plan.operations()
        for op in ops:
            scope_checks.check_fleet_operation(job, op, planned.resolved.get(op.cluster_key))
        by_cluster: dict[str, list[Operation]] = {}
        for op in ops:
            by_cluster.setdefault(op.cluster_key, []).append(op)
        targets = tuple(Target(group[0].label, group[0].cluster, tuple(group)) for group in by_cluster.values())
        plan = RolloutPlan(
            title=f"apply {self.holder} at {planned.head_sha[:12]}",
            targets=targets,
            waves=(len(targets),) if targets else (),
            max_parallel=DEFAULT_MAX_PARALLEL,
            # clusters, as a fleet run counts them: those that get something new, and the others
            creates=sum(1 for t in targets if any(isinstance(op, CreateConfig | InstallExtension) for op in t.ops)),
            updates=sum(1 for t in targets if not any(isinstance(op, CreateConfig | InstallExtension) for op in t.ops)),
        )
        report = RunReport(
            job,
            interval=max(1.0, ports.pace.watch.first),
            carry_on="comment `/flux apply` again: what is done is not redone",
        )
        rollout = Rollout(
            job,
            plan,
            write=partial(fleet_io.write, ports),
            observe=partial(fleet_io.observe, ports),
            check=partial(fleet_io.observe, ports, bulk=False),
            report=report,
            gate=fleet_freeze.gate(job, "", plan.title),
        )
        phase = rollout.run()
        ports.jobs.put(self.store, "managed", json.dumps(sorted(planned.declared)))
        # this PR has applied something (its claims hold); a halted apply's next run plans what is left
        ports.jobs.put(self.store, "applied", planned.head_sha)
        job.record_end(Phase.SUCCEEDED if phase is Phase.SUCCEEDED else Phase.FAILED)

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
                cluster=", ".join(labels[:20]) + (f" and {len(labels) - 20} more" if len(labels) > 20 else ""),
                job_id=self.record.job_id,
                result=result[:500],
            )
        )
