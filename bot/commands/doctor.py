"""Preflight checks and Flux v1: ``/flux doctor`` (one cluster, or every cluster a selector matches) and
``/flux v1 list|migrate``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.commands.base import BaseCommand, ClusterTarget, Role


@dataclass(frozen=True)
class Doctor(BaseCommand):
    """``/flux doctor -c CLUSTER``: one report of what stands between the cluster and a working Flux v2."""

    target: ClusterTarget
    verb: ClassVar[str] = "doctor"


@dataclass(frozen=True)
class DoctorFleet(BaseCommand):
    """``/flux doctor --clusters SELECTOR``: the report of every cluster the selector matches that the person may
    see (an empty selector is ``--clusters all``), summed up per cluster."""

    selector: tuple[tuple[str, str], ...]
    verb: ClassVar[str] = "doctor"


@dataclass(frozen=True)
class V1List(BaseCommand):
    """``/flux v1 list -c CLUSTER``: the retired Flux v1 configurations left on a cluster."""

    target: ClusterTarget
    verb: ClassVar[str] = "v1 list"


@dataclass(frozen=True)
class V1Migrate(BaseCommand):
    """``/flux v1 migrate NAME -c CLUSTER``: delete Flux v1 configuration NAME, install microsoft.flux, and create
    the equivalent Flux v2 configuration (asks for confirmation first)."""

    name: str
    target: ClusterTarget
    role: ClassVar[Role] = Role.ADMIN
    mutates: ClassVar[bool] = True
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "v1 migrate"

    @property
    def lock_name(self) -> str | None:
        return self.name
