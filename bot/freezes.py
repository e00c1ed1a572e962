"""The freeze check: a command that changes clusters (``gated``) is refused while one of them is closed to changes
(a freeze, or outside its deployment windows: bot/change_calendar.py), with the reason and when it opens again;
``--break-glass "REASON"`` from someone who is an admin on every cluster it changes runs it all the same (the
caller audits and announces it). Intake runs ``check_change`` when it decides, the worker again when the job runs,
until the job starts changing something (a started change runs to its end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot import errors
from bot.change_calendar import Closed
from bot.commands import (
    ApplyFleet,
    Command,
    FleetApply,
    FleetCancel,
    FleetExtensionUpdate,
    FleetResume,
    KeyRotate,
    Role,
    Unlock,
)
from bot.models import Cluster
from bot.policy import Identity, Policy

_BREAK_GLASS = 'an admin may override it with `--break-glass "REASON"` (audited and announced)'
#: commands that change clusters but are never stopped by a freeze: stopping or unblocking work is always allowed
#: (a resumed fleet run meets the freeze at its next wave instead), and a PR's apply meets it at its wave
_NEVER_GATED = (FleetCancel, FleetResume, Unlock, ApplyFleet)


class Frozen(errors.Forbidden):
    """A change refused because its cluster is in a freeze or outside its deployment windows."""


@dataclass(frozen=True)
class Target:
    """A cluster a command changes: as the policy matches it, and as messages name it."""

    cluster: Cluster
    alias: str | None
    label: str


def target(cluster: Cluster, alias: str | None) -> Target:
    return Target(cluster, alias, alias or cluster.ref.name)


#: commands that change clusters they do not name: a fleet run (checked at each wave), a key rotation (a key or
#: credential switches on every cluster using it, whatever names it: checked before its first change,
#: bot.usecases.rotation_freezes)
_GATED_UNNAMED = (FleetApply, FleetExtensionUpdate, KeyRotate)


def gated(command: Command) -> bool:
    """Whether a freeze stops ``command``: it changes a cluster it names, a fleet of them, or every cluster using
    the key it rotates."""
    if not command.mutates or isinstance(command, _NEVER_GATED):
        return False
    return command.cluster_target is not None or isinstance(command, _GATED_UNNAMED)


def break_glass_allowed(policy: Policy, identity: Identity, targets: Sequence[Target], verb: str) -> None:
    """Raise Forbidden unless ``identity`` is an admin on every target: only admins may break the glass, and only
    where it is announced (an override nobody hears of is not one the policy allows)."""
    if not policy.channel:
        raise errors.Forbidden(
            "`--break-glass` is announced in the policy channel, and the policy names none (`policy_channel`)",
            recommendation="ask a fluxops admin to set `policy_channel` in FLUXOPS_CONFIG, or wait until the freeze "
            "ends (`/flux freezes`)",
        )
    for target in targets:
        try:
            policy.require(identity, Role.ADMIN, target.cluster, target.alias, f"{verb} --break-glass")
        except errors.Forbidden as refusal:
            raise errors.Forbidden(
                f"`--break-glass` is for admins: {refusal.message}",
                recommendation="ask a fluxops admin to run it, or wait until the freeze ends (`/flux freezes`)",
            ) from None


def check_change(
    policy: Policy, identity: Identity, command: Command, targets: Sequence[Target], now: datetime
) -> list[tuple[Target, Closed]]:
    """What ``command`` would override on ``targets`` at ``now``; raises Frozen when one is closed and the command
    carries no break-glass, Forbidden when it carries one from someone who is not an admin on every target."""
    if command.break_glass:
        break_glass_allowed(policy, identity, targets, command.verb)
    if not gated(command):
        return []
    closed = [(t, c) for t in targets if (c := policy.calendar.closed(t.cluster, t.alias, now)) is not None]
    if closed and not command.break_glass:
        raise refusal(command.verb, closed)
    return closed


def refusal(verb: str, closed: Sequence[tuple[Target, Closed]]) -> Frozen:
    """The refusal of ``verb`` on closed clusters: which, why and until when (at most three named)."""
    named = [f"{t.label} is {c.text()}" for t, c in closed[:3]]
    more = f" (and {len(closed) - 3} more cluster(s))" if len(closed) > 3 else ""
    return Frozen(
        f"`{verb}` was not run: {'; '.join(named)}{more}",
        recommendation=f"send it again once it ends (`/flux freezes` lists them), or {_BREAK_GLASS}",
    )
