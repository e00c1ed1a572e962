"""The microsoft.flux extension: create, update, show, and delete (never while configurations exist); and the
list of every extension on a cluster."""

from __future__ import annotations

from bot import errors
from bot.commands import ExtensionCreate, ExtensionDelete, ExtensionList, ExtensionShow, ExtensionUpdate
from bot.models import ClusterRef
from bot.usecases.configs import lock_key
from bot.usecases.context import Job, ResolvedCluster
from bot.views import ConfirmView, Phase, mention


def _refuse_while_configs(job: Job, cluster: ClusterRef, label: str, name: str) -> None:
    names = [c.name for c in job.ports.flux.list(cluster)]
    if names:
        raise errors.InvalidRequest(
            f"the {name} extension cannot be removed from '{label}' while flux configurations exist "
            f"({', '.join(names)}); removing it first leaves the cluster unstable",
            recommendation=f"delete them first: `/flux config delete {names[0]} -c {label}`",
        )


def extension_create(job: Job, command: ExtensionCreate, where: ResolvedCluster) -> None:
    cluster, label = where.cluster.ref, where.label
    ports = job.ports
    with ports.locks.hold(lock_key(cluster, "extension"), job.job_id):
        job.show(phase=Phase.RUNNING, note="")
        if ports.jobs.get(job.job_id, "token:write") is None:
            existing = ports.extensions.find_flux(cluster)
            if existing is not None:
                raise errors.InvalidRequest(
                    f"cluster '{label}' already has the microsoft.flux extension ('{existing.name}', "
                    f"{existing.current_version or existing.version or 'version unknown'})",
                    recommendation=f"change it with `/flux extension update -c {label} ...`",
                )
        text = f"install {command.spec.extension_type} as '{command.spec.name}'"
        job.step(text)
        job.operation("write", lambda: ports.extensions.begin_create(cluster, command.spec), ports.extensions.resume)
        job.finish_step(text)
    job.show(phase=Phase.SUCCEEDED, extension=ports.extensions.get(cluster, command.spec.name))


def extension_update(job: Job, command: ExtensionUpdate, where: ResolvedCluster) -> None:
    cluster = where.cluster.ref
    ports = job.ports
    with ports.locks.hold(lock_key(cluster, "extension"), job.job_id):
        job.show(phase=Phase.RUNNING, note="")
        text = f"update extension {command.name}"
        job.step(text)
        begin = lambda: ports.extensions.begin_update(cluster, command.name, command.patch)  # noqa: E731
        job.operation("write", begin, ports.extensions.resume)
        job.finish_step(text)
    job.show(phase=Phase.SUCCEEDED, extension=ports.extensions.get(cluster, command.name))


def extension_delete(job: Job, command: ExtensionDelete, where: ResolvedCluster) -> None:
    cluster, label = where.cluster.ref, where.label
    ports = job.ports
    if not job.record.confirmed_by:
        _refuse_while_configs(job, cluster, label, command.name)
        state = ports.extensions.get(cluster, command.name)
        job.confirm(
            ConfirmView(
                job_id=job.job_id,
                actor=job.record.actor,
                title=job.view.title,
                summary=f"Uninstall the {state.extension_type} extension '{command.name}' from {label}.",
                consequences=(
                    f"the Flux controllers ({state.current_version or state.version or 'unknown version'}) "
                    "are removed from the cluster",
                    "no flux configuration exists on the cluster now; new ones need the extension again",
                ),
                confirm_label="Uninstall",
                approver=f"an admin of {label}",
            )
        )
        return
    with ports.locks.hold(lock_key(cluster, "extension"), job.job_id):
        job.show(phase=Phase.RUNNING, note=f"confirmed by {mention(job.record.confirmed_by)}")
        if not job.done("write") and ports.jobs.get(job.job_id, "token:write") is None:
            _refuse_while_configs(job, cluster, label, command.name)
        text = f"uninstall extension {command.name}"
        job.step(text)
        begin = lambda: ports.extensions.begin_delete(cluster, command.name, force=command.force)  # noqa: E731
        job.operation("write", begin, ports.extensions.resume)
        job.finish_step(text, f"uninstalled extension {command.name}")
    job.show(phase=Phase.SUCCEEDED)


def extension_show(job: Job, command: ExtensionShow, where: ResolvedCluster) -> None:
    job.show(phase=Phase.SUCCEEDED, extension=job.ports.extensions.get(where.cluster.ref, command.name))


def extension_list(job: Job, command: ExtensionList, where: ResolvedCluster) -> None:
    """Every extension on the cluster, microsoft.flux or not (az's ``k8s-extension list``)."""
    found = tuple(job.ports.extensions.list(where.cluster.ref))
    job.show(phase=Phase.SUCCEEDED, extensions=found, note="" if found else f"no extensions on {where.label}")
