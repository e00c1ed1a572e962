"""Which channels hear about which configurations: the watches, matched to the inventory and checked against the
policy in force now.

A watch names one cluster (`/flux watch NAME -c CLUSTER`) or a selector (`/flux watch [NAME] --clusters env=prod`,
every matching cluster, including clusters that match later). Either way a channel is routed a cluster only while
its watch's creator has a role on that cluster (bot.watches.may_tell): everything the alert shows — object names,
Flux's messages and events, who changed what — is what that person could read with `/flux status`. A channel that
still watches but may no longer be told is ``refused``: it is told nothing, not even that its alert is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.inventory import matches_selector
from bot.policy import Policy
from bot.ports import Subscriptions
from bot.usecases.context import ClusterDirectory, ResolvedCluster
from bot.watches import WatchEntry, may_tell

EVERY = "*"


def parse_selector(text: str) -> tuple[tuple[str, str], ...]:
    """``env=prod,region=weu`` (as stored) back into pairs; "" is every cluster."""
    pairs = (item.partition("=") for item in text.split(",") if item)
    return tuple((key, value) for key, _, value in pairs)


@dataclass
class Watched:
    """The channels watching the configurations of one cluster, by configuration name (lower case) or every one:
    those that may be told about it now, and those whose watch's creator may not see it (any more)."""

    cluster: ResolvedCluster
    by_config: dict[str, set[str]] = field(default_factory=dict)
    refused_by_config: dict[str, set[str]] = field(default_factory=dict)

    def channels(self, config: str) -> set[str]:
        return self.by_config.get(config.lower(), set()) | self.by_config.get(EVERY, set())

    def refused(self, config: str) -> set[str]:
        """Channels watching ``config`` that may not be told: ``channels`` has them too when another of their
        watches may."""
        found = self.refused_by_config.get(config.lower(), set()) | self.refused_by_config.get(EVERY, set())
        return found - self.channels(config)

    def add(self, config: str, channel: str, allowed: bool) -> None:
        into = self.by_config if allowed else self.refused_by_config
        into.setdefault(config.lower() or EVERY, set()).add(channel)


@dataclass
class Routes:
    """Cluster id (lower case) -> who watches what on it; and every cluster of the inventory, by id (lower case)."""

    watched: dict[str, Watched]
    inventory: dict[str, ResolvedCluster]

    def told(self) -> list[Watched]:
        """The clusters some channel may be told about: the ones the scan reads."""
        return [w for w in self.watched.values() if w.by_config]


def routes(subscriptions: Subscriptions, clusters: ClusterDirectory, policy: Policy) -> Routes:
    """Both kinds of watch matched to the inventory, each channel checked against ``policy`` for each cluster."""
    every = list(clusters.all())
    by_id = {c.cluster.ref.arm_id.lower(): c for c in every}
    found: dict[str, Watched] = {}

    def route(where: ResolvedCluster, entry: WatchEntry) -> None:
        watched = found.setdefault(where.cluster.ref.arm_id.lower(), Watched(where))
        watched.add(entry.config, entry.channel, may_tell(policy, entry, where.cluster, where.alias))

    for entry in subscriptions.list():
        cluster = by_id.get(entry.where.lower())
        if cluster is not None:  # not in the inventory (any more): nothing to read
            route(cluster, entry)
    for entry in subscriptions.selectors():
        pairs = parse_selector(entry.where)
        for cluster in every:
            if matches_selector(cluster.cluster, cluster.alias, pairs):
                route(cluster, entry)
    return Routes(found, by_id)
