"""`/flux fleet status|list|cancel|resume RUN`: a run is shown from the view it saved (no Azure read), and only
to someone who may see every cluster in it; cancel and resume need the run's role on every one of them. A run
someone may not see is answered exactly as a run that does not exist."""

from __future__ import annotations

import json
from dataclasses import replace

from bot import errors
from bot.commands import FleetCancel, FleetList, FleetResume, FleetStatus, Role
from bot.fleet_decision import names
from bot.rollout import snapshot
from bot.rollout.progress import CANCEL_FIELD, PLAN_FIELD
from bot.usecases import fleet_freeze
from bot.usecases.context import Job, ResolvedCluster
from bot.views import FleetRunView, Phase, mention

#: runs `fleet list` shows
LISTED = 15


def _clusters(job: Job, run_id: str) -> list[ResolvedCluster]:
    """The run's clusters, if the person may see every one (else the run "does not exist" for them)."""
    missing = errors.NotFound(
        f"there is no fleet run {run_id} that you can see", recommendation="`/flux fleet list` shows recent runs"
    )
    try:
        raw = json.loads(job.ports.jobs.get(run_id, PLAN_FIELD) or "")
        arm_ids = [str(item[0]).lower() for item in raw["targets"]]
    except (ValueError, TypeError, KeyError, IndexError):
        raise missing from None
    known = {w.cluster.ref.arm_id.lower(): w for w in job.ports.clusters.all()}
    # a cluster that left the inventory since is nobody's to see or change: the run stays yours to stop
    clusters = [known[a] for a in arm_ids if a in known]
    if job.identity is not None and not all(job.may_see(w.cluster, w.alias) for w in clusters):
        raise missing
    return clusters


def _require(job: Job, clusters: list[ResolvedCluster], role: Role, run_id: str) -> None:
    identity = job.identity
    if identity is None:
        return
    lacking = [
        w.label
        for w in clusters
        if (have := job.ports.policy.role_for(identity, w.cluster, w.alias)) is None or have.rank < role.rank
    ]
    if lacking:
        raise errors.Forbidden(
            f"changing fleet run {run_id} needs the {role.value} role on all its clusters; "
            f"you lack it on {names(lacking)}",
            recommendation="ask someone who operates those clusters, or a fluxops admin",
        )


def _view(job: Job, run_id: str) -> FleetRunView | None:
    return snapshot.decode(job.ports.jobs.get(run_id, snapshot.VIEW_FIELD))


def _phase(job: Job, run_id: str) -> Phase | None:
    saved = job.ports.jobs.get(run_id, "phase")
    try:
        return Phase(saved) if saved else None
    except ValueError:
        return None


def fleet_status(job: Job, command: FleetStatus) -> None:
    _clusters(job, command.run_id)
    view = _view(job, command.run_id)
    if view is None:
        waiting = _phase(job, command.run_id) is Phase.AWAITING_CONFIRMATION
        why = "it waits for its confirmation" if waiting else "it has not started yet"
        job.show(phase=Phase.SUCCEEDED, note=f"Fleet run {command.run_id} has no progress to show: {why}.")
        return
    job.reporter.show(replace(view, shown_by=job.job_id))
    job.record_end(Phase.SUCCEEDED)


def fleet_list(job: Job, command: FleetList) -> None:
    lines = []
    for run_id in job.ports.fleet.runs.recent(LISTED * 2):
        try:
            _clusters(job, run_id)
        except errors.NotFound:
            continue
        view = _view(job, run_id)
        if view is None:
            continue
        lines.append(
            f"`{run_id}` {view.title} — {view.phase.value}, {view.done}/{view.total} done — by {mention(view.actor)}"
        )
        if len(lines) == LISTED:
            break
    note = "\n".join(lines) if lines else "No fleet runs you can see. `/flux help fleet` says how to start one."
    job.show(phase=Phase.SUCCEEDED, note=note)


def fleet_cancel(job: Job, command: FleetCancel) -> None:
    run_id = command.run_id
    _require(job, _clusters(job, run_id), command.role, run_id)
    phase = _phase(job, run_id)
    if phase is Phase.AWAITING_CONFIRMATION:
        done = job.ports.staged.cancel(run_id)
        note = f"Fleet run {run_id} is canceled: it never started." if done else f"Fleet run {run_id} just started."
    elif phase is not None and phase.terminal:
        note = f"Fleet run {run_id} has already ended ({phase.value}): there is nothing to cancel."
    else:
        job.ports.jobs.put(run_id, CANCEL_FIELD, job.record.actor_id)
        note = (
            f"Cancel requested: fleet run {run_id} writes nothing more and stops once its in-flight writes end. "
            f"`/flux fleet resume {run_id}` carries on later."
        )
    job.show(phase=Phase.SUCCEEDED, note=note)


def fleet_resume(job: Job, command: FleetResume) -> None:
    run_id = command.run_id
    clusters = _clusters(job, run_id)
    _require(job, clusters, command.role, run_id)
    glass = ""
    if command.break_glass:  # through the freeze closing it now: only admins of every cluster of the run
        _require(job, clusters, Role.ADMIN, run_id)
        if not fleet_freeze.save_resume_glass(job, run_id, command.break_glass, clusters):
            glass = " No freeze or window closes its clusters now, so `--break-glass` was not kept."
    if job.ports.staged.resume(run_id):
        note = f"Fleet run {run_id} carries on from its record: what is done is not redone. Its message shows how."
    else:
        phase = _phase(job, run_id)
        if phase in (Phase.RUNNING, Phase.QUEUED, Phase.WAITING):
            note = (
                f"Fleet run {run_id} is {phase.value}. If its worker stopped, fluxops picks it up again by itself "
                "within a few minutes."
            )
        else:
            state = phase.value if phase else "unknown"
            note = f"Fleet run {run_id} is {state}: only a halted or canceled run can be resumed."
    job.show(phase=Phase.SUCCEEDED, note=note + glass)
