"""Running one job: decode its command, check intake's decision again, run the use-case, audit the outcome.

The job acts on the cluster intake decided (its ARM id), never on a name resolved again here, and only
while the policy the worker has now still allows it (bot.decision.recheck); a refusal is audited.

Idempotent by job id: a job already in a terminal phase does nothing; a job waiting for its Confirm
button does nothing until the button is pressed; a job picked up again after a crash resumes its saved
ARM operation. Retryable errors are re-raised for the task layer to retry (after the message says so);
anything else ends the job Failed with the error shown in its message and privately to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot import errors
from bot.command_codec import decode_command
from bot.commands import (
    Audit,
    Command,
    ConfigCreate,
    ConfigDelete,
    ConfigList,
    ConfigShow,
    ConfigUpdate,
    DeployedObjectList,
    DeployedObjectShow,
    Doctor,
    DoctorFleet,
    Events,
    ExtensionCreate,
    ExtensionDelete,
    ExtensionList,
    ExtensionShow,
    ExtensionUpdate,
    FleetApply,
    FleetCancel,
    FleetExtensionUpdate,
    FleetList,
    FleetResume,
    FleetStatus,
    KeyRotate,
    KeyStatus,
    KustomizationCreate,
    KustomizationDelete,
    KustomizationList,
    KustomizationShow,
    KustomizationUpdate,
    ListClusters,
    ListFreezes,
    Reconcile,
    Resume,
    Status,
    Suspend,
    Unlock,
    Unwatch,
    UnwatchClusters,
    V1List,
    V1Migrate,
    Watch,
    WatchClusters,
    WatchList,
)
from bot.decision import Decision, Unseen, recheck
from bot.fleet_decision import selector_text
from bot.freezes import target as freeze_target
from bot.jobs import SCHEDULE, SCHEDULER, JobRecord
from bot.key_records import KEY_ID
from bot.ports import Reporter
from bot.redact import redact
from bot.usecases import (
    break_glass,
    cluster_reconcile,
    configs,
    credential_rotation,
    deployed_objects,
    doctor,
    extensions,
    fleet_control,
    fleet_runs,
    flux_events,
    freeze_listing,
    key_provisioning,
    key_rotation,
    no_wait,
    reads,
    unlock,
    v1_configs,
    watch_subscriptions,
)
from bot.usecases.context import Job, JobPorts, ResolvedCluster, change_started
from bot.usecases.job_approvals import check_approvals
from bot.usecases.refusals import audit_refusal
from bot.views import AuditEntry, ErrorInfo, Phase, StepState, TextView

Handler = Callable[[Job, Any, ResolvedCluster], None]

CLUSTER_HANDLERS: dict[type, Handler] = {
    ConfigCreate: configs.config_create,
    ConfigUpdate: configs.config_update,
    ConfigDelete: configs.config_delete,
    Suspend: configs.suspend,
    Resume: configs.resume,
    Reconcile: cluster_reconcile.reconcile,
    KustomizationCreate: configs.kustomization_create,
    KustomizationUpdate: configs.kustomization_update,
    KustomizationDelete: configs.kustomization_delete,
    ConfigShow: reads.config_show,
    Status: reads.config_show,
    ConfigList: reads.config_list,
    KustomizationList: reads.kustomizations,
    KustomizationShow: reads.kustomizations,
    Watch: watch_subscriptions.watch,
    Unwatch: watch_subscriptions.unwatch,
    ExtensionCreate: extensions.extension_create,
    ExtensionUpdate: extensions.extension_update,
    ExtensionDelete: extensions.extension_delete,
    ExtensionShow: extensions.extension_show,
    ExtensionList: extensions.extension_list,
    DeployedObjectList: deployed_objects.deployed_object_list,
    DeployedObjectShow: deployed_objects.deployed_object_show,
    Unlock: unlock.unlock,
    Doctor: doctor.doctor,
    V1List: v1_configs.v1_list,
    V1Migrate: v1_configs.v1_migrate,
    Events: flux_events.events,
}


#: commands over many clusters (or none): they check each cluster themselves
FLEET_HANDLERS: dict[type, Callable[[Job, Any], None]] = {
    FleetApply: fleet_runs.fleet_run,
    FleetExtensionUpdate: fleet_runs.fleet_run,
    FleetStatus: fleet_control.fleet_status,
    FleetList: fleet_control.fleet_list,
    FleetCancel: fleet_control.fleet_cancel,
    FleetResume: fleet_control.fleet_resume,
    DoctorFleet: doctor.doctor_fleet,
    WatchClusters: watch_subscriptions.watch_clusters,
    UnwatchClusters: watch_subscriptions.unwatch_clusters,
}


def title_for(command: Command, label: str | None) -> str:
    """ "config create cluster-config on flux-demo-arc"."""
    name = getattr(command, "name", None) or getattr(getattr(command, "spec", None), "name", None)
    config = getattr(command, "config", None)
    parts = [command.verb]
    if isinstance(name, str) and not command.verb.startswith("extension"):
        parts.append(f"{config}/{name}" if config else name)
    elif config:
        parts.append(config)
    if label:
        parts.append(f"on {label}")
    return " ".join(parts)


def doing_for(command: Command, label: str | None) -> str:
    """What the job was doing, for error messages: "config create cluster-config on flux-demo-arc"."""
    return f"running `/flux {title_for(command, label)}`"


def run_job(record: JobRecord, ports: JobPorts, reporter: Reporter) -> Phase:
    """Run the job to its end (or to the point where it waits for a button). Returns the phase it is in."""
    saved = ports.jobs.get(record.job_id, "phase")
    if saved is not None and Phase(saved).terminal:
        return Phase(saved)
    if saved == Phase.AWAITING_CONFIRMATION.value and not record.confirmed_by:
        return Phase.AWAITING_CONFIRMATION
    try:
        command = decode_command(record.command)
    except errors.Forbidden as unreadable:
        # intake stores every command it accepts; a record without a readable one was not written by it
        audit_refusal(ports.audit, record, unreadable.message)
        reporter.private(TextView(f"`/flux {record.text}` was not run: {unreadable.user_text()}", error=True))
        ports.jobs.put(record.job_id, "phase", Phase.FAILED.value)
        return Phase.FAILED
    where: ResolvedCluster | None = None
    target = command.cluster_target
    job = Job(record, ports, reporter, title_for(command, str(target) if target else None))
    try:
        where = decided_cluster(record, ports, command)
    except (errors.Forbidden, errors.NotFound) as refusal:
        return refuse(job, command, refusal)
    job.before_final = lambda: _audit(job, command, where)
    # a rotation announces its own, over every cluster its key is used on (bot.usecases.rotation_freezes)
    announced_here = not isinstance(command, KeyRotate) and (record.confirmed_by or not command.destructive)
    if command.break_glass and where is not None and announced_here:
        glass = [freeze_target(where.cluster, where.alias)]
        break_glass.announce(job, command.break_glass, glass, title_for(command, where.label))
    no_wait.apply(job, command, where)
    try:
        if where is not None:
            job.view = replace(job.view, title=title_for(command, where.label))
        if isinstance(command, ListClusters):
            reads.clusters(job, command)
        elif isinstance(command, Audit):
            reads.audit(job, command)
        elif isinstance(command, ListFreezes):
            freeze_listing.freezes(job, command, where)
        elif isinstance(command, WatchList):
            watch_subscriptions.watch_list(job, command, where)
        elif isinstance(command, KeyRotate):
            if command.credential is not None:
                credential_rotation.rotate_credential(job, command)
            else:
                key_rotation.rotate(job, command, where)
        elif isinstance(command, KeyStatus):
            key_provisioning.key_status(job, command, where)
        elif type(command) in FLEET_HANDLERS:
            FLEET_HANDLERS[type(command)](job, command)
        elif type(command) in CLUSTER_HANDLERS and where is not None:
            CLUSTER_HANDLERS[type(command)](job, command, where)
        else:
            raise errors.InvalidRequest(
                f"`/flux {command.verb}` cannot run here", recommendation="see `/flux help` for where it works"
            )
    except errors.Busy as busy:
        job.show(phase=Phase.WAITING, note=busy.message)
        raise
    except errors.FluxopsError as error:
        if error.retryable:
            if type(command) not in FLEET_HANDLERS:  # a fleet run's message is its FleetRunView: leave it be
                job.show(note=f"{error.message}; trying again shortly")
            raise
        if isinstance(error, (errors.Forbidden, Unseen)):  # a use-case checking more than the decided cluster
            return refuse(job, command, error)
        fail(job, command, where, error)
    return job.view.phase


def decided_cluster(record: JobRecord, ports: JobPorts, command: Command) -> ResolvedCluster | None:
    """The cluster the job may act on: the one intake decided, if the policy still allows the command there.

    Scheduled jobs (beat) have no person behind them and name their cluster themselves.
    """
    if record.platform == SCHEDULE:
        scheduled(record, command)
        target = command.cluster_target
        return ports.clusters.resolve(target) if target is not None else None
    if not record.decision:
        raise errors.Forbidden(
            "the job carries no authorization decision, so it is not run",
            recommendation="send the command again (jobs queued before an upgrade of fluxops are not run)",
        )
    decision = Decision.from_json(record.decision)
    placed = recheck(
        ports.policy,
        decision,
        command,
        record.text,
        resolve=ports.clusters.resolve,
        stored=record.command,
        now=ports.pace.wall_clock(),
        started=change_started(ports.jobs, record.job_id),
    )
    where = None if placed is None else ResolvedCluster(cluster=placed.cluster, alias=placed.alias)
    if record.confirmed_by and where is not None:
        check_approvals(record, decision, ports, where)
    return where


def scheduled(record: JobRecord, command: Command) -> None:
    """Beat starts one kind of job: the rotation of one deploy key named by its id. Anything else that claims to
    come from the schedule (it carries no decision, so Redis alone would vouch for it) is refused."""
    key_id = command.key_id if isinstance(command, KeyRotate) else None
    only_a_key = key_id is not None and command == KeyRotate(key_id=key_id) and KEY_ID.fullmatch(key_id)
    if record.actor != SCHEDULER or not only_a_key:
        raise errors.Forbidden(
            "a scheduled job may only rotate one deploy key named by its id, so this one is not run",
            recommendation="scheduled jobs are started by fluxops's beat; send the command yourself instead",
        )


def refuse(job: Job, command: Command, refusal: errors.FluxopsError) -> Phase:
    """End the job refused: say why (privately and in its message) and audit the attempt."""
    target = command.cluster_target
    label = str(target) if target is not None else ""
    info = ErrorInfo(
        doing=doing_for(command, label or None),
        message=refusal.message,
        recommendation=refusal.recommendation,
        code=refusal.code,
    )
    job.before_final = None  # audited here, as a refusal
    audit_refusal(job.ports.audit, job.record, refusal.message, cluster=label)  # on record before anyone is told
    job.show(phase=Phase.FAILED, note="", error=info)
    job.reporter.private(job.view)
    return Phase.FAILED


def give_up(record: JobRecord, ports: JobPorts, reporter: Reporter, error: errors.FluxopsError) -> None:
    """The task layer ran out of retries, or met an error the job did not handle: end the job Failed, say why
    (privately: a job that is not a command, such as a plan or a push, says it in one line), audit it."""
    try:
        command = decode_command(record.command) if record.kind == "command" else None
    except errors.Forbidden:
        command = None
    if command is None:
        ports.jobs.put(record.job_id, "phase", Phase.FAILED.value)
        reporter.private(TextView(f"fluxops could not finish job {record.job_id}: {error.user_text()}", error=True))
        return
    target = command.cluster_target
    job = Job(record, ports, reporter, title_for(command, str(target) if target else None))
    job.before_final = lambda: _audit(job, command, None)
    fail(job, command, None, error)


def fail(job: Job, command: Command, where: ResolvedCluster | None, error: errors.FluxopsError) -> None:
    label = where.label if where else (str(command.cluster_target) if command.cluster_target else None)
    info = ErrorInfo(
        doing=doing_for(command, label), message=error.message, recommendation=error.recommendation, code=error.code
    )
    job.fail_running_steps()
    job.show(phase=Phase.FAILED, note="", error=info)
    job.reporter.private(job.view)


def _cluster_id(job: Job, where: ResolvedCluster | None) -> str:
    """The ARM id of the job's cluster: the one it ran on, else the one intake decided ("" when neither)."""
    if where is not None:
        return where.cluster.ref.arm_id
    if not job.record.decision:
        return ""
    try:
        return Decision.from_json(job.record.decision).target_id
    except errors.FluxopsError:
        return ""


def _audit(job: Job, command: Command, where: ResolvedCluster | None) -> None:
    if not command.mutates:
        return
    view = job.view
    if view.phase is Phase.SUCCEEDED:
        result = "accepted by Azure (--no-wait)" if job.no_wait is not None else "succeeded"
    elif view.error is not None:
        result = f"{view.phase.value}: {view.error.message}"
    else:
        result = view.phase.value
    steps_failed = any(s.state is StepState.FAILED for s in view.steps)
    if steps_failed and view.phase is Phase.SUCCEEDED:
        result = "succeeded with failed steps"
    result += break_glass.audit_note(command)
    if job.record.confirmed_by:
        approved = f"; approved by {job.record.approved_by}" if job.record.approved_by else ""
        result = f"{result} (confirmed by {job.record.confirmed_by}{approved})"
    cluster = where.label if where else (str(command.cluster_target) if command.cluster_target else "")
    if isinstance(command, FleetApply | FleetExtensionUpdate):
        cluster = f"clusters matching {selector_text(command.selector)}"
    job.ports.audit.append(
        AuditEntry(
            id="",
            time=datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds"),
            actor=job.record.actor_id,
            origin=job.record.origin,
            command=redact(f"/flux {job.record.text}"),
            cluster=cluster,
            job_id=job.job_id,
            result=result[:500],
            cluster_id="" if isinstance(command, FleetApply | FleetExtensionUpdate) else _cluster_id(job, where),
        )
    )
