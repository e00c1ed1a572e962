"""`/flux watch`, `/flux unwatch`, `/flux watches`: which channels follow which configurations.

A watching channel gets one message per push traced to the configuration (bot.usecases.push_trace), and one
alert per incident when the configuration breaks (bot.usecases.watch_scan). A selector watch
(`/flux watch [NAME] --clusters env=prod`) gets the alerts of every configuration (named NAME) on the clusters
the selector matches when the scan runs.
Subscribing changes nothing in Azure; the configuration must exist, so a typo does not subscribe a
channel to something that never reports.
"""

from __future__ import annotations

from bot import errors
from bot.commands import Unwatch, UnwatchClusters, Watch, WatchClusters, WatchList
from bot.fleet_decision import selector_text
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
        "per push traced to it, and one alert per incident when it breaks. `/flux unwatch` stops it.",
    )


def unwatch(job: Job, command: Unwatch, where: ResolvedCluster) -> None:
    channel = command.channel or job.record.channel
    removed = _subscriptions(job).remove(where.cluster.ref.arm_id, command.name, channel)
    note = "no longer gets" if removed else "was not getting"
    job.show(phase=Phase.SUCCEEDED, note=f"<#{channel}> {note} the results of `{command.name}` on {where.label}.")


def watch_list(job: Job, command: WatchList, where: ResolvedCluster | None) -> None:
    subscriptions = _subscriptions(job)
    entries = subscriptions.list(where.cluster.ref.arm_id if where else None)
    selectors = subscriptions.selectors() if where is None else []
    if not entries and not selectors:
        job.show(
            phase=Phase.SUCCEEDED,
            note="No channel watches any configuration" + (f" on {where.label}." if where else "."),
        )
        return
    lines = [f"• `{config}` on {cluster.rsplit('/', 1)[-1]} → <#{channel}>" for cluster, config, channel in entries]
    lines += [
        f"• {f'`{config}`' if config else 'every configuration'} on clusters `{selector or 'all'}` → <#{channel}>"
        for selector, config, channel in selectors
    ]
    job.show(phase=Phase.SUCCEEDED, note="\n".join(lines))


def watch_clusters(job: Job, command: WatchClusters) -> None:
    """Subscribe a channel to the alerts of the clusters ``command.selector`` matches (now and later)."""
    channel = command.channel or job.record.channel
    selector = selector_text(command.selector) if command.selector else ""
    added = _subscriptions(job).add_selector(selector, command.name or "", channel)
    what = f"`{command.name}`" if command.name else "every configuration"
    matched = len(job.ports.clusters.rows(command.selector))
    already = "" if added else " (it already did)"
    job.show(
        phase=Phase.SUCCEEDED,
        note=f"<#{channel}> gets an alert per incident of {what} on the clusters matching `{selector or 'all'}` "
        f"({matched} now){already}. `/flux unwatch --clusters {selector or 'all'}` stops it.",
    )


def unwatch_clusters(job: Job, command: UnwatchClusters) -> None:
    channel = command.channel or job.record.channel
    selector = selector_text(command.selector) if command.selector else ""
    removed = _subscriptions(job).remove_selector(selector, command.name or "", channel)
    what = f"`{command.name}`" if command.name else "every configuration"
    note = "no longer gets" if removed else "was not getting"
    job.show(phase=Phase.SUCCEEDED, note=f"<#{channel}> {note} the alerts of {what} on `{selector or 'all'}`.")
