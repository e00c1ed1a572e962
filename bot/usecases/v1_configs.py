"""`/flux v1 list` and `/flux v1 migrate`: retired Flux v1 configurations, and moving one to Flux v2.

A migration shows the v2 configuration it will create and waits for Confirm; then it deletes the v1 configuration
(microsoft.flux cannot be installed while one exists), and creates the v2 one exactly as `/flux config create` does
(bot.usecases.configs: the extension installed when missing, a deploy key for an SSH repository, watched to
Compliant). Every step is recorded by job id, so a restarted worker carries on; the v1 fields are kept in the job
from the start, because once deleted Azure no longer has them, and a failed v2 tells how to bring v1 back.
"""

from __future__ import annotations

from bot import errors
from bot.commands import ConfigCreate, V1List, V1Migrate
from bot.models import V1Config
from bot.ports import LongRunning, V1Configs
from bot.usecases import configs
from bot.usecases.context import Job, ResolvedCluster
from bot.v1_migration import Migration, az_v1_create, migration, v1_from_json, v1_to_json, v2_command
from bot.views import ConfirmView, Phase, mention

_KEPT = "v1:config"
_DELETE = "v1-delete"


def _port(job: Job) -> V1Configs:
    if job.ports.v1 is None:
        raise errors.ConfigurationError(
            "this fluxops worker is not wired to read Flux v1 configurations",
            recommendation="run a worker built by workers/wiring.py (it reads sourceControlConfigurations)",
        )
    return job.ports.v1


def v1_list(job: Job, command: V1List, where: ResolvedCluster) -> None:
    found = tuple(_port(job).list(where.cluster.ref))
    note = (
        f"`/flux v1 migrate NAME -c {where.label}` moves one to Flux v2"
        if found
        else f"no Flux v1 configurations on {where.label}"
    )
    job.show(phase=Phase.SUCCEEDED, v1_configs=found, note=note)


def _kept(job: Job, where: ResolvedCluster, name: str) -> V1Config:
    """The v1 configuration as the job first read it (Azure forgets it once deleted)."""
    saved = job.ports.jobs.get(job.job_id, _KEPT)
    if saved is not None:
        return v1_from_json(saved)
    try:
        v1 = _port(job).get(where.cluster.ref, name)
    except errors.NotFound:
        raise errors.NotFound(
            f"cluster '{where.label}' has no Flux v1 configuration '{name}'",
            recommendation=f"`/flux v1 list -c {where.label}` lists them",
        ) from None
    job.ports.jobs.put(job.job_id, _KEPT, v1_to_json(v1))
    return v1


def _refuse_existing_v2(job: Job, where: ResolvedCluster, name: str) -> None:
    try:
        job.ports.flux.get(where.cluster.ref, name)
    except errors.NotFound:
        return
    raise errors.InvalidRequest(
        f"cluster '{where.label}' already has a Flux v2 configuration '{name}', so v1 '{name}' cannot be migrated "
        "to it",
        recommendation=f"delete the v1 one yourself once v2 works: `/flux config show {name} -c {where.label}`",
    )


def recovery(v1: V1Config, plan: Migration, label: str) -> str:
    """What was deleted and how to get back: the v1 fields, the az command of the v1 tutorial, the v2 commands."""
    return (
        f"Flux v1 configuration '{v1.name}' was deleted (repository {v1.repository_url}, operator "
        f"'{v1.operator_instance_name or v1.name}' in namespace {v1.operator_namespace or 'default'}, "
        f"params '{v1.operator_params or ''}', scope {v1.operator_scope or 'cluster'}, Helm operator "
        f"{'on' if v1.enable_helm_operator else 'off'}). Fix v2 with `/flux config update {plan.spec.name} -c {label} "
        f"...` (`/flux status {plan.spec.name} -c {label}` shows why it fails), or remove it with "
        f"`/flux config delete {plan.spec.name} -c {label}` and recreate v1, where Azure still accepts it: "
        f"`{az_v1_create(v1, v1.cluster)}`"
    )


def v1_migrate(job: Job, command: V1Migrate, where: ResolvedCluster) -> None:
    label, ref = where.label, where.cluster.ref
    v1 = _kept(job, where, command.name)
    plan = migration(v1)
    if not job.record.confirmed_by:
        _refuse_existing_v2(job, where, command.name)
        steps = (
            f"delete Flux v1 configuration {v1.name} ({v1.repository_url}); its operator leaves the cluster",
            "install the microsoft.flux extension if the cluster has none",
            f"create the equivalent Flux v2 configuration: {v2_command(plan, label)}",
            f"watch {plan.spec.name} until Flux reports Compliant",
        )
        job.confirm(
            ConfirmView(
                job_id=job.job_id,
                actor=job.record.actor,
                title=job.view.title,
                summary=f"Migrate Flux v1 configuration {v1.name} on {label} to Flux v2.",
                consequences=(*steps, *plan.notes),
                confirm_label="Migrate",
                approver=f"an admin of {label}",
            )
        )
        return
    job.show(phase=Phase.RUNNING, note=f"confirmed by {mention(job.record.confirmed_by)}")
    port = _port(job)
    with job.ports.locks.hold(configs.lock_key(ref, f"v1/{v1.name}"), job.job_id):
        text = f"delete Flux v1 configuration {v1.name}"
        job.step(text)

        # DELETE is idempotent (gone: 204): a restarted worker issues it again instead of resuming a poller
        def delete(_token: str = "") -> LongRunning[None]:
            return port.begin_delete(ref, v1.name)

        job.operation(_DELETE, delete, delete)
        job.finish_step(text, f"deleted Flux v1 configuration {v1.name}")
    create = ConfigCreate(
        target=command.target, spec=plan.spec, install_extension=True, generate_deploy_key=plan.deploy_key
    )
    try:
        configs.config_create(job, create, where)
    except errors.FluxopsError as error:
        if not error.retryable:
            error.recommendation = "; ".join(x for x in (error.recommendation, recovery(v1, plan, label)) if x)
        raise
    if job.view.phase is not Phase.SUCCEEDED and job.view.error is not None:
        error_info = job.view.error
        recommendation = "; ".join(x for x in (error_info.recommendation, recovery(v1, plan, label)) if x)
        job.show(error=job.error(error_info.doing, error_info.message, recommendation, error_info.code))
        job.reporter.private(job.view)
    elif job.view.phase is Phase.SUCCEEDED:
        job.show(note=f"Flux v1 configuration {v1.name} is now Flux v2 configuration {plan.spec.name}")
