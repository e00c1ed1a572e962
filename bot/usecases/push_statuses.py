"""The commit statuses of a traced push (bot/usecases/push_trace.py): per target for a handful, per
configuration name above that.

Up to ``PER_TARGET_UP_TO`` targets, each (cluster, configuration) gets its own status, context
``fluxops/<cluster>/<config>``: pending at the start, then its outcome. Above it, each configuration name gets
one, context ``fluxops/<config>``: pending at the start ("applied on 412/1,000 clusters"), edited when that
changes at most every ``AGGREGATE_EVERY`` seconds, and final as soon as every target of that configuration is
("failed on 3 of 1,000: fleet-0012, …"). The per-cluster matrix is in the check run and the Slack message.

Every status that must not be posted twice (a target's pending and final, a configuration's first pending and
final) is marked done in the job store, so a job picked up again after its worker died carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.git_host import CommitStatus, StatusState
from bot.gitevents import PushEvent
from bot.ports import CommitStatuses
from bot.render.commit_status import configuration_status
from bot.usecases.context import Job
from bot.usecases.push_targets import Target
from bot.views import TraceRow, TraceState

#: Up to this many targets, one status per (cluster, configuration). GitHub asks integrations to space their
#: writes (PyGithub waits 1 s between them, workers/github_host/connection.py), and each target costs two
#: (pending, final): 5 targets are at most 10 s of writes, short next to a Flux apply, and 5 contexts still
#: read well in a pull request's checks. Above it the writes would grow with the fleet (1,000 clusters: over
#: half an hour, past Celery's time limit), so the statuses go per configuration name instead.
PER_TARGET_UP_TO = 5
#: a configuration's pending status is edited at most this often (seconds); its final one goes at once
AGGREGATE_EVERY = 5.0

STATE_TO_STATUS = {
    TraceState.PENDING: StatusState.PENDING,
    TraceState.APPLIED: StatusState.SUCCESS,
    TraceState.FAILED: StatusState.FAILURE,
    TraceState.ERROR: StatusState.ERROR,
}


def aggregated(targets: Sequence[Target]) -> bool:
    """True when the push's statuses go per configuration name rather than per target."""
    return len(targets) > PER_TARGET_UP_TO


class TraceStatuses:
    """Posts one push's commit statuses: a write only when it says something new."""

    def __init__(
        self,
        job: Job,
        event: PushEvent,
        host: CommitStatuses | None,
        targets: Sequence[Target],
        *,
        clock: Callable[[], float],
    ) -> None:
        self.job = job
        self.event = event
        self.host = host
        self.targets = list(targets)
        self.clock = clock
        self.aggregate = aggregated(self.targets)
        #: configuration name -> the indices of its targets
        self.groups: dict[str, list[int]] = {}
        for index, target in enumerate(self.targets):
            self.groups.setdefault(target.config, []).append(index)
        #: context -> (state, description, when) last posted by this process
        self._last: dict[str, tuple[StatusState, str, float]] = {}
        #: configurations whose final status is posted (or was, before a restart)
        self._finals: set[str] = set()

    def start(self, rows: Sequence[TraceRow]) -> None:
        """The pending statuses, before the first look at the clusters."""
        if not self.aggregate:
            for index, target in enumerate(self.targets):
                self._once(
                    f"status:{index}:pending", target.context, StatusState.PENDING, f"waiting for {target.label}"
                )
            return
        for config, indices in self.groups.items():
            _, text = configuration_status([rows[i] for i in indices])
            self._once(f"status:config:{config}:pending", _context(config), StatusState.PENDING, text)

    def update(self, rows: Sequence[TraceRow], finished: Sequence[int]) -> None:
        """After a round: the final status of each target in ``finished`` (per target), or of each configuration
        whose targets are all final now, and the progress of the others when it changed (aggregated)."""
        if not self.aggregate:
            for index in finished:
                row = rows[index]
                state = STATE_TO_STATUS[row.state]
                self._once(f"status:{index}:{state.value}", self.targets[index].context, state, row.detail)
            return
        for config, indices in self.groups.items():
            group = [rows[i] for i in indices]
            state, text = configuration_status(group)
            context = _context(config)
            if state is not StatusState.PENDING:
                if config not in self._finals:
                    self._once(f"status:config:{config}:final", context, state, text)
                    self._finals.add(config)
                continue
            last = self._last.get(context)
            if last is not None and last[1] == text:
                continue
            if last is not None and self.clock() - last[2] < AGGREGATE_EVERY:
                continue  # edited a moment ago: the next round says it
            self._post(context, state, text)

    def _once(self, key: str, context: str, state: StatusState, description: str) -> None:
        if self.host is None or self.job.done(key):
            return
        self._post(context, state, description)
        self.job.mark_done(key)

    def _post(self, context: str, state: StatusState, description: str) -> None:
        if self.host is None:
            return
        status = CommitStatus(state=state, context=context, description=description or state.value)
        self.host.set_commit_status(self.event.repo, self.event.after, status)
        self._last[context] = (state, description, self.clock())


def _context(config: str) -> str:
    return f"fluxops/{config}"
