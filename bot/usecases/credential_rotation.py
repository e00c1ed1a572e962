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

from bot import errors
from bot.deploy_keys import KeyUser
from bot.models import ProtectedSettings, Secret
from bot.usecases.context import Job
from bot.usecases.deploy_keys import registry
from bot.usecases.key_rotation import RotationFailed, Switching, authorize_users, tell_team
from bot.views import ErrorInfo, Phase


def rotate_credential(job: Job, ref: str) -> None:
    keys, _ = registry(job)
    users = keys.credential_use(ref).users
    if not users:
        raise errors.NotFound(
            f"no configuration was given `--https-key-ref {ref}` through fluxops",
            recommendation="fluxops re-hands a credential only to configurations it created or updated with it",
        )
    authorize_users(job, users)
    with job.ports.locks.hold(f"credential/{ref}", job.job_id):
        CredentialRotation(job, ref, users).run()


class CredentialRotation(Switching):
    def __init__(self, job: Job, ref: str, users: tuple[KeyUser, ...]) -> None:
        super().__init__(job)
        self.ref = ref
        self.users = users
        self.keys, _ = registry(job)

    def run(self) -> None:
        job, ref = self.job, self.ref
        job.show(phase=Phase.RUNNING, note="")
        new = job.ports.credentials.get(ref)
        previous = self.keys.unseal(f"cred:{ref}")
        resumed = any(self._started(f"switch:{i}") for i in range(len(self.users)))
        if previous == new and not resumed:
            job.show(
                phase=Phase.SUCCEEDED,
                note=f"`{ref}` has not changed since fluxops last handed it out: put the new token in its "
                "credential file first, then rotate.",
            )
            return
        try:
            for index, user in enumerate(self.users):
                self._switch(index, user, ProtectedSettings(https_key=new), f"give {user.shown()} the new `{ref}`")
            self._checkpoint("switch")
            for index, user in enumerate(self.users):
                self._verify(index, user, "switch", f"verify {user.shown()} fetched with the new `{ref}`")
        except RotationFailed as failure:
            self._roll_back(failure.reason, previous)
            return
        self.keys.seal(f"cred:{ref}", new)
        count = len(self.users)
        job.show(
            phase=Phase.SUCCEEDED,
            note=f"Every configuration using `{ref}` ({count}) fetched with its new value: the old token can be "
            "revoked in Azure DevOps now.",
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
