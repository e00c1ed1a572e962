"""The commit statuses of a traced push (bot/usecases/push_trace.py): per target for a handful, per
configuration name above that.

Up to ``PER_TARGET_UP_TO`` targets, each (cluster, configuration) gets its own status, context
``fluxops/<cluster>/<config>``: pending at the start, then its outcome. Above it, each configuration name gets
one, context ``fluxops/<branch>/<config>`` (the branch: the same commit pushed to two branches is two traces):
pending at the start ("applied on 412/1,000 clusters"), edited when that changes at most every
``AGGREGATE_EVERY`` seconds, and final as soon as every target of that configuration is ("failed on 3 of 1,000:
fleet-0012, …"). When the push reaches more than ``GROUPS_UP_TO`` configuration names, they share one status,
``fluxops/<branch>``, so the writes never grow with the fleet. The per-cluster matrix is in the check run (a
GitHub App) and the Slack watch message.

Every status that must not be posted twice (a target's pending and final, a configuration's first pending and
final) is marked done in the job store, so a job picked up again after its worker died carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot import errors
from bot.git_host import CommitStatus, StatusState
from bot.gitevents import PushEvent
from bot.ports import CommitStatuses
from bot.render.commit_status import configuration_status, target_description
from bot.usecases.context import Job
from bot.usecases.push_targets import Target
from bot.views import TraceRow, TraceState

log = logging.getLogger(__name__)

#: Up to this many targets, one status per (cluster, configuration). GitHub asks integrations to space their
#: writes (PyGithub waits 1 s between them, workers/github_host/connection.py), and each target costs two
#: (pending, final): 5 targets are at most 10 s of writes, short next to a Flux apply, and 5 contexts still
#: read well in a pull request's checks. Above it the writes would grow with the fleet (1,000 clusters: over
#: half an hour, past Celery's time limit), so the statuses go per configuration name instead.
PER_TARGET_UP_TO = 5
#: a configuration's pending status is edited at most this often (seconds); its final one goes at once
AGGREGATE_EVERY = 5.0
#: more configuration names than this share one status for the branch
GROUPS_UP_TO = 5

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
        #: context -> the indices of its targets (per configuration name, or one for the whole branch)
        self.groups: dict[str, list[int]] = {}
        names = {target.config for target in self.targets}
        for index, target in enumerate(self.targets):
            context = _context(event.branch, target.config if len(names) <= GROUPS_UP_TO else None)
            self.groups.setdefault(context, []).append(index)
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
        for context, indices in self.groups.items():
            _, text = configuration_status([rows[i] for i in indices])
            self._once(f"status:group:{context}:pending", context, StatusState.PENDING, text)

    def update(self, rows: Sequence[TraceRow], finished: Sequence[int]) -> None:
        """After a round: the final status of each target in ``finished`` (per target), or of each configuration
        whose targets are all final now, and the progress of the others when it changed (aggregated)."""
        if not self.aggregate:
            # every final row, not only the ones that turned final in this round: a job picked up again after
            # its worker died posts what its last run could not (the job store keys keep each one to one post)
            for index, row in enumerate(rows):
                if row.state.final:
                    state = STATE_TO_STATUS[row.state]
                    description = target_description(row)
                    self._once(f"status:{index}:{state.value}", self.targets[index].context, state, description)
            return
        for context, indices in self.groups.items():
            group = [rows[i] for i in indices]
            state, text = configuration_status(group)
            if state is not StatusState.PENDING:
                if context not in self._finals:
                    self._once(f"status:group:{context}:final", context, state, text)
                    self._finals.add(context)
                continue
            last = self._last.get(context)
            if last is not None and last[1] == text:
                continue
            if last is not None and self.clock() - last[2] < AGGREGATE_EVERY:
                continue  # edited a moment ago: the next round says it
            try:
                self._post(context, state, text)
            except errors.FluxopsError as error:  # progress is best effort: the final status is what counts
                if error.retryable:
                    raise
                log.warning("push trace: could not edit the progress of %s: %s", context, error.message)

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


def _context(branch: str, config: str | None) -> str:
    return f"fluxops/{branch}/{config}" if config is not None else f"fluxops/{branch}"
