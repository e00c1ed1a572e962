"""The wave engine over an in-memory ARM: waves in order, the halt, cancel, resume after a crash, throttling."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import errors
from bot.rollout import snapshot
from bot.rollout.engine import Rollout
from bot.rollout.plan import RolloutPlan, operation_key
from bot.rollout.progress import CANCEL_FIELD, OpProgress, Stage
from bot.rollout.report import RunReport
from bot.usecases.context import Job
from bot.views import FleetRunView, Phase, WaveState
from tests.bot.rollout.sim import Arm, plan
from tests.bot.usecases.fakes import WatchPolicy, World

RUN = "j-0123456789ab"


def rollout(world: World, arm: Arm, the_plan: RolloutPlan) -> Rollout:
    ports = world.ports()
    job = Job(world.record("fleet list", job_id=RUN), ports, world.reporter, the_plan.title)
    save = lambda view: ports.jobs.put(RUN, snapshot.VIEW_FIELD, snapshot.encode(view))  # noqa: E731
    report = RunReport(job, save=save, interval=0)
    return Rollout(job, the_plan, write=arm.write, observe=arm.observe, report=report)


def fleet_views(world: World) -> list[FleetRunView]:
    return [v for v in world.reporter.shown if isinstance(v, FleetRunView)]


@pytest.fixture
def world() -> World:
    return World(watch=WatchPolicy(first=1.0, longest=2.0, timeout=120.0))


def test_waves_run_in_order_and_every_cluster_is_written_once(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(30, [1, 3, 26])
    assert rollout(world, arm, the_plan).run() is Phase.SUCCEEDED
    assert len(arm.writes) == 30
    assert set(arm.writes.values()) == {1}
    views = fleet_views(world)
    # no cluster of a wave is written before the wave before it is done
    for view in views:
        for earlier, later in zip(view.waves, view.waves[1:], strict=False):
            if later.done or later.in_flight:
                assert earlier.done == earlier.total
    final = views[-1]
    assert final.phase is Phase.SUCCEEDED
    assert [w.state for w in final.waves] == [WaveState.DONE] * 3
    assert final.done == final.total == 30
    assert snapshot.decode(world.jobs.get(RUN, snapshot.VIEW_FIELD)) == final


def test_a_non_compliant_cluster_halts_the_run_and_later_waves_stay_untouched(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(30, [1, 3, 26])
    arm.broken.add(the_plan.targets[2].label)
    assert rollout(world, arm, the_plan).run() is Phase.HALTED
    wave3 = {operation_key(t.ops[0]) for t in the_plan.targets[4:]}
    assert not wave3 & set(arm.writes)
    final = fleet_views(world)[-1]
    assert final.phase is Phase.HALTED
    assert [w.state for w in final.waves] == [WaveState.DONE, WaveState.HALTED, WaveState.WAITING]
    failure = final.waves[1].failed[0]
    assert failure.cluster == the_plan.targets[2].label
    assert "kustomization path not found" in failure.reason
    assert the_plan.targets[2].label in final.note and f"/flux fleet resume {RUN}" in final.note


def test_resume_after_the_fix_carries_on_without_writing_again(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(12, [1, 11])
    arm.broken.add(the_plan.targets[0].label)
    assert rollout(world, arm, the_plan).run() is Phase.HALTED
    arm.broken.clear()  # someone fixed the path; Flux reconciles again
    assert rollout(world, arm, the_plan).run() is Phase.SUCCEEDED
    assert set(arm.writes.values()) == {1} and len(arm.writes) == 12


def test_a_write_whose_fate_a_crash_hid_is_not_sent_again_when_it_landed(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(3, [3])
    landed, lost = the_plan.targets[0].ops[0], the_plan.targets[1].ops[0]
    # the crashed run had saved both as "writing"; only the first reached ARM
    arm.write(landed)
    arm.pending[operation_key(landed)] = 0
    for op in (landed, lost):
        world.jobs.put(RUN, f"op:{operation_key(op)}", OpProgress(Stage.WRITING, world.wall_clock() - 1).encode())
    assert rollout(world, arm, the_plan).run() is Phase.SUCCEEDED
    assert arm.writes[operation_key(landed)] == 1
    assert arm.writes[operation_key(lost)] == 1


def test_cancel_stops_new_writes_and_lets_in_flight_ones_finish(world: World) -> None:
    arm = Arm(world.wall_clock, looks=3)
    the_plan = plan(20, [20], max_parallel=5)
    engine = rollout(world, arm, the_plan)
    sleeps = world.clock.sleep

    def sleep_then_cancel(seconds: float) -> None:
        world.jobs.put(RUN, CANCEL_FIELD, "U999")
        sleeps(seconds)

    engine.pace.sleep = sleep_then_cancel
    assert engine.run() is Phase.CANCELED
    assert len(arm.writes) == 5  # the first batch, at most max_parallel in flight
    final = fleet_views(world)[-1]
    assert final.done == 5 and final.waves[0].state is WaveState.CANCELED
    assert "Canceled by" in final.note


def test_throttled_writes_wait_and_never_fail(world: World) -> None:
    arm = Arm(world.wall_clock)
    arm.throttle_next = 40
    the_plan = plan(10, [10])
    engine = rollout(world, arm, the_plan)
    assert engine.run() is Phase.SUCCEEDED
    assert len(arm.writes) == 10
    assert fleet_views(world)[-1].throttle is not None
    assert fleet_views(world)[-1].throttle.throttled == 40  # type: ignore[union-attr]


def test_max_parallel_bounds_what_is_in_flight(world: World) -> None:
    arm = Arm(world.wall_clock, looks=4)
    assert rollout(world, arm, plan(40, [40], max_parallel=7)).run() is Phase.SUCCEEDED
    assert arm.in_flight_max <= 7


def test_a_refused_write_fails_the_cluster_with_the_reason(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(4, [4])
    arm.fail_write[operation_key(the_plan.targets[1].ops[0])] = errors.InvalidRequest("the URL is not valid")
    assert rollout(world, arm, the_plan).run() is Phase.HALTED
    failure = fleet_views(world)[-1].waves[0].failed[0]
    assert failure.cluster == the_plan.targets[1].label and "the URL is not valid" in failure.reason


def test_a_cluster_that_never_settles_times_out(world: World) -> None:
    arm = Arm(world.wall_clock, looks=10_000)
    assert rollout(world, arm, plan(2, [2])).run() is Phase.HALTED
    assert "timed out after 2 min" in fleet_views(world)[-1].waves[0].failed[0].reason


def test_one_bulk_look_per_tick_covers_every_cluster_in_flight(world: World) -> None:
    arm = Arm(world.wall_clock, looks=3)
    assert rollout(world, arm, plan(60, [60])).run() is Phase.SUCCEEDED
    # one call per tick for everything in flight (50 sent in the first tick, 10 in the next), not one per cluster
    assert max(arm.observed_batches) == 60
    assert len(arm.observed_batches) <= 6


def test_a_cluster_another_job_holds_is_waited_for_not_failed(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(3, [3])
    held = the_plan.targets[1]
    busy = {"left": 12}
    original = arm.write

    def write(op: object) -> None:
        if op is held.ops[0] and busy["left"]:
            busy["left"] -= 1
            raise errors.Busy("flux configuration apps is being changed by job j-other", holder="j-other")
        original(op)  # type: ignore[arg-type]

    arm.write = write  # type: ignore[method-assign]
    assert rollout(world, arm, the_plan).run() is Phase.SUCCEEDED
    assert busy["left"] == 0 and len(arm.writes) == 3


def test_a_conflict_is_tried_again_with_growing_pauses(world: World) -> None:
    arm = Arm(world.wall_clock)
    the_plan = plan(2, [2])
    conflicts = {"left": 4}
    original = arm.write

    def write(op: object) -> None:
        if op is the_plan.targets[0].ops[0] and conflicts["left"]:
            conflicts["left"] -= 1
            raise errors.Conflict("another operation is in progress")
        original(op)  # type: ignore[arg-type]

    arm.write = write  # type: ignore[method-assign]
    assert rollout(world, arm, the_plan).run() is Phase.SUCCEEDED
    assert conflicts["left"] == 0


def test_a_throttled_read_is_waited_out_and_a_failed_read_halts_with_the_reason(world: World) -> None:
    arm = Arm(world.wall_clock)
    throttled = {"left": 3}
    observe = arm.observe

    def flaky(ops: object) -> object:
        if throttled["left"]:
            throttled["left"] -= 1
            raise errors.Throttled("Resource Graph quota", retry_after=2)
        return observe(ops)  # type: ignore[arg-type]

    arm.observe = flaky  # type: ignore[method-assign,assignment]
    assert rollout(world, arm, plan(3, [3])).run() is Phase.SUCCEEDED

    world2 = World(watch=WatchPolicy(first=1.0, longest=2.0, timeout=120.0))
    arm2 = Arm(world2.wall_clock)

    def denied(ops: object) -> object:
        raise errors.Unauthorized("the identity may not read Resource Graph")

    arm2.observe = denied  # type: ignore[method-assign,assignment]
    assert rollout(world2, arm2, plan(3, [3])).run() is Phase.HALTED
    final = fleet_views(world2)[-1]
    assert "may not read Resource Graph" in final.note


def test_the_progress_key_does_not_depend_on_the_clusters_label() -> None:
    the_plan = plan(1, [1])
    op = the_plan.targets[0].ops[0]
    assert operation_key(op) == operation_key(replace(op, label="an-alias"))
