"""`/flux watch`, `/flux unwatch`, `/flux watches`: which channels follow which configurations.

A watching channel gets one message per push traced to the configuration (bot.usecases.push_trace).
Subscribing changes nothing in Azure; the configuration must exist, so a typo does not subscribe a
channel to something that never reports.
"""

from __future__ import annotations

from bot import errors
from bot.commands import Unwatch, Watch, WatchList
from bot.ports import Subscriptions
from bot.usecases.context import Job, ResolvedCluster
from bot.views import Phase


def _subscriptions(job: Job) -> Subscriptions:
    if job.ports.chat.subscriptions is None:
        raise errors.ConfigurationError(
            "this fluxops worker keeps no subscriptions", recommendation="ask your fluxops admins to check its wiring"
        )
    return job.ports.chat.subscriptions


def watch(job: Job, command: Watch, where: ResolvedCluster) -> None:
    subscriptions = _subscriptions(job)
    job.ports.flux.get(where.cluster.ref, command.name)  # NotFound says which configuration is missing
    channel = command.channel or job.record.channel
    added = subscriptions.add(where.cluster.ref.arm_id, command.name, channel)
    already = "" if added else " (it already did)"
    job.show(
        phase=Phase.SUCCEEDED,
        note=f"<#{channel}> gets the results of `{command.name}` on {where.label}{already}: one message "
        "per push traced to it. `/flux unwatch` stops it.",
    )


def unwatch(job: Job, command: Unwatch, where: ResolvedCluster) -> None:
    channel = command.channel or job.record.channel
    removed = _subscriptions(job).remove(where.cluster.ref.arm_id, command.name, channel)
    note = "no longer gets" if removed else "was not getting"
    job.show(phase=Phase.SUCCEEDED, note=f"<#{channel}> {note} the results of `{command.name}` on {where.label}.")


def watch_list(job: Job, command: WatchList, where: ResolvedCluster | None) -> None:
    entries = _subscriptions(job).list(where.cluster.ref.arm_id if where else None)
    if not entries:
        job.show(
            phase=Phase.SUCCEEDED,
            note="No channel watches any configuration" + (f" on {where.label}." if where else "."),
        )
        return
    lines = [f"• `{config}` on {cluster.rsplit('/', 1)[-1]} → <#{channel}>" for cluster, config, channel in entries]
    job.show(phase=Phase.SUCCEEDED, note="\n".join(lines))
