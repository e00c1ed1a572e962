"""``reconcile``: ask Flux on the cluster to reconcile a configuration now, through the cluster's Kubernetes API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget, Role


@dataclass(frozen=True)
class Reconcile(BaseCommand):
    """``/flux reconcile NAME -c CLUSTER [--with-source] [--kustomization K]``.

    Operator, like ``suspend`` and ``resume``, not viewer like ``status``: it changes no setting, but it makes
    the cluster act now — it sets ``reconcile.fluxcd.io/requestedAt`` on Flux objects, so Flux fetches the
    source and applies (and, with prune, deletes) what the repository holds at once. That is a change to what
    runs on the cluster, so it is audited and, in a pull-request comment, needs write access like the others.

    The whole configuration: its source, then every kustomization in ``dependsOn`` order. ``kustomization``
    alone: only that Kustomization (from the artifact the source already has), and its source first with
    ``with_source``, as ``flux reconcile kustomization K --with-source`` does.
    """

    target: ClusterTarget
    name: str
    with_source: bool = False
    kustomization: str | None = None
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "reconcile"

    @property
    def lock_name(self) -> str | None:
        return self.name

    @property
    def includes_source(self) -> bool:
        """Whether the source is reconciled: always for the whole configuration, with ``--with-source`` for one
        kustomization."""
        return self.kustomization is None or self.with_source
