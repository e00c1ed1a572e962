"""`/flux watch`, `/flux unwatch`, `/flux watches`: which channels follow which configurations.

A watching channel gets one message per push traced to the configuration (bot.usecases.push_trace), and one
alert per incident when the configuration breaks (bot.usecases.watch_scan). A selector watch
(`/flux watch [NAME] --clusters env=prod`) gets the alerts of every configuration (named NAME) on the clusters
the selector matches when the scan runs.
Subscribing changes nothing in Azure; the configuration must exist, so a typo does not subscribe a
channel to something that never reports. Each watch records who set it up (bot.watches): the channel hears only
about the clusters that person may see, as the policy says when a message goes out.
"""

from __future__ import annotations

from bot import errors
from bot.commands import Unwatch, UnwatchClusters, Watch, WatchClusters, WatchList
from bot.fleet_decision import selector_text
from bot.policy import Identity
from bot.ports import Subscriptions
from bot.usecases.context import Job, ResolvedCluster
from bot.views import Phase
from bot.watches import WatchEntry


def _subscriptions(job: Job) -> Subscriptions:
    if job.ports.chat.subscriptions is None:
        raise errors.ConfigurationError(
            "this fluxops worker keeps no subscriptions", recommendation="ask your fluxops admins to check its wiring"
        )
    return job.ports.chat.subscriptions


def _creator(job: Job) -> Identity:
    """Who sets the watch up, as intake decided: the channel will hear only what they may see."""
    identity = job.identity
    if identity is None:
        raise errors.Forbidden(
            "a watch needs the person who sets it up, and this job carries no decision naming one",
            recommendation="type `/flux watch` in Slack",
        )
    return identity


def watch(job: Job, command: Watch, where: ResolvedCluster) -> None:
    subscriptions = _subscriptions(job)
    job.ports.flux.get(where.cluster.ref, command.name)  # NotFound says which configuration is missing
    channel = command.channel or job.record.channel
    added = subscriptions.add(where.cluster.ref.arm_id, command.name, channel, _creator(job))
    already = "" if added else " (it already did)"
    job.show(
        phase=Phase.SUCCEEDED,
        note=f"<#{channel}> gets the results of `{command.name}` on {where.label}{already}: one message "
        "per push traced to it, and one alert per incident when it breaks. `/flux unwatch` stops it.",
    )


def unwatch(job: Job, command: Unwatch, where: ResolvedCluster) -> None:
    channel = command.channel or job.record.channel
    removed = _subscriptions(job).remove(where.cluster.ref.arm_id, command.name, channel)
    checks = job.ports.chat.watch_checks
    if removed and checks is not None:  # an alert still open in that channel is closed in its thread
        checks.check(where.cluster.ref.arm_id, command.name)
    note = "no longer gets" if removed else "was not getting"
    job.show(phase=Phase.SUCCEEDED, note=f"<#{channel}> {note} the results of `{command.name}` on {where.label}.")


def watch_list(job: Job, command: WatchList, where: ResolvedCluster | None) -> None:
    subscriptions = _subscriptions(job)
    entries = [e for e in subscriptions.list(where.cluster.ref.arm_id if where else None) if job.may_see_named(e.where)]
    selectors = subscriptions.selectors() if where is None else []
    if not entries and not selectors:
        job.show(
            phase=Phase.SUCCEEDED,
            note="No channel watches any configuration" + (f" on {where.label}." if where else "."),
        )
        return
    lines = [f"• `{e.config}` on {e.where.rsplit('/', 1)[-1]} → <#{e.channel}>{_by(e)}" for e in entries]
    lines += [
        f"• {f'`{e.config}`' if e.config else 'every configuration'} on clusters `{e.where or 'all'}` "
        f"→ <#{e.channel}>{_by(e)}"
        for e in selectors
    ]
    job.show(phase=Phase.SUCCEEDED, note="\n".join(lines))


def watch_clusters(job: Job, command: WatchClusters) -> None:
    """Subscribe a channel to the alerts of the clusters ``command.selector`` matches (now and later)."""
    channel = command.channel or job.record.channel
    selector = selector_text(command.selector) if command.selector else ""
    added = _subscriptions(job).add_selector(selector, command.name or "", channel, _creator(job))
    what = f"`{command.name}`" if command.name else "every configuration"
    matched = sum(1 for row in job.ports.clusters.rows(command.selector) if job.may_see(row.cluster, row.alias))
    already = "" if added else " (it already did)"
    job.show(
        phase=Phase.SUCCEEDED,
        note=f"<#{channel}> gets an alert per incident of {what} on the clusters matching `{selector or 'all'}` "
        f"({matched} now){already}, of those you may see (as the policy says when an alert goes out). "
        f"`/flux unwatch --clusters {selector or 'all'}` stops it.",
    )


def unwatch_clusters(job: Job, command: UnwatchClusters) -> None:
    channel = command.channel or job.record.channel
    selector = selector_text(command.selector) if command.selector else ""
    removed = _subscriptions(job).remove_selector(selector, command.name or "", channel)
    what = f"`{command.name}`" if command.name else "every configuration"
    note = "no longer gets" if removed else "was not getting"
    job.show(phase=Phase.SUCCEEDED, note=f"<#{channel}> {note} the alerts of {what} on `{selector or 'all'}`.")


def _by(entry: WatchEntry) -> str:
    if entry.creator is None:
        return " (set up before fluxops recorded who watches: it tells nothing until `/flux watch` is run again)"
    return f" (set up by {entry.creator.mention})"
