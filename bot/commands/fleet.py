"""Fleet rollouts from chat: one change applied to every cluster a selector matches, in waves.

``/flux fleet apply NAME --clusters env=prod [--waves 1,10%,100%] [--max-parallel N] <config flags>`` creates
configuration NAME where it is missing and updates it where it exists; ``fleet extension update`` changes the
microsoft.flux extension's settings the same way. A run is known by its job id (``fleet status RUN``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from bot.commands.base import BaseCommand, CredentialRefs, Role
from bot.models import ExtensionPatch, FluxConfigPatch, FluxConfigSpec


@dataclass(frozen=True)
class WaveSize:
    """How far a wave reaches: ``count`` clusters, or ``count`` percent of them (cumulative, rounded up)."""

    count: int
    percent: bool = False

    def __str__(self) -> str:
        return f"{self.count}%" if self.percent else str(self.count)


#: one canary cluster, then a tenth of the fleet, then the rest
DEFAULT_WAVES: tuple[WaveSize, ...] = (WaveSize(1), WaveSize(10, percent=True), WaveSize(100, percent=True))
#: clusters written and not yet settled at one time (ARM's write throttle paces far below this anyway)
DEFAULT_MAX_PARALLEL = 100
MAX_PARALLEL_LIMIT = 1000
#: waves one run may have (each is a line of the run's message)
MAX_WAVES = 10


@dataclass(frozen=True)
class FleetApply(BaseCommand):
    """Apply flux configuration ``name`` to every cluster ``selector`` matches.

    ``patch`` is what the flags change on a cluster that has the configuration; ``spec`` what they create on
    one that has not (None when the flags cannot make a whole configuration, e.g. no ``--url``: those clusters
    are then refused in the plan). The grammar builds ``spec`` exactly when ``-u`` is given (with the rules of
    ``config create``: a git URL needs its version); the create-only flags (``--namespace``, ``--scope``,
    ``--kind``, ``--suspend``...) shape only ``spec``. ``credentials`` are those ``spec`` names when there is one,
    else those of the patch. An empty ``selector`` is ``--clusters all`` (every cluster the person may see); the
    grammar never makes one otherwise. Intake decides over the clusters the selector matches among those the
    person may see (bot.fleet_decision); the worker checks the role on every matched cluster again.
    """

    name: str
    selector: tuple[tuple[str, str], ...]
    patch: FluxConfigPatch
    spec: FluxConfigSpec | None = None
    credentials: CredentialRefs = field(default_factory=CredentialRefs)
    waves: tuple[WaveSize, ...] = DEFAULT_WAVES
    max_parallel: int = DEFAULT_MAX_PARALLEL
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "fleet apply"

    @property
    def lock_name(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class FleetExtensionUpdate(BaseCommand):
    """Change the microsoft.flux extension on every cluster ``selector`` matches (clusters without it are
    listed in the plan and left alone)."""

    selector: tuple[tuple[str, str], ...]
    patch: ExtensionPatch
    waves: tuple[WaveSize, ...] = DEFAULT_WAVES
    max_parallel: int = DEFAULT_MAX_PARALLEL
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "fleet extension update"

    @property
    def lock_name(self) -> str | None:
        return "extension"


@dataclass(frozen=True)
class FleetStatus(BaseCommand):
    """Show fleet run ``run_id`` (its job id)."""

    run_id: str
    verb: ClassVar[str] = "fleet status"


@dataclass(frozen=True)
class FleetList(BaseCommand):
    """The recent fleet runs, newest first."""

    verb: ClassVar[str] = "fleet list"


@dataclass(frozen=True)
class FleetCancel(BaseCommand):
    """Stop run ``run_id`` once its in-flight writes end; nothing new is written."""

    run_id: str
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "fleet cancel"


@dataclass(frozen=True)
class FleetResume(BaseCommand):
    """Carry on with a halted, canceled or interrupted run from its record (no cluster is written twice)."""

    run_id: str
    role: ClassVar[Role] = Role.OPERATOR
    mutates: ClassVar[bool] = True
    verb: ClassVar[str] = "fleet resume"
