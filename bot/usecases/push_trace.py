"""Following a pushed commit to every cluster that applies it (DESIGN.md §2, flow 2).

A push names a repository and a branch. Every Flux configuration in the inventory whose Git source is
that repository (any URL spelling, ``bot.repo_urls``) and branch is a target. Each target is watched
until its ``sourceSyncedCommitId`` shows the pushed commit (or a later one) and every Kustomization
reports that revision applied, or Flux reports it failing, or the watch times out. A handful of targets
get one commit status each (``fluxops/<cluster>/<config>``: pending, then success / failure / error); more
get one per configuration name (``fluxops/<config>``, bot/usecases/push_statuses.py). A GitHub App also gets
one check run with the whole matrix; every channel subscribed with `/flux watch` to a target gets one
message, edited as clusters finish ("applied on 7/9 clusters"), at most every ``SHOW_EVERY`` seconds.

Progress lives in the job store (targets, rows, statuses already posted), so a job picked up again
after its worker died carries on without posting anything twice.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot import errors
from bot.alert_views import Change
from bot.commands import ClusterTarget
from bot.flux_status import applied, failing, failure_line, synced_sha
from bot.git_capabilities import commit_statuses, repository_files
from bot.git_host import CheckRun
from bot.gitevents import PushEvent
from bot.models import Compliance, FluxConfigState, arm_time
from bot.policy import Identity
from bot.ports import CommitStatuses, Reporter, RepositoryFiles
from bot.render.markdown import check_run_text
from bot.render.wording import short_revision
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.failure_events import event_line, failure_events
from bot.usecases.push_statuses import TraceStatuses, aggregated
from bot.usecases.push_targets import Target as Target  # Target and tracks: re-exported, as they were defined here
from bot.usecases.push_targets import bulk_states, find_targets
from bot.usecases.push_targets import tracks as tracks
from bot.views import Phase, PushView, TraceRow, TraceState
from bot.watches import may_tell

log = logging.getLogger(__name__)

#: while watching, the channels' messages and the check run are edited at most this often (seconds): one
#: write each per interval however many clusters moved (the final one goes at once)
SHOW_EVERY = 3.0
#: targets newly failed in a round whose Flux events are read to say why (each costs an ARM credential POST and
#: an events list, seconds when the cluster cannot be reached); the others keep ARM's message
WHY_PER_ROUND = 5
#: and at most this long per round (seconds; the round's cadence matters more than the reasons)
WHY_BUDGET = 5.0
_CHECK_CONCLUSION = {True: "success", False: "failure"}
#: targets of a push the watch scan looks at as soon as the push is decided
WATCH_CHECKS = 50


class Evaluator:
    """Decides how far one configuration got with the pushed commit."""

    def __init__(
        self, event: PushEvent, host: RepositoryFiles | None, *, settle: float, clock: Callable[[], float]
    ) -> None:
        self.event = event
        self.history = host
        self.settle = settle
        self.clock = clock
        self._descends: dict[str, bool] = {}
        self._failing_since: dict[str, float] = {}

    def reached(self, synced: str) -> bool:
        """The synced commit is the pushed one, or a later one on the branch."""
        after, before = self.event.after.lower(), self.event.before.lower()
        if synced == after:
            return True
        if synced == before or self.history is None:
            return False
        if synced not in self._descends:
            try:
                self._descends[synced] = self.history.is_ancestor(self.event.repo, after, synced)
            except errors.FluxopsError as error:
                if error.retryable:
                    raise
                log.warning("cannot tell whether %s contains %s: %s", synced, after, error.message)
                self._descends[synced] = False
        return self._descends[synced]

    def row(self, target: Target, state: FluxConfigState) -> TraceRow:
        row = TraceRow(cluster=target.label, config=target.config, state=TraceState.PENDING)
        revision = state.source_synced_commit or ""
        row = replace(row, revision=revision)
        if state.provisioning_state in ("Failed", "Canceled"):
            message = state.error_message or "no message"
            return replace(
                row, state=TraceState.ERROR, detail=f"Azure reports provisioning {state.provisioning_state}: {message}"
            )
        if state.compliance_state == Compliance.SUSPENDED:
            return replace(row, state=TraceState.ERROR, detail="the configuration is suspended: it applies no commit")
        synced = synced_sha(state)
        after = self.event.after
        if synced is None or not self.reached(synced):
            source_failing = [o for o in state.statuses if o.kind.endswith("Repository") and failing(o)]
            if source_failing:
                return replace(row, state=TraceState.FAILED, detail=failure_line(source_failing[0]))
            have = f"at {short_revision(synced)}" if synced else "not synced yet"
            return replace(row, detail=f"{have}; waiting for {short_revision(after)}")
        key = f"{target.cluster_id}/{target.config}"
        arrived = arm_time(state.source_updated_at)
        broken = [o for o in state.statuses if failing(o)]
        if broken:
            first = self._failing_since.setdefault(key, self.clock())
            for obj in broken:
                ready = obj.ready
                assert ready is not None
                changed = arm_time(ready.last_transition_time)
                fresh = synced in ready.message or (arrived is not None and changed is not None and changed >= arrived)
                if fresh or self.clock() - first >= self.settle:
                    return replace(row, state=TraceState.FAILED, detail=failure_line(obj))
            return replace(row, detail=f"synced {short_revision(synced)}; applying")
        self._failing_since.pop(key, None)
        kustomizations = [o for o in state.statuses if o.kind == "Kustomization"]
        done = all(applied(o, synced) for o in kustomizations)
        if done and state.compliance_state == Compliance.COMPLIANT:
            later = "" if synced == after else " (a later commit)"
            return replace(row, state=TraceState.APPLIED, detail=f"applied {short_revision(synced)}{later}")
        return replace(row, detail=f"synced {short_revision(synced)}; applying")


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------


class PushTrace:
    def __init__(self, job: Job, event: PushEvent) -> None:
        self.job = job
        self.event = event
        self.ports = job.ports
        try:
            host = self.ports.git.host(event.repo.provider)
            self.statuses: CommitStatuses | None = commit_statuses(host)
            self.history: RepositoryFiles | None = repository_files(host)
        except errors.ConfigurationError as error:
            log.warning("push %s: statuses cannot be posted: %s", event.after[:12], error.message)
            self.statuses = self.history = None
        self.reporters: dict[str, Reporter] = {}

    # -- durable state ---------------------------------------------------------------------------

    def _get(self, key: str) -> str | None:
        return self.ports.jobs.get(self.job.job_id, key)

    def _put(self, key: str, value: str) -> None:
        self.ports.jobs.put(self.job.job_id, key, value)

    def targets(self) -> list[Target]:
        saved = self._get("trace:targets")
        if saved is not None:
            return [Target(*item) for item in json.loads(saved)]
        found = find_targets(self.ports, self.event)
        self._put("trace:targets", json.dumps([[t.cluster_id, t.label, t.config] for t in found]))
        return found

    def saved_rows(self, targets: Sequence[Target]) -> list[TraceRow]:
        saved = self._get("trace:rows")
        if saved is not None:
            # rows saved before ``why`` existed have five fields
            return [TraceRow(c, n, TraceState(s), d, r, *why) for c, n, s, d, r, *why in json.loads(saved)]
        return [TraceRow(t.label, t.config, TraceState.PENDING, "waiting for Flux to fetch it") for t in targets]

    def save_rows(self, rows: Sequence[TraceRow]) -> None:
        self._put(
            "trace:rows",
            json.dumps([[r.cluster, r.config, r.state.value, r.detail, r.revision, r.why] for r in rows]),
        )

    # -- output ----------------------------------------------------------------------------------

    def view(self, rows: Sequence[TraceRow], phase: Phase) -> PushView:
        return PushView(
            job_id=self.job.job_id,
            repo=self.event.repo.full_name,
            branch=self.event.branch,
            sha=self.event.after,
            pusher=self.event.pusher,
            rows=tuple(rows),
            phase=phase,
            message=self.event.head_message,
        )

    def check_run(self, view: PushView) -> None:
        if self.statuses is None:
            return
        title, summary, text = check_run_text(view)
        finished = view.phase.terminal
        run = CheckRun(
            name="fluxops",
            status="completed" if finished else "in_progress",
            conclusion=_CHECK_CONCLUSION[view.phase is Phase.SUCCEEDED] if finished else None,
            title=title,
            summary=summary,
            text=text,
        )
        run_id = self._get("check_run")
        if run_id == "none":
            return
        created = self.statuses.publish_check_run(self.event.repo, self.event.after, run, run_id)
        if run_id is None:
            self._put("check_run", created or "none")

    def channels(self, targets: Sequence[Target]) -> dict[str, list[int]]:
        """Channel -> the rows it is shown: a channel watching a target gets the message while its watch's creator
        may see that target's cluster (bot.watches), and sees the rows of the clusters its watches' creators may
        see. Decided once per push, under the policy in force when the trace starts."""
        saved = self._get("trace:channels")
        if saved is not None:
            data = json.loads(saved)
            if isinstance(data, list):  # saved before rows were chosen per channel
                return {str(c): list(range(len(targets))) for c in data}
            return {str(c): [int(i) for i in rows] for c, rows in data.items()}
        subscriptions = self.ports.chat.subscriptions
        if subscriptions is None:
            return {}
        places = [self._place(t) for t in targets]
        creators: dict[str, set[Identity]] = {}
        for target, where in zip(targets, places, strict=True):
            if where is None:
                continue
            for entry in subscriptions.watchers(target.cluster_id, target.config):
                if entry.creator is not None and may_tell(self.ports.policy, entry, where.cluster, where.alias):
                    creators.setdefault(entry.channel, set()).add(entry.creator)
        policy = self.ports.policy
        found = {
            channel: [
                i
                for i, where in enumerate(places)
                if where is not None and any(policy.role_for(c, where.cluster, where.alias) is not None for c in people)
            ]
            for channel, people in sorted(creators.items())
        }
        self._put("trace:channels", json.dumps(found))
        return found

    def _place(self, target: Target) -> ResolvedCluster | None:
        try:
            return self.ports.clusters.resolve(ClusterTarget(target.cluster_id))
        except errors.FluxopsError:  # left the inventory: no channel hears about it
            return None

    def show(self, view: PushView, channels: Mapping[str, Sequence[int]]) -> None:
        self.ports.jobs.put(self.job.job_id, "phase", view.phase.value)
        make = self.ports.chat.channel_reporter
        for channel, shown in channels.items():
            if make is None:
                break
            reporter = self.reporters.get(channel)
            if reporter is None:
                reporter = self.reporters[channel] = make(self.job.record, channel)
            try:
                reporter.show(replace(view, rows=tuple(view.rows[i] for i in shown if i < len(view.rows))))
            except errors.FluxopsError as error:
                if error.retryable:
                    raise
                log.warning("push trace: cannot post in %s: %s", channel, error.message)
        try:
            self.check_run(view)
        except errors.FluxopsError as error:
            if error.retryable:
                raise
            log.warning("push trace: cannot publish the check run: %s", error.message)

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> Phase:
        if self.event.deleted:
            self._put("phase", Phase.SUCCEEDED.value)
            return Phase.SUCCEEDED
        targets = self.targets()
        if not targets:
            # nothing tracks this branch: a push like any other, nothing to say
            self._put("phase", Phase.SUCCEEDED.value)
            return Phase.SUCCEEDED
        rows = self.saved_rows(targets)
        channels = self.channels(targets)
        self._tell_watch(targets, check=False)
        clock = self.ports.pace.clock
        statuses = TraceStatuses(self.job, self.event, self.statuses, targets, clock=clock)
        statuses.start(rows)
        self.show(self.view(rows, Phase.WATCHING), channels)
        shown, unshown = clock(), False
        policy = self.ports.pace.watch
        evaluator = Evaluator(self.event, self.history, settle=3 * policy.longest, clock=clock)
        # the deadline holds across restarts of the job: a job that keeps crashing still times out
        saved = self._get("trace:deadline")
        if saved is None:
            saved = str(time.time() + policy.timeout)
            self._put("trace:deadline", saved)
        deadline = clock() + max(0.0, float(saved) - time.time())
        delay = policy.first
        while True:
            self.ports.pace.heartbeat(self.job.job_id)
            finished: list[int] = []
            failed_now: list[tuple[int, FluxConfigState]] = []
            looked = clock()
            changed = self._round(evaluator, targets, rows, finished, failed_now)
            if changed:
                self.save_rows(rows)  # before the statuses: a resumed run never decides a row twice
            if failed_now and self._explain(targets, rows, failed_now):
                self.save_rows(rows)
            statuses.update(rows, finished)
            if all(row.state.final for row in rows):
                break
            if clock() >= deadline:
                minutes = max(1, int(policy.timeout // 60))
                late = [index for index, row in enumerate(rows) if not row.state.final]
                for index in late:
                    rows[index] = replace(
                        rows[index],
                        state=TraceState.ERROR,
                        detail=f"timed out after {minutes} min; {rows[index].detail}",
                    )
                self.save_rows(rows)
                statuses.update(rows, late)
                break
            unshown = unshown or changed
            if unshown and clock() - shown >= SHOW_EVERY:
                self.show(self.view(rows, Phase.WATCHING), channels)
                shown, unshown = clock(), False
            # the delay runs from the start of this look: a round over many targets (one Resource Graph query of
            # 1,000 rows takes most of a second) does not stretch the cadence by its own length
            self.ports.pace.sleep(max(0.0, delay - (clock() - looked)))
            # while the agents report progress, look again soon: the last cluster to finish is seen within
            # the first poll interval; once nothing moves, back off
            delay = policy.first if changed else min(delay * policy.factor, policy.longest)
        phase = Phase.SUCCEEDED if all(r.state is TraceState.APPLIED for r in rows) else Phase.FAILED
        self.show(self.view(rows, phase), channels)
        self._tell_watch(targets, check=True)
        return phase

    def _tell_watch(self, targets: Sequence[Target], *, check: bool) -> None:
        """The watch scan learns who pushed what to each target (its alert names the last change) and, once the
        push is decided, looks at the first ``WATCH_CHECKS`` targets at once (the scan reads the others)."""
        checks = self.ports.chat.watch_checks
        if checks is None:
            return
        if not check:
            summary = f"push of {self.event.after[:7]} to {self.event.branch}"
            actor = f"{self.event.repo.provider}:{self.event.pusher}" if self.event.pusher else "someone"
            change = Change(actor=actor, summary=summary, at=self.ports.pace.wall_clock())
            for target in targets:
                checks.note_change(target.cluster_id, target.config, change)
            return
        for target in targets[:WATCH_CHECKS]:
            checks.check(target.cluster_id, target.config)

    def _round(
        self,
        evaluator: Evaluator,
        targets: Sequence[Target],
        rows: list[TraceRow],
        finished: list[int],
        failed_now: list[tuple[int, FluxConfigState]],
    ) -> bool:
        """Look at every target not final yet (in one index query when there are many), update ``rows`` and
        note in ``finished`` the ones that turned final (in ``failed_now`` the failed ones, with the state they
        failed in); True when any row changed."""
        changed = False
        pending = [target for target, row in zip(targets, rows, strict=True) if not row.state.final]
        states = bulk_states(self.ports, self.event, pending)
        for index, target in enumerate(targets):
            if rows[index].state.final:
                continue
            row, state = self._observe(evaluator, target, rows[index], states.get(target))
            if row.state is TraceState.FAILED and state is not None and row != rows[index]:
                failed_now.append((index, state))  # once per target: when it turns final
            if row != rows[index]:
                rows[index] = row
                changed = True
                if row.state.final:
                    finished.append(index)
        return changed

    def _observe(
        self, evaluator: Evaluator, target: Target, row: TraceRow, state: FluxConfigState | None
    ) -> tuple[TraceRow, FluxConfigState | None]:
        try:
            if state is None:
                state = self.ports.flux.get(target.ref, target.config)
        except errors.NotFound:
            gone = replace(
                row, state=TraceState.ERROR, detail="the configuration was deleted while the push was traced"
            )
            return gone, None
        return evaluator.row(target, state), state

    def _explain(
        self, targets: Sequence[Target], rows: list[TraceRow], failed_now: Sequence[tuple[int, FluxConfigState]]
    ) -> bool:
        """Say why for the first ``WHY_PER_ROUND`` targets failed this round, within ``WHY_BUDGET`` seconds;
        none when the push's statuses are grouped (a fleet: the statuses name clusters, not reasons). True when
        a row changed."""
        if self.ports.cluster_api is None or aggregated(targets):
            return False
        clock = self.ports.pace.clock
        started, changed = clock(), False
        for index, state in failed_now[:WHY_PER_ROUND]:
            if clock() - started >= WHY_BUDGET:
                break
            why = self._why(targets[index], state)
            if why:
                rows[index] = replace(rows[index], why=why)
                changed = True
        return changed

    def _why(self, target: Target, state: FluxConfigState) -> str:
        """The newest Warning event of the objects failing in ``state`` ("" without cluster access, or when the
        events cannot be read: the row's detail still says what ARM reports)."""
        found = failure_events(self.ports, target.ref, state)
        if found is None or not found.events:
            return ""
        return event_line(found.events[-1])


def trace_push(job: Job, event: PushEvent) -> Phase:
    """Run the trace of ``event`` to its end; the job's phase is the outcome."""
    return PushTrace(job, event).run()
