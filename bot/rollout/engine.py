"""The one loop of a fleet run: write under ARM's throttle, follow every written cluster with bulk reads, move
wave by wave, halt on the first failure.

Each tick it (1) reads the state of every operation in flight in one bulk read and judges it
(bot.rollout.goals), (2) sends the next writes of the current wave — at most ``max_parallel`` clusters in
flight, a batch at a time on a small thread pool (each write returns once ARM accepted it; the pacing under
the subscription's throttle happens in the Azure adapters, shared by every worker), and (3) edits the run's
message. A wave starts only when every cluster of the one before is done. A failed cluster stops all new
writes; what is in flight is followed to its end, then the run is ``halted``. A cancel does the same, ending
``canceled``. Every stage is saved (bot.rollout.progress), so a run started again carries on where it was:
nothing done is redone, nothing written is written again.

What passes is waited out, never counted as a failure: a throttled write, a cluster another job holds, a
bulk read that was throttled. A write refused for another passing reason (409, 5xx) is tried again with a
growing pause, for at most ``RETRY_FOR`` seconds. A read that fails for good halts the run with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from bot import errors
from bot.fleet import Operation
from bot.rollout.goals import Observed, Verdict, judge, landed
from bot.rollout.plan import RolloutPlan, Target, operation_key
from bot.rollout.progress import STARTED_FIELD, OpProgress, RunProgress, Stage
from bot.rollout.report import RunReport
from bot.usecases.configs import lock_key
from bot.usecases.context import Job
from bot.views import Phase

log = logging.getLogger(__name__)

#: writes handed to the write threads and not ended yet, at most (the rest wait for a later tick)
WRITE_BATCH = 50
WRITE_THREADS = 8
#: how long a write refused for a passing reason (409, 5xx) is tried again before its cluster fails
RETRY_FOR = 600.0
LONGEST_PAUSE = 60.0

Write = Callable[[Operation], None]
Observe = Callable[[Sequence[Operation]], dict[str, Observed]]
#: asked before a wave starts: why it may not start now (a change freeze on its clusters), "" when it may
Gate = Callable[[Sequence[Target]], str]


@dataclass(frozen=True)
class _Sent:
    key: str
    progress: OpProgress
    retry: bool = False
    throttled: bool = False
    pause: float = 0.0


class ReadFailed(Exception):
    """A bulk read failed for good: the run halts with this reason."""


class Rollout:
    def __init__(
        self,
        job: Job,
        plan: RolloutPlan,
        *,
        write: Write,
        observe: Observe,
        report: RunReport,
        check: Observe | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.job = job
        self.plan = plan
        self.write = write
        self.observe = observe
        #: exact reads (one per cluster) for what a crash left half-written: a bulk index may lag
        self.check = check or observe
        self.report = report
        self.gate = gate
        #: the run stopped at a wave boundary because the gate said so (a freeze): it carries on once resumed
        self.paused = False
        self.pace = job.ports.pace
        self.progress = RunProgress(job.ports.jobs, job.job_id)
        self.settle = 3 * self.pace.watch.longest
        self.timeout = self.pace.watch.timeout
        #: writes this process sent back to wait for ARM's throttle
        self.throttled = 0
        #: why the run halted when no single cluster is to blame (a read that failed for good)
        self.halt_reason = ""
        self._failing_since: dict[str, float] = {}
        self._first_refusal: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        #: when this process took the run on (wall clock): timeouts count from here at the earliest
        self._taken_on = self.pace.wall_clock()

    # -- what each target is at -----------------------------------------------------------------

    def current(self, target: Target) -> tuple[Operation, OpProgress] | None:
        """The first operation of ``target`` not done yet (None: the target is done)."""
        for op in target.ops:
            progress = self.progress.get(operation_key(op))
            if progress.stage is not Stage.DONE:
                return op, progress
        return None

    def stage(self, target: Target) -> Stage:
        found = self.current(target)
        return Stage.DONE if found is None else found[1].stage

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> Phase:
        """Run (or carry on with) the whole plan; the run's final phase."""
        # running, as the job store says it: a worker that dies from here on is found stale and the run requeued
        self.job.ports.jobs.put(self.job.job_id, "phase", Phase.RUNNING.value)
        self.job.ports.jobs.put(self.job.job_id, STARTED_FIELD, "1")
        number = 0
        try:
            self._reopen()
            start = 0
            for number, count in enumerate(self.plan.waves):
                wave = self.plan.targets[start : start + count]
                start += count
                closed = self._closed(wave)
                if closed:
                    self.halt_reason, self.paused = closed, True
                    self.report.show(self, Phase.HALTED, number)
                    return Phase.HALTED
                phase = self._wave(number, wave)
                if phase is not Phase.SUCCEEDED:
                    self.report.show(self, phase, number)
                    return phase
        except ReadFailed as failure:
            self.halt_reason = str(failure)
            self.report.show(self, Phase.HALTED, number)
            return Phase.HALTED
        self.report.show(self, Phase.SUCCEEDED, len(self.plan.waves) - 1)
        return Phase.SUCCEEDED

    def _closed(self, wave: Sequence[Target]) -> str:
        """Why ``wave`` may not start now; "" when it may, or when it has started (it runs to its end)."""
        if self.gate is None:
            return ""
        started = any(self.progress.get(operation_key(op)).stage is not Stage.PENDING for t in wave for op in t.ops)
        return "" if started else self.gate(wave)

    def _reopen(self) -> None:
        """A run started again: what was being written is checked against Azure (written again only if it is
        not there), and what failed after its write is looked at again (it may have been fixed since)."""
        writing = [
            op for t in self.plan.targets for op in t.ops if self.progress.get(operation_key(op)).stage is Stage.WRITING
        ]
        if writing:
            seen = self._read(self.check, writing)
            for op in writing:
                key = operation_key(op)
                before = self.progress.get(key)
                if landed(op, seen.get(key)):
                    self.progress.put(key, OpProgress(Stage.WRITTEN, before.at, "written (before a restart)"))
                else:
                    self.progress.put(key, OpProgress(Stage.PENDING, 0.0, "not written yet"))
        now = self.pace.wall_clock()
        for target in self.plan.targets:
            for op in target.ops:
                key = operation_key(op)
                before = self.progress.get(key)
                if before.stage is Stage.FAILED:
                    again = Stage.WRITTEN if before.at else Stage.PENDING
                    self.progress.put(key, OpProgress(again, now if before.at else 0.0, "looking again"))

    def _wave(self, number: int, wave: Sequence[Target]) -> Phase:
        looked = float("-inf")
        #: writes handed to the pool and not saved yet: the pool keeps writing while this thread looks
        pending: set[Future[_Sent]] = set()
        with ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="fleet-write") as pool:
            while True:
                self.pace.heartbeat(self.job.job_id)
                self._collect(pending)
                # A look costs a bulk read of everything in flight: once per poll interval, not after every
                # batch, so that writes go out back to back while there is room (the throttle absorbs no gap)
                if self.pace.clock() - looked >= self.pace.watch.first:
                    looked = self.pace.clock()  # the cadence counts from the look's start: a slow look is no gap
                    self._follow(wave)
                stages = [self.stage(t) for t in wave]
                if all(s is Stage.DONE for s in stages):
                    return Phase.SUCCEEDED
                in_flight = sum(1 for s in stages if s in (Stage.WRITING, Stage.WRITTEN))
                failed = any(s is Stage.FAILED for s in stages)
                canceled = bool(self.progress.cancel_requested())
                if failed or canceled:
                    if in_flight == 0:
                        return Phase.HALTED if failed else Phase.CANCELED
                else:
                    room = min(max(0, self.plan.max_parallel - in_flight), WRITE_BATCH - len(pending))
                    now = self.pace.clock()
                    ready = [t for t, s in zip(wave, stages, strict=True) if s is Stage.PENDING and self._due(t, now)]
                    pending |= self._send(pool, ready[: max(0, room)])
                self.report.show(self, Phase.RUNNING, number)
                until_look = max(0.0, looked + self.pace.watch.first - self.pace.clock())
                if pending:  # wake for the first write that ends (to send the next), or for the next look
                    wait(pending, timeout=until_look, return_when=FIRST_COMPLETED)
                else:
                    self.pace.sleep(until_look or self.pace.watch.first)

    def _due(self, target: Target, now: float) -> bool:
        found = self.current(target)
        return found is not None and self._not_before.get(operation_key(found[0]), 0.0) <= now

    # -- reading --------------------------------------------------------------------------------

    def _read(self, read: Observe, ops: Sequence[Operation]) -> dict[str, Observed]:
        """A bulk read; what passes (throttled, 5xx) is waited out, a read that fails for good halts the run."""
        while True:
            try:
                return read(ops)
            except errors.FluxopsError as error:
                if not error.retryable:
                    raise ReadFailed(f"reading the clusters' state failed: {error.message}") from error
                log.info("fleet run %s: reading the clusters' state: %s (trying again)", self.job.job_id, error.message)
                self.pace.heartbeat(self.job.job_id)
                self.pace.sleep(max(self.pace.watch.first, min(error.retry_after or 0.0, LONGEST_PAUSE)))

    # -- writing --------------------------------------------------------------------------------

    def _send(self, pool: ThreadPoolExecutor, targets: Sequence[Target]) -> set[Future[_Sent]]:
        """Hand the targets' next writes to the pool (``_collect`` saves how each went)."""
        ops = [found[0] for t in targets if (found := self.current(t)) is not None]
        if not ops:
            return set()
        # saved before anything is sent: a crash from here on is checked against Azure
        writing = OpProgress(Stage.WRITING, self.pace.wall_clock(), "writing")
        self.progress.put_many({operation_key(op): writing for op in ops})
        return {pool.submit(self._send_one, op) for op in ops}

    def _collect(self, pending: set[Future[_Sent]]) -> None:
        """Save the writes that ended since the last tick (one write to the job store), and drop them."""
        ended = [future for future in pending if future.done()]
        if not ended:
            return
        pending.difference_update(ended)
        results = [future.result() for future in ended]
        self.progress.put_many({result.key: result.progress for result in results})
        now = self.pace.clock()
        for result in results:
            self.throttled += result.throttled
            # a throttled write waits out at least a poll interval before it queues for the budget again
            pause = result.pause or (self.pace.watch.first if result.retry else 0.0)
            if pause:
                self._not_before[result.key] = now + pause

    def _send_one(self, op: Operation) -> _Sent:
        key = operation_key(op)
        try:
            with self.job.ports.locks.hold(lock_key(op.cluster, op.lock_name), self.job.job_id):
                self.write(op)
                # after ARM accepted it: only what the agent reports from now on can be about this write
                at = self.pace.wall_clock()
        except errors.Throttled as error:  # the budget shut: it opens again, so this never counts as a failure
            return _Sent(key, OpProgress(Stage.PENDING, 0.0, f"waiting for ARM: {error.message}"), True, True)
        except errors.Busy as error:  # another job is changing this cluster: wait for it, however long
            return _Sent(key, OpProgress(Stage.PENDING, 0.0, f"waiting: {error.message}"), True, pause=5.0)
        except errors.FluxopsError as error:
            now = self.pace.clock()
            first = self._first_refusal.setdefault(key, now)
            attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
            if error.retryable and now - first < RETRY_FOR:
                pause = max(error.retry_after or 0.0, min(LONGEST_PAUSE, 2.0**attempts))
                log.info("fleet run %s: %s: %s (again in %.0f s)", self.job.job_id, op.describe(), error.message, pause)
                return _Sent(key, OpProgress(Stage.PENDING, 0.0, f"waiting: {error.message}"), True, pause=pause)
            return _Sent(key, OpProgress(Stage.FAILED, 0.0, f"{op.describe()}: {error.message}"))
        self._first_refusal.pop(key, None)
        return _Sent(key, OpProgress(Stage.WRITTEN, at, "written"))

    # -- following ------------------------------------------------------------------------------

    def _follow(self, wave: Sequence[Target]) -> None:
        written = [
            (op, progress)
            for t in wave
            if (found := self.current(t)) is not None
            for op, progress in [found]
            if progress.stage is Stage.WRITTEN
        ]
        if not written:
            return
        seen = self._read(self.observe, [op for op, _ in written])
        now = self.pace.wall_clock()
        changes: dict[str, OpProgress] = {}  # saved together: one write to the job store per look
        for op, progress in written:
            key = operation_key(op)
            verdict = judge(op, seen.get(key), progress.at)
            if verdict.verdict is Verdict.FAILING:
                since = self._failing_since.setdefault(key, self.pace.clock())
                if self.pace.clock() - since >= self.settle:
                    changes[key] = OpProgress(Stage.FAILED, progress.at, verdict.detail)
                    continue
            else:
                self._failing_since.pop(key, None)
            if verdict.verdict is Verdict.DONE:
                changes[key] = OpProgress(Stage.DONE, progress.at, verdict.detail)
            elif verdict.verdict is Verdict.FAILED:
                changes[key] = OpProgress(Stage.FAILED, progress.at, verdict.detail)
            elif now - max(progress.at, self._taken_on) > self.timeout:
                minutes = round(self.timeout / 60)
                reason = f"timed out after {minutes} min: {verdict.detail}"
                changes[key] = OpProgress(Stage.FAILED, progress.at, reason)
            else:
                self.progress.note(key, OpProgress(Stage.WRITTEN, progress.at, verdict.detail))
        self.progress.put_many(changes)
