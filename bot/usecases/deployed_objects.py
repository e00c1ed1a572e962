"""``deployed-object list|show``: the Flux objects of one configuration, read from its ARM ``statuses``.

A read: no lock, no audit. The objects are what Flux on the cluster last reported through Azure, so they need
no access to the cluster itself (``/flux events`` does).
"""

from __future__ import annotations

from bot import errors
from bot.commands import DeployedObjectList, DeployedObjectShow
from bot.models import ObjectStatus
from bot.usecases.context import Job, ResolvedCluster
from bot.views import DeployedObjects, Phase


def deployed_object_list(job: Job, command: DeployedObjectList, where: ResolvedCluster) -> None:
    state = job.ports.flux.get(where.cluster.ref, command.name)
    objects = DeployedObjects(config=command.name, cluster=where.cluster.ref, objects=state.statuses)
    note = "" if state.statuses else f"Flux has reported no objects of {command.name} yet"
    job.show(phase=Phase.SUCCEEDED, deployed=objects, note=note)


def deployed_object_show(job: Job, command: DeployedObjectShow, where: ResolvedCluster) -> None:
    state = job.ports.flux.get(where.cluster.ref, command.name)
    found = matching(state.statuses, command)
    listing = f"`/flux deployed-object list {command.name} -c {where.label}` lists its objects"
    what = f"{command.object_kind} '{command.object_name}'"
    if command.object_namespace is not None:
        what += f" in namespace '{command.object_namespace}'"
    if not found:
        raise errors.NotFound(
            f"flux configuration '{command.name}' on cluster '{where.label}' reports no {what}",
            recommendation=listing,
        )
    if len(found) > 1:
        namespaces = ", ".join(sorted(obj.namespace or "(none)" for obj in found))
        raise errors.InvalidRequest(
            f"flux configuration '{command.name}' reports {len(found)} objects {what} (namespaces {namespaces})",
            recommendation="say which with `--object-namespace NAMESPACE`",
        )
    objects = DeployedObjects(config=command.name, cluster=where.cluster.ref, objects=found, detail=True)
    job.show(phase=Phase.SUCCEEDED, deployed=objects)


def matching(statuses: tuple[ObjectStatus, ...], command: DeployedObjectShow) -> tuple[ObjectStatus, ...]:
    """The objects the command names: kind in any case, the name exactly, the namespace when it gives one."""
    return tuple(
        obj
        for obj in statuses
        if obj.kind.lower() == command.object_kind.lower()
        and obj.name == command.object_name
        and (command.object_namespace is None or (obj.namespace or "") == command.object_namespace)
    )
