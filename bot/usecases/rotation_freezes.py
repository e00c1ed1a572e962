"""A key or credential rotation meets change freezes before its first change.

Whatever names a rotation (``-c`` names one cluster; ``--repo``, ``--key`` and ``--https-key-ref`` name none, and
a key named through one cluster may be shared with others), it switches configurations on every cluster using
the key: each must be open to changes (bot.freezes), or the command carries ``--break-glass`` from an admin on
all of them (announced in the policy channel over all of them). A scheduled rotation (beat) has nobody to break
the glass: it is postponed, said in its message, and beat starts it again at its next daily check. A rotation
that has begun (its new key registered, a switch asked for: ``Job.change_started``) runs to its end.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import errors
from bot.change_calendar import now_utc
from bot.commands import ClusterTarget, KeyRotate
from bot.freezes import Target, check_change, refusal, target
from bot.jobs import SCHEDULE
from bot.key_records import KeyUser
from bot.usecases import break_glass
from bot.usecases.context import Job
from bot.usecases.key_switching import asker


class Postponed(Exception):
    """A scheduled rotation met a freeze on a cluster using its key; ``str()`` says which and until when."""


def check_rotation(job: Job, command: KeyRotate, users: Sequence[KeyUser], title: str) -> None:
    """Before a rotation's first change: raise Frozen (a person's rotation; Forbidden for a break-glass from
    someone who is not an admin on every cluster) or Postponed (a scheduled one) while a cluster using the key is
    closed to changes; announce a break-glass that overrides it."""
    if job.change_started:
        return
    targets = _targets(job, users)
    now = now_utc(job.ports.pace.wall_clock())
    if job.record.platform == SCHEDULE:
        calendar = job.ports.policy.calendar
        closed = [(t, c) for t in targets if (c := calendar.closed(t.cluster, t.alias, now)) is not None]
        if closed:
            raise Postponed(refusal(command.verb, closed).message)
        return
    check_change(job.ports.policy, asker(job), command, targets, now)
    if command.break_glass:
        break_glass.announce(job, command.break_glass, targets, title)


def _targets(job: Job, users: Sequence[KeyUser]) -> list[Target]:
    """The clusters of ``users``, once each; one gone from the inventory is left out (its switch fails anyway)."""
    found: dict[str, Target] = {}
    for user in users:
        if user.cluster_id.lower() in found:
            continue
        try:
            where = job.ports.clusters.resolve(ClusterTarget(user.cluster_id))
        except errors.NotFound:
            continue
        found[user.cluster_id.lower()] = target(where.cluster, where.alias)
    return list(found.values())
