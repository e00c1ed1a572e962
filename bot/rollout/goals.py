"""What a run waits for after each write, judged from what ARM reports:

- a configuration created or updated: provisioning Succeeded, a status the agent reported after the write, and
  Compliant with every Kustomization at the commit the source synced (Suspended when the write suspends it);
- a configuration deleted: gone;
- the flux extension installed or updated: provisioning Succeeded with the new settings visible.

``landed`` tells whether a write whose fate a crash hid is already there, so it is not sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from bot.fleet import CreateConfig, DeleteConfig, InstallExtension, Operation, UpdateConfig, UpdateExtension
from bot.fleet.config_diff import update_diff
from bot.fleet.diff import Action
from bot.flux_patch import changes_config, changes_extension
from bot.flux_status import applied, failing, failure_line, synced_sha
from bot.models import Compliance, ExtensionState, FluxConfigState, GitSource, ObjectStatus, Provisioning, arm_time
from bot.render.wording import short_revision

Observed = FluxConfigState | ExtensionState | None
_ENDED_BADLY = ("Failed", "Canceled")


class Verdict(StrEnum):
    WAITING = "waiting"
    DONE = "done"
    FAILING = "failing"  # Non-Compliant: final once it lasts (dependencies settle on their own) or is fresh
    FAILED = "failed"


@dataclass(frozen=True)
class Seen:
    verdict: Verdict
    detail: str


def judge(op: Operation, state: Observed, written_at: float) -> Seen:
    """How far ``op``, sent at ``written_at`` (epoch seconds), got by what ARM reports now (None: absent)."""
    if isinstance(op, DeleteConfig):
        if state is None:
            return Seen(Verdict.DONE, "deleted")
        if state.provisioning_state in _ENDED_BADLY:
            return Seen(Verdict.FAILED, f"deleting: provisioning {state.provisioning_state}")
        return Seen(Verdict.WAITING, "deleting")
    if isinstance(op, InstallExtension | UpdateExtension):
        return _extension(op, state if isinstance(state, ExtensionState) else None)
    return _configuration(op, state if isinstance(state, FluxConfigState) else None, written_at)


def _extension(op: InstallExtension | UpdateExtension, state: ExtensionState | None) -> Seen:
    if state is None:
        return Seen(Verdict.WAITING, "the flux extension is not visible yet")
    if state.provisioning_state in _ENDED_BADLY:
        return Seen(Verdict.FAILED, f"flux extension provisioning {state.provisioning_state}: {state.error or '-'}")
    if isinstance(op, UpdateExtension) and changes_extension(state, op.patch):
        return Seen(Verdict.WAITING, "waiting for Azure to show the new settings")
    if state.provisioning_state == Provisioning.SUCCEEDED:
        return Seen(Verdict.DONE, f"flux extension {state.current_version or state.version or ''}".strip())
    return Seen(Verdict.WAITING, f"flux extension {state.provisioning_state or 'provisioning'}")


def _configuration(op: CreateConfig | UpdateConfig, state: FluxConfigState | None, written_at: float) -> Seen:
    if state is None:
        return Seen(Verdict.WAITING, "not visible in Azure yet")
    if state.provisioning_state in _ENDED_BADLY:
        message = state.error_message or "no message"
        return Seen(Verdict.FAILED, f"provisioning {state.provisioning_state}: {message}")
    if state.provisioning_state != Provisioning.SUCCEEDED:
        return Seen(Verdict.WAITING, f"provisioning {state.provisioning_state or 'not reported'}")
    if not landed(op, state):  # what is read is from before the write (Resource Graph lags ARM)
        return Seen(Verdict.WAITING, "waiting for Azure to show the change")
    reported = arm_time(state.status_updated_at)
    if reported is None or reported < datetime.fromtimestamp(written_at, UTC):
        return Seen(Verdict.WAITING, "waiting for the flux agent to report")
    if state.compliance_state == Compliance.SUSPENDED:
        suspends = state.spec is not None and state.spec.suspend
        return Seen(Verdict.DONE if suspends else Verdict.FAILED, "Suspended")
    branch = _branch(state)
    if branch is not None and not _synced_from(state, branch):
        return Seen(Verdict.WAITING, f"waiting for the source to sync from {branch}")
    sha = synced_sha(state)
    broken = [o for o in state.statuses if failing(o) and not _waits_for_dependency(o)]
    if broken:
        return Seen(Verdict.FAILING, f"{state.compliance_state or 'Non-Compliant'}: {failure_line(broken[0])}")
    if state.compliance_state == Compliance.NON_COMPLIANT and not any(_waits_for_dependency(o) for o in state.statuses):
        return Seen(Verdict.FAILING, f"Non-Compliant: {state.error_message or 'no object says why'}")
    kustomizations = [o for o in state.statuses if o.kind == "Kustomization"]
    if state.compliance_state == Compliance.COMPLIANT:
        if sha is None:  # a revision that is not a commit (OCI digest, bucket etag): every Kustomization Ready
            if all(o.ready is not None and o.ready.status == "True" for o in kustomizations):
                revision = state.source_synced_commit or "its source's revision"
                return Seen(Verdict.DONE, f"Compliant at {short_revision(revision)}")
        elif all(applied(o, sha) for o in kustomizations):
            return Seen(Verdict.DONE, f"Compliant at {short_revision(sha)}")
    have = f"synced {short_revision(sha)}" if sha else "not synced yet"
    return Seen(Verdict.WAITING, f"{state.compliance_state or 'Pending'}, {have}")


def _waits_for_dependency(obj: ObjectStatus) -> bool:
    """A Kustomization waiting for one it depends on is not failing: the dependency's own status says how it goes."""
    ready = obj.ready
    return ready is not None and ready.status == "False" and ready.reason == "DependencyNotReady"


def _branch(state: FluxConfigState) -> str | None:
    source = state.spec.source if state.spec is not None else None
    return source.ref.branch if isinstance(source, GitSource) and source.ref.branch else None


def _synced_from(state: FluxConfigState, branch: str) -> bool:
    """``sourceSyncedCommitId`` names the branch the configuration asks for ("main/<sha>", "main@sha1:<sha>")."""
    synced = state.source_synced_commit or ""
    return synced.startswith((f"{branch}/", f"{branch}@")) or ("/" not in synced and "@" not in synced)


def landed(op: Operation, state: Observed) -> bool:
    """Whether the change ``op`` makes is already what ARM holds (so writing it again would change nothing)."""
    if isinstance(op, DeleteConfig):
        return state is None
    if isinstance(op, InstallExtension):
        return isinstance(state, ExtensionState)
    if isinstance(op, UpdateExtension):
        return isinstance(state, ExtensionState) and not changes_extension(state, op.patch)
    if not isinstance(state, FluxConfigState) or state.spec is None:
        return False
    if isinstance(op, CreateConfig):  # secrets are never read back: what can be compared is compared
        return update_diff(op.spec, state).action is Action.UNCHANGED
    return not changes_config(state.spec, replace(op.patch, protected=None))
