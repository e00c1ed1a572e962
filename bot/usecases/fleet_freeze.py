"""A fleet run meets change freezes at its wave boundaries: a wave whose clusters are closed to changes (a freeze,
or outside their deployment windows) does not start; the run halts paused, with the reason and when it ends, and
`/flux fleet resume RUN` carries on once it has (bot.rollout.engine asks ``gate`` before each wave).

``--break-glass "REASON"`` overrides it: given on the run's own command (intake checked that its author is an
admin on every matched cluster), or on `fleet resume` (saved in the run's record with who gave it). Either breaks
only the freeze it was given for: a resume's, the closures of the run's clusters when it was given; the run's own,
the closures of the first wave it carried through. A later freeze (another reason, another end) pauses the run
again. Whoever broke the glass must still be an admin on every closed cluster of the wave when it starts (a role
revoked since stops it, as for one-cluster commands). Each override is announced in the policy channel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import errors
from bot.change_calendar import Closed, now_utc
from bot.freezes import Target as Closable
from bot.freezes import break_glass_allowed, refusal
from bot.policy import Identity
from bot.rollout.engine import Gate
from bot.rollout.plan import Target
from bot.usecases import break_glass
from bot.usecases.context import Job, JobPorts, ResolvedCluster

#: the run's record: the break-glass of a `fleet resume --break-glass` (a ``Glass`` as JSON)
RESUMED_WITH = "run:break-glass"
#: the run's record: the closures its own command's break-glass was first used on (JSON list of ``_key``)
OWN_GLASS_OVER = "run:break-glass:own"


def _key(closed: Closed) -> str:
    """One closure, as a break-glass is bound to it: which freeze or windows, and when it ends."""
    return json.dumps([closed.kind, closed.reason, closed.until.isoformat() if closed.until else ""])


@dataclass(frozen=True)
class Glass:
    """A break-glass on a fleet run: ``by`` whom (``platform:user``; "" for the run's author), why, and the
    closures it overrides (none yet: the run's own, until first used)."""

    by: str
    reason: str
    over: frozenset[str]

    def to_json(self) -> str:
        return json.dumps({"by": self.by, "reason": self.reason, "over": sorted(self.over)})

    @classmethod
    def from_json(cls, text: str | None) -> Glass | None:
        """The saved glass; None when there is none, or it is not one fluxops wrote."""
        try:
            data = json.loads(text or "")
            return cls(str(data["by"]), str(data["reason"]), frozenset(str(k) for k in data["over"]))
        except (ValueError, TypeError, KeyError):
            return None


def _closures(ports: JobPorts, places: Sequence[Closable]) -> list[tuple[Closable, Closed]]:
    now = now_utc(ports.pace.wall_clock())
    calendar = ports.policy.calendar
    return [(p, c) for p in places if (c := calendar.closed(p.cluster, p.alias, now)) is not None]


def save_resume_glass(job: Job, run_id: str, reason: str, clusters: Sequence[ResolvedCluster]) -> bool:
    """`fleet resume RUN --break-glass REASON`: the run carries on through the freezes closing its ``clusters``
    now, in the resumer's name. False (nothing saved) when none is closed: there is nothing to break."""
    shut = _closures(job.ports, [Closable(w.cluster, w.alias, w.label) for w in clusters])
    if not shut:
        return False
    glass = Glass(job.record.actor_id, reason, frozenset(_key(c) for _, c in shut))
    job.ports.jobs.put(run_id, RESUMED_WITH, glass.to_json())
    return True


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
        shut = _closures(job.ports, places)
        if not shut:
            return ""
        keys = frozenset(_key(c) for _, c in shut)
        for glass, identity in _glasses(job, reason):
            if glass.over and not keys <= glass.over:
                continue  # given for another freeze
            try:
                break_glass_allowed(job.ports.policy, identity, [p for p, _ in shut], "fleet run")
            except errors.Forbidden:
                continue  # no longer an admin there
            if not glass.over:  # the run's own, first used here: bound to what it overrides now
                job.ports.jobs.put(job.job_id, OWN_GLASS_OVER, json.dumps(sorted(keys)))
            break_glass.announce(job, glass.reason, [p for p, _ in shut], title, by=glass.by)
            return ""
        return refusal("fleet run", shut).message.removeprefix("`fleet run` was not run: ")

    return closed


def _glasses(job: Job, reason: str) -> list[tuple[Glass, Identity]]:
    """The break-glasses the run carries, with whom each is checked as: its own command's (bound once used), then
    a resume's."""
    found: list[tuple[Glass, Identity]] = []
    identity = job.identity
    if reason and identity is not None:
        try:
            over = frozenset(json.loads(job.ports.jobs.get(job.job_id, OWN_GLASS_OVER) or "[]"))
        except (ValueError, TypeError):
            over = frozenset({"unreadable"})  # binds it to nothing
        found.append((Glass("", reason, over), identity))  # by "": the one who started the run
    resumed = Glass.from_json(job.ports.jobs.get(job.job_id, RESUMED_WITH))
    platform, _, user = resumed.by.partition(":") if resumed is not None else ("", "", "")
    if resumed is not None and resumed.over and user.strip():
        found.append((resumed, Identity(platform, user)))
    return found
