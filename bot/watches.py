"""One `/flux watch` subscription as stored, and who set it up.

A watch sends a channel what fluxops sees of a cluster's configurations (alerts: object names, Flux's messages
and events, who changed what; pushes traced to them). The channel may hold people who have no role on that
cluster, so a watch keeps its creator — the identity intake decided the `/flux watch` for, Slack groups as
expanded then, as a job's decision carries it — and a channel hears about a cluster only while the policy in
force when the message goes out gives its watch's creator a role there (``may_tell``). A policy change that
takes the role away stops the messages at once. A watch stored before creators were recorded has none and
tells nothing until someone who may see the cluster runs `/flux watch` again (it then records them).

Running `/flux watch` again on the same watch and channel records its new creator: the person who set it up
last is the one whose view the channel gets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.models import Cluster
from bot.policy import Identity, Policy


@dataclass(frozen=True)
class WatchEntry:
    """A channel watching ``config`` ("" : every configuration, selector watches only) on ``where``: a cluster's
    ARM id (lower case) or a selector as typed (``env=prod,region=weu``, "" for every cluster)."""

    where: str
    config: str
    channel: str
    creator: Identity | None = None


def may_tell(policy: Policy, entry: WatchEntry, cluster: Cluster, alias: str | None) -> bool:
    """Whether ``entry``'s channel may hear about ``cluster`` now: its creator has a role on it."""
    return entry.creator is not None and policy.role_for(entry.creator, cluster, alias) is not None


def creator_to_json(identity: Identity) -> str:
    return json.dumps(
        {"platform": identity.platform, "user": identity.user, "groups": sorted(identity.groups)}, sort_keys=True
    )


def creator_from_json(text: str | None) -> Identity | None:
    """The creator stored with a watch; None when there is none or it cannot be read (the watch then tells
    nothing: Redis is not trusted to widen what a channel sees)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        groups = data.get("groups", [])
        if not isinstance(data["platform"], str) or not isinstance(data["user"], str) or not isinstance(groups, list):
            return None
        return Identity(data["platform"], data["user"], frozenset(str(g) for g in groups))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
