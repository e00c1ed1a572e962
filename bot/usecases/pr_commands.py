"""`/flux` commands typed in a pull-request comment (GitHub or Azure DevOps).

The web process took the command from the signed delivery, resolved its cluster, checked the policy and
stored that decision with the digest of the comment. Here the worker

1. checks the comment on the Git host is still exactly the one delivered, by the same author (an edit
   after it was sent never runs: "comment again"), and acknowledges it (a reaction, a like);
2. tells the commenter when intake refused the command (and audits it);
3. checks the commenter's access to the repository (read for reads, write for changes) — never the pull
   request's author — then runs the decided command like a Slack one (bot.usecases.executor checks the
   decision again), answering in one reply comment edited as the job moves.

Destructive commands stop at a confirmation; PRs have no buttons, so the same person (or anyone the
policy allows) replies `/flux confirm <job> <digest>` or `/flux cancel <job>` on the same pull request.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import errors
from bot.command_codec import decode
from bot.commands import (
    ApplyFleet,
    ApproveJob,
    CancelJob,
    ClusterTarget,
    ConfirmJob,
    PlanFleet,
    Reply,
    Role,
    Unwatch,
    UnwatchClusters,
    Watch,
    WatchClusters,
    WatchList,
)
from bot.decision import Decision, approvals_missing, is_decided, short
from bot.git_capabilities import pull_requests
from bot.git_host import CommentRef, Permission
from bot.gitevents import CommentEvent
from bot.jobs import Confirmation, JobRecord
from bot.policy import Identity
from bot.ports import PullRequests, Reporter
from bot.usecases import fleet_jobs
from bot.usecases.comments import CommentChanged, reread
from bot.usecases.context import JobPorts
from bot.usecases.executor import run_job
from bot.usecases.refusals import audit_refusal
from bot.views import Phase, TextView

log = logging.getLogger(__name__)


def _end(ports: JobPorts, record: JobRecord, phase: Phase) -> Phase:
    ports.jobs.put(record.job_id, "phase", phase.value)
    return phase


def _refuse(ports: JobPorts, record: JobRecord, reporter: Reporter, text: str) -> Phase:
    reporter.private(TextView(text, error=True))
    return _end(ports, record, Phase.FAILED)


def repository_access(host: PullRequests, event: CommentEvent, need: Permission, verb: str) -> None:
    """Raise Forbidden unless the commenter's access to the repository is at least ``need``."""
    have = host.permission(event.repo, event.author)
    if not have.at_least(need):
        raise errors.Forbidden(
            f"{event.author} has {have.value} access to {event.repo.full_name}; `{verb}` needs {need.value}",
            recommendation="ask a maintainer of the repository to run it, or for write access",
        )


def run(record: JobRecord, ports: JobPorts, reporter: Reporter) -> Phase:
    event = CommentEvent.from_json(record.event)
    host = pull_requests(ports.git.host(event.repo.provider))
    try:
        current = reread(host, event, received_at=record.created_at, max_age=ports.git.comment_max_age)
    except CommentChanged as changed:
        audit_refusal(ports.audit, record, changed.message)
        return _refuse(ports, record, reporter, changed.user_text())
    if current is None:
        return _end(ports, record, Phase.CANCELED)
    if ports.jobs.get(record.job_id, "done:acknowledged") != "1":
        host.acknowledge(event.repo, event.number, CommentRef(event.comment_id, event.thread_id))
        ports.jobs.put(record.job_id, "done:acknowledged", "1")
    try:
        command = decode(record.command)
    except errors.Forbidden as unreadable:
        audit_refusal(ports.audit, record, unreadable.message)
        return _refuse(ports, record, reporter, unreadable.user_text())
    if isinstance(command, Reply):
        reporter.private(TextView(command.text, error=command.error))
        return _end(ports, record, Phase.FAILED if command.error else Phase.SUCCEEDED)
    if isinstance(command, (Watch, Unwatch, WatchList, WatchClusters, UnwatchClusters)):
        return _refuse(
            ports, record, reporter, f"`/flux {command.verb}` subscribes a Slack channel: run it in Slack, not here."
        )
    if isinstance(command, (PlanFleet, ApplyFleet)):
        kind = "plan" if isinstance(command, PlanFleet) else "apply"
        return fleet_jobs.run(replace(record, kind=kind), ports, reporter)
    try:
        decision = Decision.from_json(record.decision)
        if not decision.allowed:
            raise errors.Forbidden(decision.reason, recommendation=decision.recommendation)
        if not is_decided(record.command, decision):
            raise errors.Forbidden(
                "the job's command is not the one that was authorized, so it is not run",
                recommendation="send the command again",
            )
        if isinstance(command, (ConfirmJob, ApproveJob, CancelJob)):
            return _answer_staged(record, ports, reporter, host, current, command)
        repository_access(host, current, Permission.WRITE if command.mutates else Permission.READ, command.verb)
    except errors.FluxopsError as error:
        if error.retryable:
            raise
        if isinstance(error, errors.Forbidden):
            audit_refusal(ports.audit, record, error.message)
        return _refuse(ports, record, reporter, error.user_text())
    return run_job(record, ports, reporter)


def _answer_staged(
    record: JobRecord,
    ports: JobPorts,
    reporter: Reporter,
    host: PullRequests,
    event: CommentEvent,
    command: ConfirmJob | ApproveJob | CancelJob,
) -> Phase:
    """`/flux confirm JOB DIGEST`, `/flux approve JOB DIGEST`, `/flux cancel JOB`: only for a job staged on this
    pull request, by someone who may run the staged command on its decided cluster (an approver: someone
    other than the one who asked); the staged command is never parsed again."""
    job_id = command.job_id
    try:
        staged = ports.jobs.load(job_id)
    except errors.NotFound:
        return _refuse(ports, record, reporter, f"There is no job {job_id} (jobs are kept 30 days).")
    if staged.platform != record.platform or staged.channel != record.channel:
        return _refuse(ports, record, reporter, f"Job {job_id} was not started on this pull request.")
    decision = Decision.from_json(staged.decision)
    if isinstance(command, (ConfirmJob, ApproveJob)) and command.digest != short(decision.command_digest):
        wanted = f"/flux {command.verb} {job_id} {short(decision.command_digest)}"
        raise errors.Forbidden(
            f"`/flux {command.verb}` must name the digest of the command it {command.verb}s: job {job_id} is "
            f"`/flux {decision.text}`",
            recommendation=f"if that is what you mean, reply `{wanted}`",
        )
    if isinstance(command, ApproveJob) and event.author.casefold() == staged.actor.casefold():
        raise errors.Forbidden(
            f"{event.author} asked for job {job_id}: an approval must come from someone else",
            recommendation="ask a teammate with the same role to reply "
            f"`/flux approve {job_id} {short(decision.command_digest)}`",
        )
    repository_access(host, event, Permission.WRITE, command.verb)
    confirmer = Identity(decision.platform, event.author)
    where = ports.clusters.resolve(ClusterTarget(decision.target_id)) if decision.target_id else None
    needed = Role(decision.role)
    if where is not None:
        ports.policy.require(confirmer, needed, where.cluster, where.alias, decision.verb)
    else:
        have = ports.policy.role_anywhere(confirmer)
        if have is None or have.rank < needed.rank:
            raise errors.Forbidden(f"{event.author} may not confirm `{decision.verb}`: it needs {needed.value}")
    if isinstance(command, ApproveJob):
        counted = ports.staged.approve(job_id, event.author, decision.command_digest)
        if counted <= 0:
            phase = ports.jobs.get(job_id, "phase") or "unknown"
            return _refuse(ports, record, reporter, f"Job {job_id} is not waiting for approvals ({phase}).")
        left = decision.approvals_required - counted
        more = f"{left} more needed" if left > 0 else f"reply `/flux confirm {job_id} {command.digest}` to run it"
        reporter.private(TextView(f"Approved by {event.author} ({counted} of {decision.approvals_required}): {more}."))
        return _end(ports, record, Phase.SUCCEEDED)
    if isinstance(command, ConfirmJob):
        outcome = ports.staged.confirm(job_id, event.author, decision.command_digest)
        if outcome is Confirmation.NEEDS_APPROVALS:
            raise errors.Forbidden(
                approvals_missing(decision, job_id),
                recommendation=f"ask a teammate to reply `/flux approve {job_id} {command.digest}`",
            )
        if not outcome:
            phase = ports.jobs.get(job_id, "phase") or "unknown"
            return _refuse(ports, record, reporter, f"Job {job_id} is not waiting for confirmation ({phase}).")
        reporter.private(TextView(f"Confirmed by {event.author}: job {job_id} runs now; its comment shows progress."))
        return _end(ports, record, Phase.SUCCEEDED)
    if not ports.staged.cancel(job_id):
        phase = ports.jobs.get(job_id, "phase") or "unknown"
        return _refuse(ports, record, reporter, f"Job {job_id} is not waiting for confirmation ({phase}).")
    reporter.private(TextView(f"Canceled by {event.author}: job {job_id} changed nothing."))
    return _end(ports, record, Phase.SUCCEEDED)
