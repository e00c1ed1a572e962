"""`/flux` commands typed in a pull-request comment (GitHub or Azure DevOps).

The web process only verified the delivery and stored the comment; here the worker

1. re-reads the comment from the Git host (Azure DevOps sends no signature, and a GitHub comment may
   have been edited or deleted since): the author and text that count are the host's, not the payload's;
2. acknowledges it (a reaction on GitHub, a like on Azure DevOps);
3. authorizes the commenter — never the pull request's author — by their access to the repository
   (read for reads, write for changes) and by the policy's ``github_users`` / ``ado_users`` roles;
4. runs the command like a Slack one, answering in one reply comment edited as the job moves.

Destructive commands stop at a confirmation; PRs have no buttons, so the same person (or anyone the
policy allows) replies `/flux confirm <job>` or `/flux cancel <job>` on the same pull request.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import errors
from bot.commands import (
    ApplyFleet,
    CancelJob,
    Command,
    ConfirmJob,
    PlanFleet,
    Reply,
    Run,
    Unwatch,
    Watch,
    WatchList,
)
from bot.git_host import CommentRef, Permission
from bot.gitevents import CommentEvent
from bot.grammar import parse
from bot.jobs import JobRecord
from bot.ports import GitHost, Reporter
from bot.usecases import fleet_jobs
from bot.usecases.comments import identity_of, reread
from bot.usecases.context import JobPorts
from bot.usecases.executor import run_job
from bot.views import Phase, TextView

log = logging.getLogger(__name__)


def _end(ports: JobPorts, record: JobRecord, phase: Phase) -> Phase:
    ports.jobs.put(record.job_id, "phase", phase.value)
    return phase


def _refuse(ports: JobPorts, record: JobRecord, reporter: Reporter, text: str) -> Phase:
    reporter.private(TextView(text, error=True))
    return _end(ports, record, Phase.FAILED)


def authorize(ports: JobPorts, host: GitHost, event: CommentEvent, command: Command) -> str:
    """Raise Forbidden unless the commenter may run ``command``; returns the cluster's label ("" if none)."""
    need = Permission.WRITE if command.mutates else Permission.READ
    have = host.permission(event.repo, event.author)
    if not have.at_least(need):
        raise errors.Forbidden(
            f"{event.author} has {have.value} access to {event.repo.full_name}; `{command.verb}` needs {need.value}",
            recommendation="ask a maintainer of the repository to run it, or for write access",
        )
    target = command.cluster_target
    identity = identity_of(event)
    if target is None:
        ports.policy.authorize(identity, command, None)
        return ""
    where = ports.resolve(target)
    ports.policy.authorize(identity, command, where.cluster, where.alias)
    return where.label


def run(record: JobRecord, ports: JobPorts, reporter: Reporter) -> Phase:
    event = CommentEvent.from_json(record.event)
    host = ports.git_host(event.repo.provider)
    current = reread(host, event)
    if current is None:
        return _end(ports, record, Phase.CANCELED)
    if ports.jobs.get(record.job_id, "done:acknowledged") != "1":
        host.acknowledge(event.repo, event.number, CommentRef(event.comment_id, event.thread_id))
        ports.jobs.put(record.job_id, "done:acknowledged", "1")
    parsed = parse(current.body, comment=True)
    if isinstance(parsed, Reply):
        reporter.private(TextView(parsed.text, error=parsed.error))
        return _end(ports, record, Phase.FAILED if parsed.error else Phase.SUCCEEDED)
    if not isinstance(parsed, Run):
        return _end(ports, record, Phase.CANCELED)  # edited so that it no longer addresses fluxops
    command = parsed.command
    if isinstance(command, (Watch, Unwatch, WatchList)):
        return _refuse(
            ports, record, reporter, f"`/flux {command.verb}` subscribes a Slack channel: run it in Slack, not here."
        )
    if isinstance(command, (PlanFleet, ApplyFleet)):
        kind = "plan" if isinstance(command, PlanFleet) else "apply"
        return fleet_jobs.run(replace(record, kind=kind), ports, reporter)
    try:
        if isinstance(command, (ConfirmJob, CancelJob)):
            return _answer_staged(record, ports, reporter, host, current, command)
        authorize(ports, host, current, command)
    except errors.FluxopsError as error:
        if error.retryable:
            raise
        return _refuse(ports, record, reporter, error.user_text())
    line = current.body.strip().splitlines()[0].strip()[len("/flux") :].strip()
    return run_job(replace(record, text=line, actor=current.author), ports, reporter)


def _answer_staged(
    record: JobRecord,
    ports: JobPorts,
    reporter: Reporter,
    host: GitHost,
    event: CommentEvent,
    command: ConfirmJob | CancelJob,
) -> Phase:
    """`/flux confirm JOB` / `/flux cancel JOB`: only for a job staged on this pull request."""
    job_id = command.job_id
    try:
        staged = ports.jobs.load(job_id)
    except errors.NotFound:
        return _refuse(ports, record, reporter, f"There is no job {job_id} (jobs are kept 30 days).")
    if staged.platform != record.platform or staged.channel != record.channel:
        return _refuse(ports, record, reporter, f"Job {job_id} was not started on this pull request.")
    parsed = parse(staged.text)
    if not isinstance(parsed, Run):
        return _refuse(ports, record, reporter, f"Job {job_id} cannot be confirmed any more.")
    authorize(ports, host, event, parsed.command)
    if isinstance(command, ConfirmJob):
        if not ports.confirm_staged(job_id, event.author):
            phase = ports.jobs.get(job_id, "phase") or "unknown"
            return _refuse(ports, record, reporter, f"Job {job_id} is not waiting for confirmation ({phase}).")
        reporter.private(TextView(f"Confirmed by {event.author}: job {job_id} runs now; its comment shows progress."))
        return _end(ports, record, Phase.SUCCEEDED)
    if not ports.cancel_staged(job_id):
        phase = ports.jobs.get(job_id, "phase") or "unknown"
        return _refuse(ports, record, reporter, f"Job {job_id} is not waiting for confirmation ({phase}).")
    reporter.private(TextView(f"Canceled by {event.author}: job {job_id} changed nothing."))
    return _end(ports, record, Phase.SUCCEEDED)
