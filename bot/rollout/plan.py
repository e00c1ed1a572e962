"""What a run does: its targets (one cluster each, with the operations to write there, in order) in wave order,
and how many targets each wave holds. A run's plan is made once, before the confirmation, and saved: what runs
is what was confirmed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.fleet import Operation
from bot.models import ClusterRef


def operation_key(op: Operation) -> str:
    """A stable key of one operation: the cluster's ARM id, the kind of write and what it writes (not its position,
    not the cluster's label, which an alias may change): a resumed plan maps onto its progress."""
    what = f"{op.cluster.arm_id.lower()}|{type(op).__name__}|{op.lock_name.lower()}"
    return hashlib.sha256(what.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Target:
    """One cluster of a run and what is written there, in order (the extension before configurations)."""

    label: str
    cluster: ClusterRef
    ops: tuple[Operation, ...]

    @property
    def key(self) -> str:
        return self.cluster.arm_id.lower()


@dataclass(frozen=True)
class RolloutPlan:
    title: str  # "fleet apply apps to env=prod"
    targets: tuple[Target, ...]  # in wave order
    waves: tuple[int, ...]  # targets per wave
    max_parallel: int
    creates: int = 0
    updates: int = 0
    unchanged: int = 0

    def wave_of(self, index: int) -> int:
        """The 0-based wave of target ``index``."""
        bound = 0
        for number, count in enumerate(self.waves):
            bound += count
            if index < bound:
                return number
        raise IndexError(index)
