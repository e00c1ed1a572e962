"""`/flux key rotate`: replace deploy keys with zero downtime, step by step, rolled back on failure.

The order keeps every configuration able to fetch at every moment:

1. ``generate``  a new key (its private half sealed at once) — one key for every configuration rotated;
2. ``register``  its public half as a read-only deploy key on the repository (the old keys stay);
3. ``switch``    each configuration using an old key to the new one (ARM PATCH of protected settings);
4. ``verify``    each source fetched with the new key after its switch (a Ready transition it reports
                 after the switch, or a failed fetch, which starts the roll-back);
5. ``revoke``    the old deploy keys on GitHub (429/5xx are retried: the job resumes here);
6. ``recheck``   each source still fetches with the old keys gone (a full fetch interval of reports);
7. the new key is recorded in use; the old records and their sealed private halves are destroyed.

Each step is recorded in the job store before the next begins, and ``ports.pace.checkpoint`` is called after
it, so a job killed anywhere resumes where it stopped. A failed verify or recheck rolls back: old keys
that were revoked are registered again, every switched configuration gets its old key back and is
verified, and the new key is revoked and destroyed; the job ends Failed saying what happened, in its
channel and in the policy's ``deploy_keys.channel``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace

from bot import errors
from bot.cluster_ids import parse_cluster_id
from bot.commands import KeyRotate
from bot.jobs import SCHEDULE
from bot.key_records import ACTIVE, DeployKeyRecord, KeyUser, key_id_for
from bot.models import ProtectedSettings
from bot.repo_urls import canonical_repo
from bot.usecases.cluster_reconcile import CLUSTER_ACCESS_SETTING
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.key_provisioning import (
    KeyRepository,
    github_keys,
    key_repository,
    key_title,
    make_key,
    private_half,
    registry,
)
from bot.usecases.key_switching import (
    RECHECK_INTERVALS,
    RotationFailed,
    Switching,
    authorize_users,
    still_fetching,
    tell_team,
)
from bot.usecases.rotation_freezes import Postponed, check_rotation
from bot.views import ErrorInfo, Phase, StepState

#: waits longer than this give the worker back and resume later (Celery retries the job)
_LONGEST_IN_PROCESS_WAIT = 60.0


@dataclass(frozen=True)
class RotationPlan:
    """What one rotation does, fixed when it starts (saved, so a resumed job does the same)."""

    new_key: str
    old_keys: tuple[str, ...]
    repository: str
    users: tuple[tuple[KeyUser, str], ...]  # each configuration and the old key it used

    def to_json(self) -> str:
        users = [[u.cluster_id, u.config, u.label, old] for u, old in self.users]
        return json.dumps({"new": self.new_key, "old": list(self.old_keys), "repo": self.repository, "users": users})

    @classmethod
    def from_json(cls, text: str) -> RotationPlan:
        data = json.loads(text)
        users = tuple((KeyUser(c, n, label), old) for c, n, label, old in data["users"])
        return cls(new_key=data["new"], old_keys=tuple(data["old"]), repository=data["repo"], users=users)


class AlreadyRotated(Exception):
    """A scheduled rotation found its key gone: someone rotated it meanwhile; nothing to do."""


def rotate(job: Job, command: KeyRotate, where: ResolvedCluster | None) -> None:
    """Rotate the deploy key ``command`` names (HTTPS credentials: bot.usecases.credential_rotation)."""
    try:
        plan = _plan(job, command, where)
    except AlreadyRotated as gone:
        job.show(phase=Phase.SUCCEEDED, note=f"Nothing to rotate: {gone} any more (rotated meanwhile).")
        return
    _authorize(job, plan)
    with _holding(job, plan):
        plan = _current_users(job, plan)
        try:
            check_rotation(job, command, [user for user, _ in plan.users], job.view.title)
        except Postponed as frozen:
            job.show(
                phase=Phase.HALTED,
                note=f"Scheduled rotation postponed: {frozen}. fluxops starts it again at its next daily check, "
                "each day until the freeze is over; nothing was changed.",
            )
            return
        Rotation(job, plan).run()


# -- choosing what rotates --------------------------------------------------------------------------


def _plan(job: Job, command: KeyRotate, where: ResolvedCluster | None) -> RotationPlan:
    saved = job.ports.jobs.get(job.job_id, "rot:plan")
    if saved is not None:
        return RotationPlan.from_json(saved)
    keys, _ = registry(job)
    old: list[DeployKeyRecord]
    if command.key_id is not None:
        found = keys.get(command.key_id)
        old = [found] if found is not None and found.state == ACTIVE else []
        missing = f"fluxops has no deploy key {command.key_id} in use"
    elif command.repository is not None:
        key = canonical_repo(command.repository)
        old = [r for r in keys.all() if r.state == ACTIVE and key is not None and (r.host, r.full_name.lower()) == key]
        missing = f"no configuration uses a deploy key fluxops made for {command.repository}"
    else:
        assert command.name is not None
        assert where is not None
        found = keys.for_config(where.cluster.ref.arm_id, command.name)
        old = [found] if found is not None and found.state == ACTIVE else []
        missing = f"flux configuration '{command.name}' on {where.label} does not use a deploy key fluxops made"
    old = [r for r in old if r.users]
    if not old and job.record.platform == SCHEDULE:
        raise AlreadyRotated(missing)
    if not old:
        raise errors.NotFound(
            missing,
            recommendation="`/flux key status` lists the keys fluxops made; a configuration gets one with "
            "`/flux config create ... --deploy-key generate`",
        )
    repos = {(r.host.lower(), r.full_name.lower()) for r in old}
    if len(repos) != 1:
        raise errors.InvalidRequest("these keys are on different repositories", recommendation="rotate them one by one")
    clusters = {u.cluster_id.lower() for r in old for u in r.users}
    if len(old) > 1 and len(clusters) > 1 and not job.ports.keys.policy.may_share(old[0].repository):
        # one new key for all would share it between clusters, which the policy does not allow
        listed = ", ".join(f"`/flux key rotate --key {r.key_id}`" for r in old)
        raise errors.InvalidRequest(
            f"{old[0].full_name} has one deploy key per cluster ({len(old)} keys), and `deploy_keys.shared` "
            "does not let one key serve them all",
            recommendation=f"rotate them one by one: {listed}",
        )
    users = tuple(sorted(((u, r.key_id) for r in old for u in r.users), key=lambda pair: pair[0].key))
    plan = RotationPlan(
        new_key=key_id_for(job.job_id, "rotate"),
        old_keys=tuple(r.key_id for r in old),
        repository=old[0].repository,
        users=users,
    )
    job.ports.jobs.put(job.job_id, "rot:plan", plan.to_json())
    return plan


def _current_users(job: Job, plan: RotationPlan) -> RotationPlan:
    """The plan with the users its old keys have now that their locks are held: a configuration created
    with one of them between the plan and the locks switches too (before any switch only; then it is fixed)."""
    if job.done("rot:register") or job.ports.jobs.get(job.job_id, "token:rot-switch:0") is not None:
        return plan
    keys, _ = registry(job)
    records = [keys.get(key_id) for key_id in plan.old_keys]
    users = tuple(sorted(((u, r.key_id) for r in records if r is not None for u in r.users), key=lambda p: p[0].key))
    if not users or users == plan.users:
        return plan
    fresh = replace(plan, users=users)
    _authorize(job, fresh)
    job.ports.jobs.put(job.job_id, "rot:plan", fresh.to_json())
    return fresh


def _authorize(job: Job, plan: RotationPlan) -> None:
    authorize_users(job, [user for user, _ in plan.users])


@contextmanager
def _holding(job: Job, plan: RotationPlan) -> Iterator[None]:
    """One rotation per key at a time."""
    with ExitStack() as stack:
        for key_id in sorted({*plan.old_keys, plan.new_key}):
            stack.enter_context(job.ports.locks.hold(f"deploy-key/{key_id}", job.job_id))
        yield


# -- the rotation -----------------------------------------------------------------------------------


class Rotation(Switching):
    def __init__(self, job: Job, plan: RotationPlan) -> None:
        super().__init__(job)
        self.plan = plan
        self.keys, _ = registry(job)
        self.repo: KeyRepository = key_repository(plan.repository)
        self.host = github_keys(job, self.repo)

    def run(self) -> None:
        job = self.job
        job.show(phase=Phase.RUNNING, note="")
        if job.ports.cluster_api is None and not self._done("recheck"):
            job.show(
                note=f"fluxops runs without cluster access ({CLUSTER_ACCESS_SETTING}=off), so it proves each fetch "
                f"from what Flux reports to Azure: {self.arm_only_wait(*(u for u, _ in self.plan.users))}. With "
                f"{CLUSTER_ACCESS_SETTING}=on it asks Flux to fetch at once and takes about a minute."
            )
        if self._get("rollback") is not None:
            self.roll_back(self._get("rollback") or "")
            return
        try:
            self.forward()
        except RotationFailed as failure:
            self._put("rollback", failure.reason)
            self.roll_back(failure.reason)
        except errors.FluxopsError as error:
            # 429/5xx/timeouts: the task retries and the job resumes; anything else after the new key exists
            # (a PATCH Azure refused, a configuration gone) must not leave configurations split between keys
            if error.retryable or not self._done("register"):
                raise
            reason = f"{error.message} ({error.recommendation})" if error.recommendation else error.message
            self._put("rollback", reason)
            self.roll_back(reason)

    def forward(self) -> None:
        job, plan = self.job, self.plan
        users = [u for u, _ in plan.users]
        # 1 + 2: the new key, registered next to the old ones
        text = f"make a new deploy key for {self.repo.full_name}"
        if not self._done("register"):
            job.start_change()  # from here on a freeze no longer stops it: it runs to its end (or rolls back)
            job.step(text)
            record = make_key(job, self.repo, plan.new_key, tuple(users))
            self._mark("register")
            job.finish_step(text, f"registered new read-only deploy key {record.key_id} ({record.fingerprint})")
            self._checkpoint("register")
        new = self._record(plan.new_key)
        secret = private_half(job, new)
        # 3: every configuration switches to it
        for index, (user, _) in enumerate(plan.users):
            self._switch(
                index, user, ProtectedSettings(ssh_private_key=secret), f"switch {user.shown()} to {new.key_id}"
            )
        self._checkpoint("switch")
        # 4: each fetched with it
        for index, (user, _) in enumerate(plan.users):
            self._verify(index, user, "switch", f"verify {user.shown()} fetched with {new.key_id}")
        self._checkpoint("verify")
        # 5: the old keys go
        for old_id in plan.old_keys:
            self._revoke(old_id)
        self._checkpoint("revoke")
        # 6: and every source still fetches
        self._recheck()
        self._checkpoint("recheck")
        # 7: the books
        self._finish(new)

    # -- steps --------------------------------------------------------------------------------------

    def _record(self, key_id: str) -> DeployKeyRecord:
        record = self.keys.get(key_id)
        if record is None:
            raise errors.OperationFailed(
                f"fluxops lost the record of deploy key {key_id} in the middle of a rotation",
                recommendation="check Redis persistence (AOF); `/flux key status` shows what is left",
            )
        return record

    def _revoke(self, old_id: str) -> None:
        if self._done(f"revoke:{old_id}"):
            return
        old = self._record(old_id)
        text = f"revoke old deploy key {old.key_id} ({old.fingerprint})"
        self.job.step(text)
        if old.github_key_id is not None:
            # 429/5xx raise retryable errors: the task retries with backoff and the job resumes here
            self.host.remove_deploy_key(self.repo.ref, old.github_key_id)
        self._mark(f"revoke:{old_id}")
        self.job.finish_step(text)

    def _recheck(self) -> None:
        """After the revoke, each source must report a fetch interval and a half of Ready: a fetch happened."""
        job = self.job
        text = "verify every source still fetches with the old keys gone"
        if self._done("recheck"):
            return
        job.step(text)
        starts = self._get("recheck:since")
        if starts is None:
            starts = json.dumps(
                [
                    self.ports.flux.get(parse_cluster_id(u.cluster_id), u.config).status_updated_at or ""
                    for u, _ in self.plan.users
                ]
            )
            self._put("recheck:since", starts)
        since = json.loads(starts)
        waiting = []
        for index, (user, _) in enumerate(self.plan.users):
            proof = None if self._done(f"recheck:{index}") else self._prove_by_reconcile(f"recheck:{index}", user)
            if proof is None and not self._done(f"recheck:{index}"):
                waiting.append(index)  # no cluster access there: Azure's reports prove it
            elif proof is not None and proof.failure:
                job.step(text, StepState.FAILED)
                raise RotationFailed(f"{user.shown()} failed to fetch after the old key was revoked: {proof.failure}")
            elif proof is not None:
                self._mark(f"recheck:{index}")
        delay = self.ports.pace.watch.first
        give_back = self.ports.pace.clock() + _LONGEST_IN_PROCESS_WAIT
        while waiting:
            self.ports.pace.heartbeat(job.job_id)
            for index in list(waiting):
                user = self.plan.users[index][0]
                state = self.ports.flux.get(parse_cluster_id(user.cluster_id), user.config)
                verdict = still_fetching(state, since[index], RECHECK_INTERVALS / self.ports.pace.watch.flux_time_scale)
                if verdict.failure:
                    job.step(text, StepState.FAILED)
                    raise RotationFailed(
                        f"{user.shown()} failed to fetch after the old key was revoked: {verdict.failure}"
                    )
                if verdict.fetched:
                    waiting.remove(index)
            if not waiting:
                break
            if self.ports.pace.clock() >= give_back:
                raise errors.StillRunning(
                    "waiting for every source to fetch once more with the old keys gone: Azure's reports show it "
                    + self.arm_only_wait(*(self.plan.users[i][0] for i in waiting)),
                    recommendation="fluxops carries on by itself",
                    retry_after=30,
                )
            self.ports.pace.sleep(delay)
            delay = min(delay * self.ports.pace.watch.factor, self.ports.pace.watch.longest)
        self._mark("recheck")
        job.finish_step(text)

    def _finish(self, new: DeployKeyRecord) -> None:
        users = tuple(sorted(u for u, _ in self.plan.users))
        # atomically: a configuration another job gave the new key meanwhile stays on its record
        self.keys.update(
            new.key_id,
            lambda current: replace(
                current, users=tuple(sorted({*current.users, *users})), state=ACTIVE, replaces=self.plan.old_keys
            ),
            default=new,
        )
        for old_id in self.plan.old_keys:
            self.keys.delete(old_id)  # the record and the sealed private half: destroyed
        self._mark("finish")
        old = ", ".join(self.plan.old_keys)
        self.job.show(
            phase=Phase.SUCCEEDED,
            note=f"Rotated: {new.key_id} ({new.fingerprint}) replaces {old} on {len(users)} "
            f"configuration{'s' if len(users) != 1 else ''}; the old key is revoked and destroyed.",
        )

    # -- roll-back ----------------------------------------------------------------------------------

    def roll_back(self, reason: str) -> None:
        job, plan = self.job, self.plan
        job.show(note=f"rolling back: {reason}")
        problems: list[str] = []
        for old_id in plan.old_keys:
            if self._done(f"revoke:{old_id}") and not self._done(f"reregister:{old_id}"):
                old = self._record(old_id)
                text = f"register old deploy key {old_id} again"
                job.step(text)
                github_id = self.host.add_deploy_key(self.repo.ref, key_title(old.users), old.public_key)
                self.keys.update(old_id, functools.partial(replace, github_key_id=github_id), default=old)
                self._mark(f"reregister:{old_id}")
                job.finish_step(text)
        self._checkpoint("rollback.reregister")
        for index, (user, old_id) in enumerate(plan.users):
            if not self._started(f"switch:{index}"):
                continue  # never switched
            secret = private_half(job, self._record(old_id))
            self._switch(
                index,
                user,
                ProtectedSettings(ssh_private_key=secret),
                f"switch {user.shown()} back to {old_id}",
                back=True,
            )
        for index, (user, old_id) in enumerate(plan.users):
            if not self._done(f"back:{index}"):
                continue
            try:
                self._verify(index, user, "back", f"verify {user.shown()} fetches with {old_id} again")
            except RotationFailed as failure:
                problems.append(failure.reason)
        self._checkpoint("rollback.switch")
        new = self.keys.get(plan.new_key)
        if new is not None and not problems:
            text = f"revoke the new deploy key {new.key_id}"
            job.step(text)
            if new.github_key_id is not None:
                self.host.remove_deploy_key(self.repo.ref, new.github_key_id)
            self.keys.delete(new.key_id)
            job.finish_step(text)
        self._mark("rolled-back")
        restored = (
            f"every configuration is back on {', '.join(plan.old_keys)} and fetching"
            if not problems
            else "the roll-back could not restore every configuration: " + "; ".join(problems)
        )
        error = ErrorInfo(
            doing=f"rotating deploy key {', '.join(plan.old_keys)} of {self.repo.full_name}",
            message=f"{reason}. Rolled back: {restored}.",
            recommendation="`/flux status NAME -c CLUSTER` shows what Flux reports; fix the cause (repository access, "
            "GitHub deploy key policy) and rotate again"
            + ("" if not problems else "; both keys are left registered so nothing loses access"),
        )
        job.fail_running_steps()
        job.show(phase=Phase.FAILED, note="", error=error)
        job.reporter.private(job.view)
        tell_team(job, f"Deploy key rotation of {self.repo.full_name} failed and was rolled back: {error.message}")
