"""`/flux v1 list` and `/flux v1 migrate`: retired Flux v1 configurations, and moving one to Flux v2.

A migration shows the v2 configuration it will create and waits for Confirm; then it deletes the v1 configuration
(microsoft.flux cannot be installed while one exists), and creates the v2 one exactly as `/flux config create` does
(bot.usecases.configs: the extension installed when missing, a deploy key for an SSH repository, watched to
Compliant). Everything that `config create` would refuse, a v2 configuration of the same name, and other v1
configurations that would keep the extension from installing are checked before the Confirm and again just before
the delete, so nothing is refused once v1 is gone. Every step is recorded by job id, so a restarted worker carries
on; the v1 fields are kept in the job from the start, because once deleted Azure no longer has them (and no longer
creates v1 configurations), and a failed v2 tells how to fix or create it.
"""

from __future__ import annotations

from dataclasses import replace

from bot import errors
from bot.commands import ConfigCreate, Run, V1List, V1Migrate
from bot.grammar import parse
from bot.models import GitSource, V1Config
from bot.ports import LongRunning, V1Configs
from bot.usecases import configs, key_provisioning
from bot.usecases.context import Job, ResolvedCluster
from bot.v1_migration import (
    Migration,
    az_v1_delete,
    https_url,
    migration,
    v1_from_json,
    v1_to_json,
    v2_command,
)
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
        recommendation=f"delete the v1 one yourself once v2 works: `{az_v1_delete(where.cluster.ref, name)}` "
        f"(`/flux config show {name} -c {where.label}` shows v2)",
    )


def _refuse_unkeyable(v1: V1Config, plan: Migration, where: ResolvedCluster) -> None:
    """An SSH repository fluxops cannot register a deploy key on (Azure DevOps, any host but GitHub): say how to
    move it by hand over HTTPS before anything is deleted."""
    if not plan.deploy_key:
        return
    url = getattr(plan.spec.source, "url", "")
    try:
        key_provisioning.key_repository(url)
    except errors.InvalidRequest as why:
        https = https_url(url)
        by_hand = v2_command(_with_url(plan, https or "HTTPS_URL"), where.label, https_user="USER")
        raise errors.InvalidRequest(
            f"Flux v1 configuration '{v1.name}' reads {v1.repository_url}, and fluxops cannot give Flux v2 a key for "
            f"it: {why.message}",
            recommendation=f"move it yourself over HTTPS with a token fluxops holds (nothing was changed): delete v1 "
            f"with `{az_v1_delete(where.cluster.ref, v1.name)}` (this cannot be undone), then `{by_hand}`",
        ) from None


def _with_url(plan: Migration, url: str) -> Migration:
    source = plan.spec.source
    assert isinstance(source, GitSource)
    return replace(plan, spec=replace(plan.spec, source=replace(source, url=url)), deploy_key=False)


def _refuse_other_v1(job: Job, where: ResolvedCluster, v1: V1Config) -> None:
    """Azure installs microsoft.flux only once no v1 configuration is left: deleting one of several would leave the
    cluster with neither (unless the extension is there already). Refused with the steps that work: the others
    deleted by hand (their v2 commands kept first), this one migrated, the others created as v2."""
    others = sorted((c for c in _port(job).list(where.cluster.ref) if c.name != v1.name), key=lambda c: c.name)
    if not others or job.ports.extensions.find_flux(where.cluster.ref) is not None:
        return
    label, ref = where.label, where.cluster.ref
    deletes = ", ".join(f"`{az_v1_delete(ref, c.name)}`" for c in others)
    creates = ", ".join(f"`{v2_command(migration(c), label)}`" for c in others)
    raise errors.InvalidRequest(
        f"cluster '{label}' has other Flux v1 configurations ({', '.join(c.name for c in others)}), and Azure "
        f"installs the microsoft.flux extension only once none is left: migrating '{v1.name}' alone would delete "
        "it and then fail (nothing was changed)",
        recommendation=f"keep the v2 commands below, then delete the others yourself (this cannot be undone): "
        f"{deletes}; then `/flux v1 migrate {v1.name} -c {label}`; then create each of the others as Flux v2: "
        f"{creates}",
    )


def _refuse_unwritable(v1: V1Config, plan: Migration, where: ResolvedCluster) -> None:
    """The v2 configuration must be one `/flux config create` takes (a branch git accepts, paths without spaces):
    its command is read by the grammar, as typed."""
    answer = parse(v2_command(plan, where.label).removeprefix("/flux "))
    if isinstance(answer, Run):
        return
    why = getattr(answer, "text", "").split("\n")[0]
    raise errors.InvalidRequest(
        f"Flux v1 configuration '{v1.name}' (params '{v1.operator_params or ''}') maps to a Flux v2 configuration "
        f"fluxops cannot create: {why}",
        recommendation="rename that branch or directory in the repository, then move v1 yourself: delete it with "
        f"`{az_v1_delete(where.cluster.ref, v1.name)}` (this cannot be undone) and create v2 with "
        f"`/flux config create {v1.name} -c {where.label} ...` (`/flux help config create`; nothing was changed)",
    )


def _create(command: V1Migrate, plan: Migration) -> ConfigCreate:
    return ConfigCreate(
        target=command.target, spec=plan.spec, install_extension=True, generate_deploy_key=plan.deploy_key
    )


def _check(job: Job, command: V1Migrate, where: ResolvedCluster, v1: V1Config, plan: Migration) -> None:
    """Everything `config create` would refuse, and what makes a migration fail half-way: run before the Confirm
    and again just before the v1 delete, so a refusal never comes after v1 is gone."""
    _refuse_unkeyable(v1, plan, where)
    _refuse_unwritable(v1, plan, where)
    configs.preflight(job, _create(command, plan), where)
    _refuse_existing_v2(job, where, plan.spec.name)
    _refuse_other_v1(job, where, v1)


def recovery(v1: V1Config, plan: Migration, label: str, *, v2_exists: bool) -> str:
    """What was deleted, its fields, and the way forward: fix v2 when it exists, else create it by hand (Azure no
    longer creates Flux v1 configurations, so there is no way back to v1)."""
    kept = (
        f"Flux v1 configuration '{v1.name}' was deleted (repository {v1.repository_url}, operator "
        f"'{v1.operator_instance_name or v1.name}' in namespace {v1.operator_namespace or 'default'}, "
        f"params '{v1.operator_params or ''}', scope {v1.operator_scope or 'cluster'}, Helm operator "
        f"{'on' if v1.enable_helm_operator else 'off'}); Azure no longer accepts new Flux v1 configurations "
        "(`az k8s-configuration create`), so the way on is Flux v2"
    )
    name = plan.spec.name
    if v2_exists:
        return (
            f"{kept}: `/flux status {name} -c {label}` shows why it fails; fix it with "
            f"`/flux config update {name} -c {label} ...`"
        )
    return f"{kept}: create it once the cause is fixed with `{v2_command(plan, label)}`"


def _v2_exists(job: Job, where: ResolvedCluster, name: str) -> bool:
    try:
        job.ports.flux.get(where.cluster.ref, name)
    except errors.NotFound:
        return False
    except errors.FluxopsError:
        return True  # cannot tell: the status command says more
    return True


def v1_migrate(job: Job, command: V1Migrate, where: ResolvedCluster) -> None:
    label, ref = where.label, where.cluster.ref
    v1 = _kept(job, where, command.name)
    plan = migration(v1)
    if not job.record.confirmed_by:
        _check(job, command, where, v1, plan)
        steps = (
            f"delete Flux v1 configuration {v1.name} ({v1.repository_url}); its operator leaves the cluster. "
            "This cannot be undone: Azure no longer creates Flux v1 configurations",
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
        begun = job.done(_DELETE) or job.ports.jobs.get(job.job_id, f"token:{_DELETE}") is not None
        if not begun:
            _check(job, command, where, v1, plan)  # again: the cluster or the policy may have changed since
        text = f"delete Flux v1 configuration {v1.name}"
        job.step(text)

        # DELETE is idempotent (gone: 204): a restarted worker issues it again instead of resuming a poller
        def delete(_token: str = "") -> LongRunning[None]:
            return port.begin_delete(ref, v1.name)

        job.operation(_DELETE, delete, delete)
        job.finish_step(text, f"deleted Flux v1 configuration {v1.name}")
    try:
        configs.config_create(job, _create(command, plan), where)
    except errors.FluxopsError as error:
        if not error.retryable:
            way_on = recovery(v1, plan, label, v2_exists=_v2_exists(job, where, plan.spec.name))
            error.recommendation = "; ".join(x for x in (error.recommendation, way_on) if x)
        raise
    if job.view.phase is not Phase.SUCCEEDED and job.view.error is not None:
        error_info = job.view.error
        way_on = recovery(v1, plan, label, v2_exists=_v2_exists(job, where, plan.spec.name))
        recommendation = "; ".join(x for x in (error_info.recommendation, way_on) if x)
        job.show(error=job.error(error_info.doing, error_info.message, recommendation, error_info.code))
        job.reporter.private(job.view)
    elif job.view.phase is Phase.SUCCEEDED:
        job.show(note=f"Flux v1 configuration {v1.name} is now Flux v2 configuration {plan.spec.name}")
