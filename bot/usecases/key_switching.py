"""Switching configurations to other protected settings, and proving their sources fetched with them.

What a deploy key rotation (bot.usecases.key_rotation) and an HTTPS credential rotation
(bot.usecases.credential_rotation) both do: authorize the person over every cluster whose configurations
switch, switch each configuration (an ARM PATCH of its protected settings, resumable), verify each source
fetched with what was switched in, and tell the policy's channel when it went wrong. Every step is recorded
in the job store under ``rot:``, so a resumed job skips what is done.

How a fetch is proved: with cluster access (``ports.cluster_api``), fluxops waits until the agent reported to
Azure after the switch (``statusUpdatedAt`` later than before it: the agent has put the new secret on the
cluster; a fetch asked before that would run with the old one), then asks the source to reconcile now
(``reconcile.fluxcd.io/requestedAt``, saved before it is asked so a resumed job follows the same request) and
reads the source's status: handled (``lastHandledReconcileAt`` is the value asked) and Ready True with an
artifact revision is a fetch with what the configuration holds now; Ready False is Flux's reason for failing.
That takes seconds. Without cluster access, or where a cluster's API refuses or cannot be reached (said in the
job's message), the proof comes from what Flux reports to Azure: a Ready transition after the switch, and
after the revoke ``RECHECK_INTERVALS`` fetch intervals of Ready reports, which takes that long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot import errors
from bot.cluster_ids import parse_cluster_id
from bot.commands import ClusterTarget, Role
from bot.decision import Decision
from bot.jobs import SCHEDULE
from bot.key_records import KeyUser
from bot.models import ClusterRef, FluxConfigPatch, FluxConfigState, ProtectedSettings, Provisioning, arm_time
from bot.policy import Identity
from bot.render.wording import interval as interval_text
from bot.usecases.comments import POLICY_PLATFORM
from bot.usecases.configs import lock_key
from bot.usecases.context import Job
from bot.usecases.reconcile_requests import Requests, source_object
from bot.usecases.reconciliation import failing_objects
from bot.views import StepState, TextView

#: a source that stays Ready proves a fetch after a switch by this many fetch intervals of Ready reports
RECHECK_INTERVALS = 1.5


class RotationFailed(Exception):
    """Verification failed: roll back. ``reason`` says what Flux reported (safe to show)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def asker(job: Job) -> Identity:
    """Who asked for the rotation: as intake decided, with the Slack user groups it expanded (roles through a
    group count here too)."""
    record = job.record
    if record.decision:
        return Decision.from_json(record.decision).identity
    return Identity(POLICY_PLATFORM.get(record.platform, record.platform), record.actor)


def authorize_users(job: Job, users: Sequence[KeyUser]) -> None:
    """An operator of every cluster whose configurations switch keys (the beat task needs no one)."""
    if job.record.platform == SCHEDULE:
        return
    identity = asker(job)
    hidden = 0
    for user in users:
        resolved = job.ports.clusters.resolve(ClusterTarget(user.cluster_id))
        if job.ports.policy.role_for(identity, resolved.cluster, resolved.alias) is None:
            hidden += 1  # not named: this person may not learn which clusters they are
            continue
        job.ports.policy.require(identity, Role.OPERATOR, resolved.cluster, resolved.alias, "key rotate")
    if hidden:
        raise errors.Forbidden(
            f"it is also used on {hidden} cluster(s) you have no role on; `key rotate` needs operator on "
            "every cluster that uses it",
            recommendation="ask a fluxops admin to rotate it",
        )


class Switching:
    """Steps that switch configurations to other protected settings and verify their fetches, recorded
    in the job store under ``rot:`` so a resumed job skips what is done."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.ports = job.ports

    def _get(self, key: str) -> str | None:
        return self.ports.jobs.get(self.job.job_id, f"rot:{key}")

    def _put(self, key: str, value: str) -> None:
        self.ports.jobs.put(self.job.job_id, f"rot:{key}", value)

    def _done(self, key: str) -> bool:
        return self.job.done(f"rot:{key}")

    def _mark(self, key: str) -> None:
        self.job.mark_done(f"rot:{key}")

    def _started(self, tag: str) -> bool:
        return self._done(tag) or self.ports.jobs.get(self.job.job_id, f"token:rot-{tag}") is not None

    def _checkpoint(self, step: str) -> None:
        self.ports.pace.checkpoint(self.job.job_id, f"rotate.{step}")

    def _switch(
        self, index: int, user: KeyUser, protected: ProtectedSettings, text: str, *, back: bool = False
    ) -> None:
        tag = f"{'back' if back else 'switch'}:{index}"
        if self._done(tag):
            return
        job = self.job
        cluster = parse_cluster_id(user.cluster_id)
        job.step(text)
        with self.ports.locks.hold(lock_key(cluster, user.config), job.job_id):
            if self._get(f"since:{tag}") is None:
                before = self.ports.flux.get(cluster, user.config)
                self._put(f"since:{tag}", before.status_updated_at or "")
            patch = FluxConfigPatch(protected=protected)
            job.operation(
                f"rot-{tag}", lambda: self.ports.flux.begin_update(cluster, user.config, patch), self.ports.flux.resume
            )
        self._mark(tag)
        job.finish_step(text)

    def _verify(self, index: int, user: KeyUser, after: str, text: str) -> None:
        tag = f"verify-{after}:{index}"
        if self._done(tag):
            return
        job = self.job
        job.step(text)
        since = self._get(f"since:{after}:{index}") or ""
        cluster = parse_cluster_id(user.cluster_id)
        proof = self._prove_by_reconcile(tag, user, switched_since=since)
        if proof is not None:
            if proof.failure:
                job.step(text, StepState.FAILED)
                raise RotationFailed(
                    f"{user.shown()} could not fetch with the {after_word(after)} key: {proof.failure}"
                )
            self._mark(tag)
            job.finish_step(text)
            return
        deadline = self.ports.pace.clock() + self.ports.pace.watch.timeout
        delay = self.ports.pace.watch.first
        while True:
            self.ports.pace.heartbeat(job.job_id)
            state = self.ports.flux.get(cluster, user.config)
            verdict = fetched_since(state, since)
            if verdict == NOT_YET and state.provisioning_state == Provisioning.SUCCEEDED:
                # A source that stays Ready keeps its transition time: an interval and a half of Ready
                # reports after the switch also proves a fetch with what was switched in.
                intervals = RECHECK_INTERVALS / self.ports.pace.watch.flux_time_scale
                verdict = still_fetching(state, since, intervals)
            if verdict.fetched:
                break
            if verdict.failure:
                job.step(text, StepState.FAILED)
                raise RotationFailed(
                    f"{user.shown()} could not fetch with the {after_word(after)} key: {verdict.failure}"
                )
            if self.ports.pace.clock() >= deadline:
                job.step(text, StepState.FAILED)
                raise RotationFailed(
                    f"{user.shown()} reported no fetch within {int(self.ports.pace.watch.timeout)} s of the switch"
                )
            self.ports.pace.sleep(delay)
            delay = min(delay * self.ports.pace.watch.factor, self.ports.pace.watch.longest)
        self._mark(tag)
        job.finish_step(text)

    # -- proofs through the cluster's Kubernetes API ------------------------------------------------

    def _prove_by_reconcile(self, tag: str, user: KeyUser, *, switched_since: str | None = None) -> Fetch | None:
        """Ask the source of ``user`` to reconcile now and read how it went: FETCHED, or a failure in Flux's
        words. None: no cluster access to ``user``'s cluster (the caller proves it from Azure's reports).

        ``switched_since``: after a switch, the configuration's ``statusUpdatedAt`` before it. The PATCH is done
        when ARM holds the new secret, not when the agent has put it on the cluster; a reconcile asked before
        that fetches with the old secret (still registered) and proves nothing. So it first waits until the
        agent reported to Azure after the switch."""
        api = self.ports.cluster_api
        if api is None or self._get(f"arm-only:{user.cluster_id.lower()}") is not None:
            return None
        cluster = parse_cluster_id(user.cluster_id)
        requests = Requests(self.job, api, cluster)
        try:
            state = self.ports.flux.get(cluster, user.config)
            if switched_since is not None and self._get(f"requested:{tag}") is None:
                state = self._agent_reported(cluster, user, switched_since, state)
                if not Provisioning.failed(state.provisioning_state) and not agent_report_after(state, switched_since):
                    return Fetch(
                        failure=f"its agent reported nothing to Azure within {int(self.ports.pace.watch.timeout)} s "
                        "of the switch, so fluxops cannot tell it put the new secret on the cluster"
                    )
            if Provisioning.failed(state.provisioning_state):
                return fetched_since(state, "")  # Azure gave up on the switch: that is the failure
            ref = source_object(state)
            answer = requests.follow(ref, requests.ask(ref, f"rot:requested:{tag}"))
        except (
            errors.ClusterAccessDenied,
            errors.ClusterUnreachable,
            errors.NotFound,
            errors.InvalidRequest,
        ) as problem:
            # refused, out of reach, no such source object, a source kind fluxops cannot ask: Azure's reports
            self._arm_only(user, problem)
            return None
        if answer.obj is None:
            return Fetch(
                failure=f"Flux did not handle a reconcile of {ref} within {int(self.ports.pace.watch.timeout)} s"
            )
        if not answer.ready:
            return Fetch(failure=answer.failure)
        if not answer.obj.revision:
            return Fetch(failure=f"{ref} reports Ready without an artifact revision")
        return FETCHED

    def _agent_reported(
        self, cluster: ClusterRef, user: KeyUser, since: str, state: FluxConfigState
    ) -> FluxConfigState:
        """Poll the configuration (backing off as watches do) until the agent reported after ``since``, Azure
        gave up on the switch, or the watch timeout passed; the last state read."""
        pace = self.ports.pace
        deadline = pace.clock() + pace.watch.timeout
        delay = pace.watch.first
        while agent_report_after(state, since) is False and not Provisioning.failed(state.provisioning_state):
            if pace.clock() >= deadline:
                break
            pace.heartbeat(self.job.job_id)
            pace.sleep(delay)
            delay = min(delay * pace.watch.factor, pace.watch.longest)
            state = self.ports.flux.get(cluster, user.config)
        return state

    def _arm_only(self, user: KeyUser, problem: errors.FluxopsError) -> None:
        """From now on, prove fetches on ``user``'s cluster from Azure's reports, and say why in the message."""
        cluster = user.cluster_id.rsplit("/", 1)[-1]
        self._put(f"arm-only:{user.cluster_id.lower()}", problem.message)
        self.job.show(
            note=f"fluxops cannot use the Kubernetes API of {cluster} ({problem.message}), so it proves fetches "
            f"there from what Flux reports to Azure: {self.arm_only_wait(user)}"
        )

    def arm_only_wait(self, *users: KeyUser) -> str:
        """How long proving fetches from Azure's reports takes, said up front: the recheck after the revoke waits
        RECHECK_INTERVALS of the longest fetch interval of ``users``."""
        longest = 0
        for user in users:
            state = self.ports.flux.get(parse_cluster_id(user.cluster_id), user.config)
            longest = max(longest, state.spec.source.sync_interval_seconds if state.spec is not None else 600)
        wait = int(RECHECK_INTERVALS * longest / self.ports.pace.watch.flux_time_scale)
        return (
            f"about {interval_text(wait)} after the old key is revoked ({RECHECK_INTERVALS:g} fetch intervals of "
            f"{interval_text(longest)})"
        )


def tell_team(job: Job, text: str) -> None:
    """Say it in the policy's ``deploy_keys.channel`` too, unless the job already reports there."""
    channel = job.ports.keys.policy.channel
    if not channel or channel == job.record.channel or job.ports.chat.channel_reporter is None:
        return
    job.ports.chat.channel_reporter(job.record, channel).private(TextView(text, error=True))


def after_word(after: str) -> str:
    return "new" if after == "switch" else "old"


# -- reading what Flux reports ----------------------------------------------------------------------


def _source(state: FluxConfigState) -> object | None:
    kind = "GitRepository"
    return next((o for o in state.statuses if o.kind == kind and o.name == state.name), None) or next(
        (o for o in state.statuses if o.kind == kind), None
    )


@dataclass(frozen=True)
class Fetch:
    """What Flux says of a source's fetches since a moment: it ``fetched``, it failed (``failure`` says what
    Flux reports), or neither yet."""

    fetched: bool = False
    failure: str = ""


NOT_YET = Fetch()
FETCHED = Fetch(fetched=True)


def agent_report_after(state: FluxConfigState, since: str) -> bool:
    """The agent reported to Azure after ``since`` (a ``statusUpdatedAt``; "": it had never reported), so it
    has applied what was written before then."""
    reported, start = arm_time(state.status_updated_at), arm_time(since)
    if reported is None:
        return False
    return start is None or reported > start


def fetched_since(state: FluxConfigState, since: str) -> Fetch:
    """FETCHED: the source became Ready after ``since`` (a fetch with what was switched in); a failure: a fetch
    after ``since`` failed; NOT_YET: nothing to tell yet."""
    if Provisioning.failed(state.provisioning_state):
        return Fetch(
            failure=f"Azure reports provisioning {state.provisioning_state}: {state.error_message or 'no message'}"
        )
    if state.provisioning_state != Provisioning.SUCCEEDED:
        return NOT_YET
    source = _source(state)
    ready = getattr(source, "ready", None)
    if ready is None:
        return NOT_YET
    start, changed = arm_time(since), arm_time(ready.last_transition_time)
    fresh = start is None or (changed is not None and changed > start)
    if ready.status == "False" and fresh:
        return Fetch(failure=ready.message or "; ".join(failing_objects(state)) or "the source is not ready")
    return FETCHED if ready.status == "True" and fresh else NOT_YET


def still_fetching(state: FluxConfigState, since: str, intervals: float) -> Fetch:
    """After a revoke: a failure when the source failed since; FETCHED once it reported Ready ``intervals``
    fetch intervals after ``since`` (so at least one fetch happened after it); NOT_YET until then."""
    source = _source(state)
    ready = getattr(source, "ready", None)
    start = arm_time(since)
    if ready is not None and ready.status == "False":
        changed = arm_time(ready.last_transition_time)
        if start is None or (changed is not None and changed > start):
            return Fetch(failure=ready.message or "the source is not ready")
    if ready is None or ready.status != "True":
        return NOT_YET
    interval = state.spec.source.sync_interval_seconds if state.spec is not None else 600
    reported = arm_time(state.status_updated_at)
    if start is None or reported is None:
        return NOT_YET
    return FETCHED if reported >= start + timedelta(seconds=interval * intervals) else NOT_YET
