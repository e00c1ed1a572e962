"""``events``: the Kubernetes events of one Flux configuration's objects, read from the cluster itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget


@dataclass(frozen=True)
class Events(BaseCommand):
    """``events NAME -c CLUSTER [--kind K] [--since 1h]``: what Flux's controllers said about the configuration's
    objects (the source, its Kustomizations, the HelmReleases they applied)."""

    target: ClusterTarget
    name: str
    #: one Flux kind as bot.cluster_objects spells it ("Kustomization"); None: every kind
    kind: str | None = None
    #: how far back, in seconds (events last seen earlier are left out)
    since_seconds: int = 3600
    verb: ClassVar[str] = "events"
