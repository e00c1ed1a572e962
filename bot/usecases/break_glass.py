"""A change run with ``--break-glass "REASON"``: announced in the policy channel when it starts (what, where, by whom,
why, and which freeze it overrides), and named in its audit entry. Intake and the worker already checked that the
person is an admin on every cluster it changes (bot.freezes)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.change_calendar import now_utc
from bot.commands import Command
from bot.freezes import Target
from bot.grammar.freeze_commands import MAX_REASON
from bot.redact import redact
from bot.usecases.context import Job
from bot.views import JobView, Phase, mention


def _who(job: Job, by: str) -> str:
    platform, _, user = (by or job.record.actor_id).partition(":")
    return mention(user) if platform == "slack" else f"{platform}:{user}"


def shown(reason: str) -> str:
    """A break-glass reason as audit and the policy channel keep it: secrets masked (people paste tokens into
    anything), at most ``MAX_REASON`` characters (the grammar's cap, kept here for records written otherwise)."""
    return redact(reason)[:MAX_REASON]


def audit_note(command: Command) -> str:
    """What the audit entry's result adds: `` (break-glass: REASON)``; "" without break-glass."""
    return f" (break-glass: {shown(command.break_glass)})" if command.break_glass else ""


def overridden(job: Job, targets: Sequence[Target]) -> list[str]:
    """``demo-arc: frozen until …: reason`` for each target closed to changes now."""
    now = now_utc(job.ports.pace.wall_clock())
    calendar = job.ports.policy.calendar
    return [f"{t.label}: {closed.text()}" for t in targets if (closed := calendar.closed(t.cluster, t.alias, now))]


def announce(job: Job, reason: str, targets: Sequence[Target], title: str, *, by: str = "") -> None:
    """Post (or update) the break-glass message in the policy's channel; nothing when it names none. ``by``: who
    broke the glass when it is not the one who started the job (``platform:user``, a fleet run's resume)."""
    channel = job.ports.policy.channel
    make = job.ports.chat.channel_reporter
    if not reason or not channel or make is None:
        return
    closed = overridden(job, targets)
    what = "; ".join(closed[:5]) + (f" and {len(closed) - 5} more" if len(closed) > 5 else "")
    override = f"It overrides: {what}." if closed else "No freeze or window was closing its clusters when it started."
    note = (
        f"Break-glass: {_who(job, by)} runs `/flux {redact(job.record.text)}` (job {job.job_id}).\n"
        f"Reason: {shown(reason)}\n{override}"
    )
    view = JobView(
        job_id=job.job_id, actor=job.record.actor, title=f"break-glass: {title}", phase=Phase.RUNNING, note=note
    )
    make(job.record, channel).show(view)
