"""`/flux key rotate --https-key-ref REF`: hand a rotated HTTPS credential to every configuration using it.

Azure DevOps has no deploy keys, so its repositories are read over HTTPS with a token (a PAT) that
fluxops holds in a credential file. Rotating it: create the new token in Azure DevOps next to the old
one, write it into the credential file, then run this. fluxops gives the new value to each configuration
that was created or updated with ``--https-key-ref REF`` (it records them: ARM never returns protected
settings), verifies that each source fetched with it, and only then says the old token may be revoked.
If a configuration cannot fetch with the new value, every configuration switched so far gets the value
fluxops handed out before (held sealed), and the job says so.
"""

from __future__ import annotations

import json

from bot import errors
from bot.commands import ClusterTarget, KeyRotate
from bot.key_records import HTTPS_KEY, CredentialUse, KeyUser
from bot.models import ProtectedSettings, Secret
from bot.scopes import repository_name
from bot.usecases.context import Job
from bot.usecases.key_provisioning import registry
from bot.usecases.key_switching import RotationFailed, Switching, authorize_users, tell_team
from bot.usecases.refusals import audit_refusal
from bot.usecases.rotation_freezes import check_rotation
from bot.usecases.scope_checks import credential_problem, current_url, refuse
from bot.views import ErrorInfo, Phase


def rotate_credential(job: Job, command: KeyRotate) -> None:
    """Re-hand credential ``command.credential`` to every configuration that was given it."""
    ref = command.credential
    assert ref is not None
    keys, _ = registry(job)
    use = keys.credential_use(ref)
    if not use.users:
        raise errors.NotFound(
            f"no configuration was given `--https-key-ref {ref}` through fluxops",
            recommendation="fluxops re-hands a credential only to configurations it created or updated with it",
        )
    # authorized over every configuration that was given it, before anything about them is said
    authorize_users(job, use.users)
    users, left_out = _in_scope(job, use)
    if not users:
        raise refuse(
            job,
            "",
            f"no configuration given `{ref}` may get it again: " + "; ".join(left_out),
            f"give them a credential scoped to where they read now (`/flux config update NAME -c CLUSTER "
            f"--https-user USER --https-key-ref REF`), or ask a fluxops admin to widen `credentials.{ref}`",
        )
    with job.ports.locks.hold(f"credential/{ref}", job.job_id):
        check_rotation(job, command, users, job.view.title)
        CredentialRotation(job, ref, users, left_out).run()


def _in_scope(job: Job, use: CredentialUse) -> tuple[tuple[KeyUser, ...], list[str]]:
    """The configurations that still may get credential ``use.ref`` (the policy still scopes it to their
    repository and cluster, and they still read the repository they were given it for), and why each other
    one is left out. Saved on first use, so a resumed rotation goes through the same configurations."""
    saved = job.ports.jobs.get(job.job_id, "rot:cred-users")
    if saved is not None:
        data = json.loads(saved)
        return tuple(KeyUser(c, n, label) for c, n, label in data["users"]), list(data["left_out"])
    users: list[KeyUser] = []
    left_out: list[str] = []
    for user in use.users:
        why = _why_not(job, use, user)
        if why is None:
            users.append(user)
        else:
            left_out.append(f"{user.shown()} ({why})")
    record = {"users": [[u.cluster_id, u.config, u.label] for u in users], "left_out": left_out}
    job.ports.jobs.put(job.job_id, "rot:cred-users", json.dumps(record))
    return tuple(users), left_out


def _why_not(job: Job, use: CredentialUse, user: KeyUser) -> str | None:
    try:
        where = job.ports.clusters.resolve(ClusterTarget(user.cluster_id))
        state = job.ports.flux.get(where.cluster.ref, user.config)
    except errors.NotFound:
        return "it no longer exists"
    role = use.role_of(user)
    if role != HTTPS_KEY:
        return f"it was given `{use.ref}` as its {role.replace('_', ' ')}, not as an HTTPS token"
    url = current_url(state)
    if url is None:
        return "it no longer reads a git repository"
    given_for = use.url_of(user)
    if given_for is not None and repository_name(given_for) != repository_name(url):
        return f"it reads {repository_name(url) or url} now, not {repository_name(given_for) or given_for}"
    problem = credential_problem(job.ports.policy, use.ref, url, where.cluster, where.alias)
    return None if problem is None else problem[0]


class CredentialRotation(Switching):
    def __init__(self, job: Job, ref: str, users: tuple[KeyUser, ...], left_out: list[str] | None = None) -> None:
        super().__init__(job)
        self.ref = ref
        self.users = users
        self.left_out = left_out or []
        self.keys, _ = registry(job)

    def run(self) -> None:
        job, ref = self.job, self.ref
        job.show(phase=Phase.RUNNING, note="")
        new = job.ports.keys.credentials.get(ref)
        previous = self.keys.unseal(f"cred:{ref}")
        rolling_back = self._get("rollback")
        if rolling_back is not None:  # a roll-back a retry or a dead worker interrupted: finish it, never go forward
            self._roll_back(rolling_back, previous)
            return
        resumed = any(self._started(f"switch:{i}") for i in range(len(self.users)))
        if previous == new and not resumed:
            job.show(
                phase=Phase.SUCCEEDED,
                note=f"`{ref}` has not changed since fluxops last handed it out: put the new token in its "
                "credential file first, then rotate.",
            )
            return
        reason: str | None = None
        try:
            for index, user in enumerate(self.users):
                self._switch(index, user, ProtectedSettings(https_key=new), f"give {user.shown()} the new `{ref}`")
            self._checkpoint("switch")
            for index, user in enumerate(self.users):
                self._verify(index, user, "switch", f"verify {user.shown()} fetched with the new `{ref}`")
        except RotationFailed as failure:
            reason = failure.reason
        except errors.FluxopsError as error:
            # as with deploy keys: 429/5xx/timeouts retry and resume; anything else once a configuration has the
            # new value (a PATCH Azure refused, a configuration gone) must not leave them split between values
            if error.retryable or not any(self._started(f"switch:{i}") for i in range(len(self.users))):
                raise
            reason = f"{error.message} ({error.recommendation})" if error.recommendation else error.message
        if reason is not None:
            self._put("rollback", reason)  # from here on, a retried or resumed run only rolls back
            self._roll_back(reason, previous)
            return
        self.keys.seal(f"cred:{ref}", new)
        count = len(self.users)
        if not self.left_out:
            job.show(
                phase=Phase.SUCCEEDED,
                note=f"Every configuration using `{ref}` ({count}) fetched with its new value: the old token can be "
                "revoked in Azure DevOps now.",
            )
            return
        audit_refusal(job.ports.audit, job.record, f"`{ref}` not re-handed to: " + "; ".join(self.left_out), cluster="")
        job.show(
            phase=Phase.SUCCEEDED,
            note=f"{count} configuration{'s' if count != 1 else ''} given `{ref}` fetched with its new value. "
            f"Not given it, as the policy no longer lets them have it: {'; '.join(self.left_out)}. They still "
            "hold the old token: give them a credential scoped to where they read before the old one is revoked.",
        )

    def _roll_back(self, reason: str, previous: Secret | None) -> None:
        job = self.job
        problems: list[str] = []
        if previous is None:
            problems.append("fluxops holds no earlier value to go back to")
        else:
            for index, user in enumerate(self.users):
                if not self._started(f"switch:{index}"):
                    continue
                settings = ProtectedSettings(https_key=previous)
                self._switch(index, user, settings, f"give {user.shown()} the previous `{self.ref}`", back=True)
                try:
                    self._verify(index, user, "back", f"verify {user.shown()} fetches again")
                except RotationFailed as failure:
                    problems.append(failure.reason)
        restored = "every configuration is back on the previous value" if not problems else "; ".join(problems)
        error = ErrorInfo(
            doing=f"rotating credential `{self.ref}`",
            message=f"{reason}. Rolled back: {restored}.",
            recommendation="check the new token (scope Code: Read, not expired) and the credential file, then rotate "
            "again; do not revoke the old token yet",
        )
        job.fail_running_steps()
        job.show(phase=Phase.FAILED, note="", error=error)
        job.reporter.private(job.view)
        tell_team(job, f"Rotation of credential `{self.ref}` failed and was rolled back: {error.message}")
