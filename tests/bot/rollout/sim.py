"""An in-memory ARM for the wave engine's tests: each write makes its configuration Pending, a few looks later
it is Compliant at a commit (Non-Compliant on a broken cluster); writes are counted per operation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot import errors
from bot.fleet import CreateConfig, Operation, UpdateConfig
from bot.models import (
    ClusterRef,
    ClusterType,
    Condition,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    Kustomization,
    ObjectStatus,
    RepositoryRef,
)
from bot.rollout.goals import Observed
from bot.rollout.plan import RolloutPlan, Target, operation_key
from sandbox.world import utc_now_iso

SHA = "4f1bdad4d0a5f0c1e2d3b4a5968778695a4b3c2d"
SPEC = FluxConfigSpec(
    name="apps",
    source=GitSource(url="https://github.com/org/apps", ref=RepositoryRef(branch="main")),
    namespace="apps",
    kustomizations=(Kustomization(name="apps", path="./apps"),),
)


def cluster(i: int) -> ClusterRef:
    return ClusterRef("00000000-0000-0000-0000-000000000001", "fleet-rg", ClusterType.CONNECTED, f"fleet-{i:04d}")


def plan(count: int, waves: Sequence[int], *, max_parallel: int = 100) -> RolloutPlan:
    targets = tuple(
        Target(c.name, c, (CreateConfig(c.arm_id.lower(), c.name, c, spec=SPEC),))
        for c in (cluster(i) for i in range(count))
    )
    return RolloutPlan(
        title="fleet apply apps to env=prod", targets=targets, waves=tuple(waves), max_parallel=max_parallel
    )


def _ready(status: str, message: str) -> tuple[Condition, ...]:
    return (Condition(type="Ready", status=status, reason="x", message=message),)


class Arm:
    def __init__(self, wall_clock: object, *, looks: int = 2) -> None:
        self.wall_clock = wall_clock
        self.looks = looks
        self.writes: Counter[str] = Counter()
        self.pending: dict[str, int] = {}
        self.broken: set[str] = set()
        self.throttle_next = 0
        self.fail_write: dict[str, errors.FluxopsError] = {}
        self.observed_batches: list[int] = []
        self.in_flight_max = 0

    def write(self, op: Operation) -> None:
        key = operation_key(op)
        if self.throttle_next:
            self.throttle_next -= 1
            raise errors.Throttled("ARM answered 429", retry_after=1)
        if key in self.fail_write:
            raise self.fail_write[key]
        self.writes[key] += 1
        self.pending[key] = self.looks
        self.in_flight_max = max(self.in_flight_max, sum(1 for v in self.pending.values() if v > 0))

    def state(self, op: Operation) -> FluxConfigState | None:
        key = operation_key(op)
        if key not in self.pending:
            return None
        now = utc_now_iso(self.wall_clock())  # type: ignore[operator]
        assert isinstance(op, CreateConfig | UpdateConfig)
        if self.pending[key] > 0:
            self.pending[key] -= 1
            return FluxConfigState(op.cluster, SPEC, "GitRepository", "Succeeded", "Pending", status_updated_at=now)
        if op.cluster.name in self.broken:
            kustomization = ObjectStatus(
                "apps-apps",
                "apps",
                "Kustomization",
                "Non-Compliant",
                _ready("False", "kustomization path not found: ./apps"),
            )
            return FluxConfigState(
                op.cluster,
                SPEC,
                "GitRepository",
                "Succeeded",
                "Non-Compliant",
                source_synced_commit=f"main@sha1:{SHA}",
                status_updated_at=now,
                statuses=(kustomization,),
            )
        kustomization = ObjectStatus(
            "apps-apps", "apps", "Kustomization", "Compliant", _ready("True", f"Applied revision: main@sha1:{SHA}")
        )
        return FluxConfigState(
            op.cluster,
            SPEC,
            "GitRepository",
            "Succeeded",
            "Compliant",
            source_synced_commit=f"main@sha1:{SHA}",
            status_updated_at=now,
            statuses=(kustomization,),
        )

    def observe(self, ops: Sequence[Operation]) -> dict[str, Observed]:
        self.observed_batches.append(len(ops))
        return {operation_key(op): self.state(op) for op in ops}
