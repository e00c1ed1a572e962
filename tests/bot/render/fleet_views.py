"""Fleet runs as the renderers' tests show them (Slack and Markdown goldens share these cases)."""

from __future__ import annotations

from collections.abc import Callable

from bot.views import ClusterFailure, ErrorInfo, FleetRunView, Phase, ThrottleInfo, View, WaveRow, WaveState

RUN = "j-0f1e2d3c4b5a"


def _cluster(n: int) -> str:
    return f"fleet-{n:04}"


def fleet_running() -> FleetRunView:
    """Wave 2 of 3 on its way, ARM's budget known, two minutes to go."""
    return FleetRunView(
        run_id=RUN,
        actor="U0ALICE",
        title="fleet apply apps to env=prod",
        phase=Phase.RUNNING,
        waves=(
            WaveRow(1, WaveState.DONE, total=1, done=1, clusters=(_cluster(1),)),
            WaveRow(2, WaveState.RUNNING, total=9, done=4, in_flight=5),
            WaveRow(3, WaveState.WAITING, total=90),
        ),
        creates=12,
        updates=80,
        unchanged=8,
        throttle=ThrottleInfo(remaining=143, throttled=3),
        eta_seconds=130,
    )


def fleet_throttled() -> FleetRunView:
    """A 429 shut ARM's budget: every write waits."""
    return FleetRunView(
        run_id=RUN,
        actor="U0ALICE",
        title="fleet extension update to env=prod",
        phase=Phase.RUNNING,
        waves=(
            WaveRow(1, WaveState.DONE, total=1, done=1),
            WaveRow(2, WaveState.RUNNING, total=100, done=40, in_flight=60),
        ),
        updates=101,
        throttle=ThrottleInfo(remaining=0, shut_seconds=3.6, throttled=1),
        eta_seconds=4000,
    )


def fleet_halted() -> FleetRunView:
    """Wave 2 halted: two clusters failed, one with a hostile reason; nothing after them was written."""
    return FleetRunView(
        run_id=RUN,
        actor="U0ALICE",
        title="fleet apply apps to env=prod",
        phase=Phase.HALTED,
        waves=(
            WaveRow(1, WaveState.DONE, total=1, done=1),
            WaveRow(
                2,
                WaveState.HALTED,
                total=10,
                done=7,
                failed=(
                    ClusterFailure(_cluster(12), "Non-Compliant: Kustomization apps: path not found: ./apps/prod"),
                    ClusterFailure("<!channel> *bold*", "timed out after 10 min at Pending <@U0EVIL> `x` |pipe|"),
                ),
            ),
            WaveRow(3, WaveState.WAITING, total=89),
        ),
        updates=100,
        throttle=ThrottleInfo(remaining=180, throttled=2),
        note="halted at wave 2: fleet-0012 is Non-Compliant; `/flux fleet resume j-0f1e2d3c4b5a` carries on",
    )


def fleet_failed() -> FleetRunView:
    """The run could not plan: an error, no waves."""
    return FleetRunView(
        run_id=RUN,
        actor="U0ALICE",
        title="fleet apply apps to team=web",
        phase=Phase.FAILED,
        waves=(),
        error=ErrorInfo(
            doing="planning fleet apply apps over 40 clusters",
            message="ARM did not answer the inventory query",
            recommendation="try `/flux fleet resume j-0f1e2d3c4b5a` in a few minutes",
            code="ServiceUnavailable",
        ),
    )


def fleet_done() -> FleetRunView:
    return FleetRunView(
        run_id=RUN,
        actor="U0ALICE",
        title="fleet apply apps to env=prod",
        phase=Phase.SUCCEEDED,
        waves=(
            WaveRow(1, WaveState.DONE, total=1, done=1),
            WaveRow(2, WaveState.DONE, total=10, done=10),
            WaveRow(3, WaveState.DONE, total=89, done=89),
        ),
        creates=2,
        updates=90,
        unchanged=8,
        throttle=ThrottleInfo(remaining=12, throttled=7),
    )


def fleet_huge() -> FleetRunView:
    """1,000 clusters, 50 of them failed in one wave with long reasons: the message must stay within limits."""
    failed = tuple(
        ClusterFailure(_cluster(n), "Non-Compliant: " + "Kustomization apps: path not found " * 20) for n in range(50)
    )
    return FleetRunView(
        run_id=RUN,
        actor="U0ALICE",
        title="fleet apply apps to env=prod,region=" + "w" * 300,
        phase=Phase.HALTED,
        waves=(
            WaveRow(1, WaveState.DONE, total=1, done=1),
            *(WaveRow(n, WaveState.DONE, total=100, done=100) for n in range(2, 9)),
            WaveRow(9, WaveState.HALTED, total=100, done=50, failed=failed, clusters=tuple(map(_cluster, range(1000)))),
            WaveRow(10, WaveState.WAITING, total=199),
        ),
        creates=500,
        updates=400,
        unchanged=100,
        throttle=ThrottleInfo(remaining=0, shut_seconds=0, throttled=1234),
        note="halted at wave 9: " + ", ".join(map(_cluster, range(50))) + " failed",
    )


CASES: dict[str, Callable[[], View]] = {
    "fleet_running": fleet_running,
    "fleet_throttled": fleet_throttled,
    "fleet_halted": fleet_halted,
    "fleet_failed": fleet_failed,
    "fleet_done": fleet_done,
    "fleet_huge_1000": fleet_huge,
}
