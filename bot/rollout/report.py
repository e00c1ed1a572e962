"""The run's one message: a ``FleetRunView`` built from the engine's progress, shown (edited in place) and saved
for `fleet status` at most every ``interval`` seconds while running, and always at the end."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from bot.fleet import Operation
from bot.rollout.plan import RolloutPlan, Target
from bot.rollout.progress import OpProgress, RunProgress, Stage
from bot.usecases.context import Job
from bot.views import ClusterFailure, FleetRunView, Phase, ThrottleInfo, WaveRow, WaveState, mention


class Rollout(Protocol):
    """What the report reads of a run in progress (bot.rollout.engine.Rollout)."""

    plan: RolloutPlan
    progress: RunProgress
    #: writes sent back to wait for ARM's throttle in this process
    throttled: int
    #: why the run halted when no single cluster is to blame
    halt_reason: str
    #: the run stopped before a wave because its clusters are closed to changes (a freeze)
    paused: bool

    def current(self, target: Target) -> tuple[Operation, OpProgress] | None: ...


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_FINAL_WAVE_STATE = {Phase.HALTED: WaveState.HALTED, Phase.CANCELED: WaveState.CANCELED}


class RunReport:
    def __init__(
        self,
        job: Job,
        *,
        gauge: Callable[[], ThrottleInfo | None] = lambda: None,
        save: Callable[[FleetRunView], None] = lambda view: None,
        interval: float = 2.0,
        carry_on: str = "",
    ) -> None:
        self.job = job
        self.gauge = gauge
        self.save = save
        self.interval = interval
        #: how someone carries a halted or canceled run on
        self.carry_on = carry_on or f"`/flux fleet resume {job.job_id}` carries on (nothing done is redone)"
        self._started = job.ports.pace.clock()
        self._done_at_start: int | None = None
        self._last = -interval

    def show(self, rollout: Rollout, phase: Phase, wave: int) -> None:
        now = self.job.ports.pace.clock()
        if phase is Phase.RUNNING and now - self._last < self.interval:
            return
        self._last = now
        view = self.view(rollout, phase, wave)
        self.job.reporter.show(view)
        self.save(view)

    def view(self, rollout: Rollout, phase: Phase, wave: int) -> FleetRunView:
        plan = rollout.plan
        rows: list[WaveRow] = []
        start = 0
        failures: list[ClusterFailure] = []
        for number, count in enumerate(plan.waves):
            targets = plan.targets[start : start + count]
            start += count
            done = in_flight = 0
            failed: list[ClusterFailure] = []
            for target in targets:
                found = rollout.current(target)
                if found is None:
                    done += 1
                elif found[1].stage in (Stage.WRITING, Stage.WRITTEN):
                    in_flight += 1
                elif found[1].stage is Stage.FAILED:
                    failed.append(ClusterFailure(target.label, found[1].detail))
            failures += failed
            if number < wave or (number == wave and phase is Phase.SUCCEEDED):
                state = WaveState.DONE
            elif number > wave:
                state = WaveState.WAITING
            else:
                state = _FINAL_WAVE_STATE.get(phase, WaveState.RUNNING)
            rows.append(
                WaveRow(
                    number=number + 1,
                    state=state,
                    total=count,
                    done=done,
                    in_flight=in_flight,
                    failed=tuple(failed),
                    clusters=tuple(t.label for t in targets),
                )
            )
        view = FleetRunView(
            run_id=self.job.job_id,
            actor=self.job.record.actor,
            title=plan.title,
            phase=phase,
            waves=tuple(rows),
            creates=plan.creates,
            updates=plan.updates,
            unchanged=plan.unchanged,
            throttle=self._throttle(rollout),
        )
        return FleetRunView(
            **{**view.__dict__, "eta_seconds": self._eta(view), "note": self._note(rollout, phase, wave, failures)}
        )

    def _throttle(self, rollout: Rollout) -> ThrottleInfo | None:
        info = self.gauge()
        if info is None and not rollout.throttled:
            return None
        base = info or ThrottleInfo(remaining=None)
        return ThrottleInfo(base.remaining, base.shut_seconds, base.throttled + rollout.throttled)

    def _eta(self, view: FleetRunView) -> float | None:
        """From how fast clusters got done since this process took the run on."""
        if view.phase.terminal:
            return None
        done = view.done
        if self._done_at_start is None:
            self._done_at_start = done
        finished_here = done - self._done_at_start
        elapsed = self.job.ports.pace.clock() - self._started
        if finished_here <= 0 or elapsed <= 0:
            return None
        return (view.total - done) * elapsed / finished_here

    def _note(self, rollout: Rollout, phase: Phase, wave: int, failures: list[ClusterFailure]) -> str:
        if phase is Phase.HALTED and rollout.paused:
            return (
                f"Paused before wave {wave + 1}: {rollout.halt_reason}. Once it ends, {self.carry_on}; "
                'an admin may carry on now with `--break-glass "REASON"`.'
            )
        if phase is Phase.HALTED and not failures and rollout.halt_reason:
            return f"Halted in wave {wave + 1}: {rollout.halt_reason}. Once it is fixed, {self.carry_on}."
        if phase is Phase.HALTED and failures:
            first = failures[0]
            later = len(rollout.plan.waves) - wave - 1
            untouched = f"; the {later} later wave(s) are untouched" if later else ""
            return (
                f"Halted in wave {wave + 1}: {first.cluster} — {first.reason}{untouched}. Fix it, then {self.carry_on}."
            )
        if phase is Phase.CANCELED:
            who = rollout.progress.cancel_requested()
            user = who.removeprefix("slack:")
            by = f" by {mention(user) if _SLACK_USER.fullmatch(user) else who}" if who else ""
            return f"Canceled{by}: nothing more is written; {self.carry_on}."
        return ""
