"""A fleet run meets change freezes at its wave boundaries: a wave whose clusters are closed to changes (a freeze,
or outside their deployment windows) does not start; the run halts paused, with the reason and when it ends, and
`/flux fleet resume RUN` carries on once it has (bot.rollout.engine asks ``gate`` before each wave).

``--break-glass "REASON"`` overrides it: given on the run's own command (intake checked that its author is an
admin on every matched cluster), or on `fleet resume` (saved in the run's record with who gave it: that person must
be an admin on every closed cluster of the wave, checked again here). Either is announced in the policy channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot import errors
from bot.change_calendar import now_utc
from bot.freezes import Target as Closable
from bot.freezes import break_glass_allowed, refusal
from bot.policy import Identity
from bot.rollout.engine import Gate
from bot.rollout.plan import Target
from bot.usecases import break_glass
from bot.usecases.context import Job, JobPorts, ResolvedCluster

#: the run's record: ``platform:user reason`` of a `fleet resume --break-glass`
RESUMED_WITH = "run:break-glass"


def save_resume_glass(job: Job, run_id: str, reason: str) -> None:
    """`fleet resume RUN --break-glass REASON`: the run carries on through freezes, in the resumer's name."""
    job.ports.jobs.put(run_id, RESUMED_WITH, f"{job.record.actor_id} {reason}")


def closed_now(ports: JobPorts, places: Mapping[str, ResolvedCluster], keys: Sequence[str]) -> list[str]:
    """``prod-weu is frozen until …: reason`` for each of ``keys`` (resolved in ``places``) closed to changes now:
    what a fleet pull request's plan shows (its apply pauses before those clusters' wave)."""
    now = now_utc(ports.pace.wall_clock())
    lines = []
    for key in keys:
        where = places.get(key)
        closed = None if where is None else ports.policy.calendar.closed(where.cluster, where.alias, now)
        if where is not None and closed is not None:
            lines.append(f"{where.label} is {closed.text()}")
    return lines


def gate(job: Job, reason: str, title: str) -> Gate:
    """The run's gate: ``reason`` is its own command's break-glass ("" when none)."""

    def closed(wave: Sequence[Target]) -> str:
        calendar = job.ports.policy.calendar
        if not calendar.freezes and not calendar.windows:
            return ""
        known = {w.cluster.ref.arm_id.lower(): w for w in job.ports.clusters.all()}
        places = [
            Closable(where.cluster, where.alias, t.label)
            for t in wave
            if (where := known.get(t.cluster.arm_id.lower())) is not None
        ]
        now = now_utc(job.ports.pace.wall_clock())
        shut = [(p, c) for p in places if (c := calendar.closed(p.cluster, p.alias, now)) is not None]
        if not shut:
            return ""
        glass, by = reason, ""
        saved = job.ports.jobs.get(job.job_id, RESUMED_WITH) or ""
        if not glass and saved:
            by, _, glass = saved.partition(" ")
            platform, _, user = by.partition(":")
            try:
                break_glass_allowed(job.ports.policy, Identity(platform, user), [p for p, _ in shut], "fleet resume")
            except (errors.Forbidden, ValueError):
                glass = ""
        if glass:
            break_glass.announce(job, glass, [p for p, _ in shut], title, by=by)
            return ""
        return refusal("fleet run", shut).message.removeprefix("`fleet run` was not run: ")

    return closed
