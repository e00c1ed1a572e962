"""The wave sizes, the saved progress and snapshot (read back from an untrusted Redis), and the goals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.commands import WaveSize
from bot.commands.fleet import DEFAULT_WAVES
from bot.fleet import CreateConfig, DeleteConfig, UpdateConfig
from bot.models import Condition, FluxConfigPatch, FluxConfigState, ObjectStatus, RepositoryRef
from bot.rollout import snapshot
from bot.rollout.goals import Verdict, judge, landed
from bot.rollout.progress import OpProgress, Stage
from bot.rollout.waves import partition, wave_sizes
from bot.views import ClusterFailure, FleetRunView, Phase, ThrottleInfo, WaveRow, WaveState
from sandbox.world import utc_now_iso
from tests.bot.rollout.sim import SPEC, cluster

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("total", "sizes", "expected"),
    [
        (30, DEFAULT_WAVES, [1, 2, 27]),
        (1000, DEFAULT_WAVES, [1, 99, 900]),
        (1, DEFAULT_WAVES, [1]),
        (5, (WaveSize(2), WaveSize(2), WaveSize(100, percent=True)), [2, 3]),
        (10, (WaveSize(50, percent=True),), [5, 5]),  # what the sizes do not reach is one more wave
    ],
)
def test_wave_sizes(total: int, sizes: tuple[WaveSize, ...], expected: list[int]) -> None:
    assert wave_sizes(total, sizes) == expected
    assert [len(w) for w in partition(list(range(total)), expected)] == expected


@pytest.mark.parametrize("raw", [None, "", "x", "[]", '["done", "soon", ""]', '["nope", 1, ""]', '["done", true, ""]'])
def test_unreadable_progress_is_pending(raw: str | None) -> None:
    assert OpProgress.decode(raw) == OpProgress()


def test_progress_round_trips() -> None:
    progress = OpProgress(Stage.WRITTEN, NOW, "Pending, synced 4f1bdad")
    assert OpProgress.decode(progress.encode()) == progress


def test_snapshot_round_trips_and_refuses_forgeries() -> None:
    view = FleetRunView(
        run_id="j-0123456789ab",
        actor="U123",
        title="fleet apply apps to env=prod",
        phase=Phase.HALTED,
        waves=(WaveRow(1, WaveState.HALTED, 3, 1, 1, (ClusterFailure("a", "Non-Compliant"),), ("a", "b", "c")),),
        creates=2,
        updates=1,
        throttle=ThrottleInfo(remaining=12, shut_seconds=0.5, throttled=3),
        eta_seconds=12.5,
        note="halted",
    )
    assert snapshot.decode(snapshot.encode(view)) == view
    forged = snapshot.encode(view).replace('"creates":2', '"creates":"2"')
    assert snapshot.decode(forged) is None
    assert snapshot.decode("{}") is None


def _state(**changes: object) -> FluxConfigState:
    base = FluxConfigState(
        cluster(1),
        SPEC,
        "GitRepository",
        "Succeeded",
        "Compliant",
        source_synced_commit="main@sha1:" + "a" * 40,
        status_updated_at=utc_now_iso(NOW + 5),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


CREATE = CreateConfig(cluster(1).arm_id.lower(), "fleet-0001", cluster(1), spec=SPEC)


def test_a_report_from_before_the_write_does_not_count() -> None:
    assert judge(CREATE, _state(status_updated_at=utc_now_iso(NOW - 5)), NOW).verdict is Verdict.WAITING
    assert judge(CREATE, _state(), NOW).verdict is Verdict.DONE  # no Kustomization status: nothing to wait for


def test_provisioning_failed_fails_and_absent_waits() -> None:
    seen = judge(CREATE, _state(provisioning_state="Failed", error_message="bad url"), NOW)
    assert seen.verdict is Verdict.FAILED and "bad url" in seen.detail
    assert judge(CREATE, None, NOW).verdict is Verdict.WAITING
    assert judge(DeleteConfig(CREATE.cluster_key, "x", cluster(1), name="apps"), None, NOW).verdict is Verdict.DONE


def test_landed_compares_what_the_write_changes() -> None:
    update = UpdateConfig(
        CREATE.cluster_key, "x", cluster(1), name="apps", patch=FluxConfigPatch(sync_interval_seconds=60)
    )
    assert not landed(update, _state())
    moved = replace(SPEC, source=replace(SPEC.source, sync_interval_seconds=60))  # type: ignore[arg-type]
    assert landed(update, _state(spec=moved))
    branch = FluxConfigPatch(ref=RepositoryRef(branch="release"))
    assert not landed(replace(update, patch=branch), _state(spec=moved))
    assert landed(CREATE, _state())
    assert not landed(CREATE, None)


def _kustomization(status: str, reason: str, message: str) -> ObjectStatus:
    return ObjectStatus(
        "apps-apps",
        "apps",
        "Kustomization",
        "Non-Compliant" if status == "False" else "Compliant",
        (Condition(type="Ready", status=status, reason=reason, message=message),),
    )


def test_waiting_for_a_dependency_is_not_failing() -> None:
    waits = _kustomization("False", "DependencyNotReady", "dependency 'apps/infra' is not ready")
    seen = judge(CREATE, _state(compliance_state="Non-Compliant", statuses=(waits,)), NOW)
    assert seen.verdict is Verdict.WAITING
    broken = _kustomization("False", "ArtifactFailed", "kustomization path not found")
    assert judge(CREATE, _state(statuses=(broken,)), NOW).verdict is Verdict.FAILING


def test_a_state_that_does_not_show_the_write_yet_is_not_judged() -> None:
    update = UpdateConfig(
        CREATE.cluster_key, "x", cluster(1), name="apps", patch=FluxConfigPatch(sync_interval_seconds=60)
    )
    seen = judge(update, _state(), NOW)  # Compliant, fresh — but still at the old interval (Resource Graph lag)
    assert seen.verdict is Verdict.WAITING and "show the change" in seen.detail


def test_a_source_still_synced_from_the_old_branch_is_waited_for() -> None:
    moved = replace(SPEC, source=replace(SPEC.source, ref=RepositoryRef(branch="release")))  # type: ignore[arg-type]
    update = UpdateConfig(
        CREATE.cluster_key, "x", cluster(1), name="apps", patch=FluxConfigPatch(ref=RepositoryRef(branch="release"))
    )
    seen = judge(update, _state(spec=moved), NOW)  # synced "main@sha1:…" from before the switch
    assert seen.verdict is Verdict.WAITING and "release" in seen.detail
    synced = _state(spec=moved, source_synced_commit="release@sha1:" + "b" * 40)
    assert judge(update, synced, NOW).verdict is Verdict.DONE
