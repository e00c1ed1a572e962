"""``/flux events NAME -c CLUSTER``: what Flux's controllers said about one configuration's objects, read from
the cluster's own Kubernetes API (``flux events`` for a configuration fluxops manages through ARM)."""

from __future__ import annotations

from bot import errors
from bot.cluster_objects import FLUX_KINDS
from bot.commands import Events
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.failure_events import config_objects, read_events, rfc3339
from bot.views import EventList, Phase

#: the newest events shown; the others are counted ("12 more — narrow with --kind or --since")
SHOWN = 30


def no_cluster_access(name: str, label: str) -> errors.ConfigurationError:
    """fluxops runs with cluster access off: it reads ARM only, which has no Kubernetes events."""
    return errors.ConfigurationError(
        f"fluxops has no access to the Kubernetes API of cluster '{label}' (cluster access is off), so it cannot "
        "read Flux's events",
        recommendation="whoever runs fluxops turns it on with FLUXOPS_CLUSTER_ACCESS=on in the workers' environment; "
        f"meanwhile `/flux status {name} -c {label}` shows what Azure reports",
    )


def period(seconds: int) -> str:
    """``3600`` -> ``1h``, ``9000`` -> ``2h30m``: how ``--since`` is written."""
    parts = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def events(job: Job, command: Events, where: ResolvedCluster) -> None:
    """The events of the configuration's objects (``--kind``: of that kind only) seen within ``--since``."""
    api = job.ports.cluster_api
    if api is None:
        raise no_cluster_access(command.name, where.label)
    cluster = where.cluster.ref
    state = job.ports.flux.get(cluster, command.name)
    objects = config_objects(state, command.name)
    if command.kind is not None:
        kinds = [kind for kind in FLUX_KINDS if any(ref.kind == kind for ref in objects)]
        objects = [ref for ref in objects if ref.kind == command.kind]
        if not objects:
            raise errors.InvalidRequest(
                f"flux configuration '{command.name}' on cluster '{where.label}' has no {command.kind}",
                recommendation="its objects are of kind "
                + ", ".join(f"`{kind}`" for kind in kinds)
                + f": for example `/flux events {command.name} -c {where.label} --kind {kinds[0]}`, or leave "
                "`--kind` out for all of them",
            )
    now = job.ports.pace.wall_clock()
    found = read_events(api, cluster, objects, since=rfc3339(now - command.since_seconds))
    shown = tuple(found[-SHOWN:])
    listing = EventList(events=shown, as_of=rfc3339(now), more=len(found) - len(shown))
    what = f"its {command.kind} objects" if command.kind else "its objects"
    note = "" if found else f"no events about {what} in the last {period(command.since_seconds)}"
    job.show(phase=Phase.SUCCEEDED, events=listing, config=None, note=note)
